//! The MCP client against real servers: the official Python MCP SDK's `MCPServer` (its
//! `FastMCP`), `interop/mcp-python/tools_server.py`, started as a child process over stdio and
//! over streamable HTTP on 127.0.0.1, providing tools a flow calls through a scripted model.
//!
//! The SDK lives in the venv `interop/mcp-python/run.sh` makes (`GENFLOW_MCP_VENV`, default
//! `/tmp/genflow-mcp-venv`). run.sh sets `GENFLOW_MCP_VENV` and runs this test, which then
//! requires the SDK; elsewhere, without it, the tests pass with a note.

#![cfg(all(feature = "mcp-client", feature = "models"))]

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use genflow_runtime::DynAction;
use genflow_runtime::mcp::McpClient;
use genflow_runtime::model::testing::ScriptedModel;
use genflow_runtime::model::{Models, ToolResponse};
use genflow_runtime::prelude::*;
use serde_json::{Value, json};

const SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../interop/mcp-python/tools_server.py"
);

/// Answers `question` with the model and the tools of the MCP client in the context's state.
#[flow]
async fn ask(ctx: &FlowContext, question: String) -> Result<String, FlowError> {
    let server = ctx
        .state::<McpClient>()
        .ok_or_else(|| FlowError::internal("no MCP client in the state"))?;
    let generation = ctx
        .generate()
        .tools(server.tools())
        .prompt(question)
        .run()
        .await?;
    Ok(generation.text())
}

/// The venv's Python with the MCP SDK, or `None` (with a note) when it is not installed and
/// not required.
fn python() -> Option<PathBuf> {
    let required = std::env::var_os("GENFLOW_MCP_VENV");
    let venv = PathBuf::from(
        required
            .clone()
            .unwrap_or_else(|| "/tmp/genflow-mcp-venv".into()),
    );
    let python = venv.join("bin/python");
    let usable = Command::new(&python)
        .args(["-c", "import mcp.server.mcpserver"])
        .status()
        .is_ok_and(|status| status.success());
    match (usable, required) {
        (true, _) => Some(python),
        (false, Some(_)) => panic!("GENFLOW_MCP_VENV has no Python MCP SDK: {venv:?}"),
        (false, None) => {
            eprintln!(
                "skipped: the Python MCP SDK is not in {venv:?}; interop/mcp-python/run.sh makes it"
            );
            None
        }
    }
}

/// A scripted model asking for `calls` in one turn, then answering "done", and a context
/// holding it and `client`.
fn context(client: &McpClient, calls: Vec<(&str, Value)>) -> (ScriptedModel, FlowContext) {
    let model = ScriptedModel::new("scripted")
        .tool_requests(calls)
        .text("done");
    let models = Models::new()
        .model(model.clone())
        .default_model("local/scripted");
    let ctx = FlowContext::new()
        .with_state(models)
        .with_state(client.clone());
    (model, ctx)
}

/// Runs `ask` and returns what the tools answered, as the model's second request carries it.
async fn tool_results(model: &ScriptedModel, ctx: &FlowContext) -> Vec<ToolResponse> {
    let answer = tokio::time::timeout(Duration::from_secs(60), ask(ctx, "go".to_owned()))
        .await
        .expect("the flow finishes")
        .expect("the flow succeeds whatever its tools do");
    assert_eq!(answer, "done");
    let requests = model.requests();
    requests[1]
        .messages
        .last()
        .expect("the tool results")
        .tool_responses()
        .cloned()
        .collect()
}

fn error_of(response: &ToolResponse) -> &str {
    assert!(response.is_error, "{response:?}");
    response.output["error"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_stdio_servers_tools_run_in_the_loop_and_their_errors_reach_the_model() {
    let Some(python) = python() else { return };
    let client = McpClient::stdio("py", &python.to_string_lossy(), [SERVER, "stdio"])
        .connect()
        .await
        .expect("connects");
    let mut names: Vec<&str> = client.actions().iter().map(|a| a.meta().name).collect();
    names.sort_unstable();
    assert_eq!(names, ["py_add", "py_forecast", "py_pid", "py_slow"]);

    let (model, ctx) = context(
        &client,
        vec![
            ("py_add", json!({"a": 2, "b": 3})),
            ("py_forecast", json!({"city": "Lyon"})),
            ("py_forecast", json!({"city": "Paris"})),
            ("py_add", json!({"a": "two"})),
        ],
    );
    let results = tool_results(&model, &ctx).await;
    assert_eq!(results[0].output, json!({"result": 5}), "{results:?}");
    assert_eq!(results[1].output, json!({"result": "Lyon: rain, 14 C"}));
    assert!(
        error_of(&results[2]).contains("no forecast for Paris"),
        "the server's tool error: {results:?}"
    );
    let paths: Vec<&str> = results[3].output["details"]["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|violation| violation["path"].as_str())
        .collect();
    assert!(
        error_of(&results[3]).starts_with("INVALID_ARGUMENT") && paths.contains(&"/a"),
        "checked against the server's schema: {results:?}"
    );

    // The model was offered the server's input schema as the server gave it.
    let offered = &model.requests()[0].tools;
    let add = offered
        .iter()
        .find(|t| t.name == "py_add")
        .expect("offered");
    assert_eq!(add.description, "Adds two integers.");
    let schema = serde_json::to_value(&add.input_schema).expect("JSON");
    assert_eq!(schema["properties"]["a"]["type"], "integer");
    assert_eq!(schema["required"], json!(["a", "b"]));
}

#[tokio::test]
async fn a_server_slower_than_its_timeout_fails_that_call_only() {
    let Some(python) = python() else { return };
    let client = McpClient::stdio("py", &python.to_string_lossy(), [SERVER, "stdio"])
        .timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("connects");
    let (model, ctx) = context(
        &client,
        vec![
            ("py_slow", json!({"seconds": 120})),
            ("py_add", json!({"a": 1, "b": 1})),
        ],
    );
    let started = Instant::now();
    let results = tool_results(&model, &ctx).await;
    assert!(started.elapsed() < Duration::from_secs(60));
    let error = error_of(&results[0]);
    assert!(
        error.starts_with("DEADLINE_EXCEEDED") && error.contains("did not answer within 10s"),
        "{error}"
    );
    assert_eq!(results[1].output, json!({"result": 2}));
}

#[tokio::test]
async fn a_stdio_server_that_died_is_restarted_by_the_next_call() {
    let Some(python) = python() else { return };
    let client = McpClient::stdio("py", &python.to_string_lossy(), [SERVER, "stdio"])
        .connect()
        .await
        .expect("connects");
    let first = pid_of(&client).await.expect("the server answers");
    kill(first);
    let second = pid_until_answered(&client).await;
    assert_ne!(first, second, "a new server process");
}

#[tokio::test]
async fn an_http_server_restarted_after_a_kill_is_reconnected() {
    let Some(python) = python() else { return };
    let port = free_port();
    let mut server = HttpServer::start(&python, port);
    let url = format!("http://127.0.0.1:{port}/mcp");
    let client = McpClient::http("py", &url)
        .timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("connects");
    let first = pid_of(&client).await.expect("the server answers");
    assert_eq!(first, server.pid());

    server.stop();
    let down = pid_of(&client).await.expect_err("the server is down");
    assert!(
        down.starts_with("UNAVAILABLE") || down.starts_with("DEADLINE_EXCEEDED"),
        "{down}"
    );

    let server = HttpServer::start(&python, port);
    let second = pid_until_answered(&client).await;
    assert_eq!(second, server.pid(), "the restarted server answered");
}

/// The pid the server's `pid` tool answers through a flow, or the error the model saw.
async fn pid_of(client: &McpClient) -> Result<u32, String> {
    let (model, ctx) = context(client, vec![("py_pid", json!({}))]);
    let result = tool_results(&model, &ctx).await.remove(0);
    if result.is_error {
        return Err(error_of(&result).to_owned());
    }
    result.output["result"]
        .as_u64()
        .and_then(|pid| u32::try_from(pid).ok())
        .ok_or_else(|| format!("not a pid: {}", result.output))
}

/// The pid once a call succeeds: the first call after a lost connection may fail (telling
/// the model so), and the one after it reconnects.
async fn pid_until_answered(client: &McpClient) -> u32 {
    match pid_of(client).await {
        Ok(pid) => pid,
        Err(lost) => {
            assert!(lost.contains("MCP server 'py'"), "{lost}");
            pid_of(client).await.expect("the next call reconnects")
        }
    }
}

fn kill(pid: u32) {
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// The tools server over streamable HTTP, as a child process killed when dropped.
struct HttpServer(Child);

impl HttpServer {
    fn start(python: &PathBuf, port: u16) -> Self {
        let child = Command::new(python)
            .args([SERVER, "http", &port.to_string()])
            .spawn()
            .expect("the server starts");
        let server = HttpServer(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            assert!(Instant::now() < deadline, "the server listens on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
