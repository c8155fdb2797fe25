//! The developer tools against real requests: Genkit's reflection API on 127.0.0.1 (actions,
//! runAction plain and streaming, errors, cancel, health, values), the trace API it mounts,
//! and the runtime file the Genkit CLI discovers it by.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::{DropSignal, header, within};
use genflow_runtime::devtools::{DevServer, DevTools};
use genflow_runtime::prelude::*;
use genflow_runtime::telemetry::{Telemetry, TelemetryHandle};
use serde_json::{Value, json};

/// Greets someone.
#[flow]
async fn greet(name: String) -> Result<String, FlowError> {
    Ok(format!("Hello, {name}!"))
}

/// Counts up to `n`, one chunk per number.
#[flow(stream = u32)]
async fn count(ctx: &FlowContext<u32>, n: u32) -> Result<u32, FlowError> {
    for i in 1..=n {
        ctx.send_chunk(i).await?;
    }
    Ok(n)
}

/// The auth context the caller gave.
#[flow]
async fn whoami(ctx: &FlowContext, _: ()) -> Result<Value, FlowError> {
    Ok(ctx.auth::<Value>().cloned().unwrap_or(Value::Null))
}

/// Fails with an internal error.
#[flow]
async fn broken(_: ()) -> Result<(), FlowError> {
    Err(FlowError::internal("the database is on fire"))
}

static SLOW_DROPPED: OnceLock<tokio::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>> =
    OnceLock::new();

/// Waits until it is cancelled.
#[flow]
async fn slow(_: ()) -> Result<(), FlowError> {
    let signal = SLOW_DROPPED
        .get_or_init(Default::default)
        .lock()
        .await
        .take();
    let _dropped = DropSignal(signal);
    std::future::pending().await
}

/// Adds two numbers.
#[tool]
async fn add(a: i64, b: i64) -> Result<i64, ToolError> {
    Ok(a + b)
}

/// One telemetry for the whole test binary: its span layer is the process's subscriber.
fn telemetry() -> TelemetryHandle {
    static TELEMETRY: OnceLock<TelemetryHandle> = OnceLock::new();
    TELEMETRY
        .get_or_init(|| {
            Telemetry::new()
                .trace_store(100)
                .init()
                .expect("telemetry installs")
        })
        .clone()
}

/// A fresh project directory for one test's runtime file.
fn project(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("genflow-devtools-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("project dir");
    dir
}

async fn start(test: &str) -> (DevTools, PathBuf) {
    let registry = Registry::builder()
        .telemetry(telemetry())
        .build()
        .expect("registry");
    let root = project(test);
    let dev = DevServer::new(registry)
        .port(0)
        .project_root(&root)
        .runtime_id(format!("test-{test}"))
        .start()
        .await
        .expect("dev server starts");
    (dev, root)
}

/// Stops the dev server and removes its project directory.
async fn finish(dev: DevTools, root: PathBuf) {
    dev.stop().await;
    std::fs::remove_dir_all(root).expect("clean up");
}

/// Runs `body` plainly and returns the one JSON document of the answer.
async fn run(dev: &DevTools, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{}/api/runAction", dev.url()))
        .json(&body)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("one JSON document")
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_every_action_with_its_schemas() {
    let (dev, root) = start("actions").await;
    let actions: Value = reqwest::get(format!("{}/api/actions", dev.url()))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let greet = &actions["/flow/greet"];
    assert_eq!(greet["key"], "/flow/greet");
    assert_eq!(greet["name"], "greet");
    assert_eq!(greet["description"], "Greets someone.");
    assert_eq!(greet["inputSchema"]["type"], "string");
    assert_eq!(greet["outputSchema"]["type"], "string");
    assert!(greet.get("streamSchema").is_none());
    assert_eq!(actions["/flow/count"]["streamSchema"]["type"], "integer");
    assert_eq!(actions["/flow/count"]["metadata"]["streaming"], true);
    let add = &actions["/tool/add"];
    assert_eq!(add["type"], "tool");
    assert_eq!(add["inputSchema"]["required"], json!(["a", "b"]));
    finish(dev, root).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_an_action_with_trace_headers_and_its_trace() {
    let (dev, root) = start("plain").await;
    let response = reqwest::Client::new()
        .post(format!("{}/api/runAction", dev.url()))
        .json(&json!({"key": "/flow/greet", "input": "Ada"}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let trace_id = header(&response, "x-genkit-trace-id");
    assert_eq!(trace_id.len(), 32);
    assert_eq!(header(&response, "x-genkit-span-id").len(), 16);
    assert!(header(&response, "x-genkit-version").starts_with("rust/"));
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body,
        json!({"result": "Hello, Ada!", "telemetry": {"traceId": trace_id}})
    );

    let trace: Value = reqwest::get(format!("{}/api/traces/{trace_id}", dev.url()))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(trace["displayName"], "greet");

    let tool = run(&dev, json!({"key": "/tool/add", "input": {"a": 2, "b": 3}})).await;
    assert_eq!(tool["result"], 5);
    finish(dev, root).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_one_chunk_per_line_then_the_result() {
    let (dev, root) = start("stream").await;
    let response = reqwest::Client::new()
        .post(format!("{}/api/runAction?stream=true", dev.url()))
        .json(&json!({"key": "/flow/count", "input": 3}))
        .send()
        .await
        .expect("send");
    let trace_id = header(&response, "x-genkit-trace-id");
    let text = response.text().await.expect("body");
    assert!(
        !text.ends_with('\n'),
        "the CLI parses what follows the last newline: {text:?}"
    );
    let lines: Vec<Value> = text
        .split('\n')
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(
        lines,
        [
            json!(1),
            json!(2),
            json!(3),
            json!({"result": 3, "telemetry": {"traceId": trace_id}})
        ]
    );
    finish(dev, root).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_take_genkits_shape() {
    let (dev, root) = start("errors").await;
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{}/api/runAction", dev.url()))
        .json(&json!({"key": "/flow/greet", "input": 7}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        response.status(),
        200,
        "headers went out before the run failed"
    );
    let trace_id = header(&response, "x-genkit-trace-id");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["code"], 3, "{body}");
    assert_eq!(body["error"]["details"]["traceId"], trace_id.as_str());
    assert_eq!(body["error"]["details"]["errors"][0]["path"], "", "{body}");

    let body = run(&dev, json!({"key": "/flow/broken", "input": null})).await;
    assert_eq!(body["error"]["code"], 13);
    assert_eq!(
        body["error"]["message"], "the database is on fire",
        "dev mode shows it"
    );
    assert!(body["error"]["details"]["stack"].is_string());

    let body = run(&dev, json!({"key": "/flow/count", "input": "x"})).await;
    assert_eq!(
        body["error"]["code"], 3,
        "a streaming flow run plainly: {body}"
    );
    let streamed = http
        .post(format!("{}/api/runAction?stream=true", dev.url()))
        .json(&json!({"key": "/flow/count", "input": "x"}))
        .send()
        .await
        .expect("send");
    assert_eq!(
        streamed.status(),
        200,
        "streamed, invalid input is the stream's result"
    );
    let trace_id = header(&streamed, "x-genkit-trace-id");
    let body: Value = streamed.json().await.expect("json");
    assert_eq!(body["error"]["code"], 3, "{body}");
    assert_eq!(body["error"]["details"]["traceId"], trace_id.as_str());

    let missing = http
        .post(format!("{}/api/runAction", dev.url()))
        .json(&json!({"key": "/flow/nope", "input": 1}))
        .send()
        .await
        .expect("send");
    assert_eq!(missing.status(), 404);
    let body: Value = missing.json().await.expect("json");
    assert_eq!(body["error"]["code"], 5);

    let bad = http
        .post(format!("{}/api/runAction", dev.url()))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("send");
    assert_eq!(bad.status(), 400);
    finish(dev, root).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_context_is_the_auth_context() {
    let (dev, root) = start("context").await;
    let context = json!({"auth": {"uid": "ada"}});
    let body = run(
        &dev,
        json!({"key": "/flow/whoami", "input": null, "context": context}),
    )
    .await;
    assert_eq!(body["result"], context);
    let body = run(&dev, json!({"key": "/flow/whoami", "input": null})).await;
    assert_eq!(body["result"], Value::Null);
    finish(dev, root).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_action_ends_the_run_by_trace_id() {
    let (dev, root) = start("cancel").await;
    let (tx, dropped) = tokio::sync::oneshot::channel();
    *SLOW_DROPPED.get_or_init(Default::default).lock().await = Some(tx);
    let http = reqwest::Client::new();
    // The headers arrive while the flow still runs.
    let response = within(
        http.post(format!("{}/api/runAction", dev.url()))
            .json(&json!({"key": "/flow/slow", "input": null}))
            .send(),
    )
    .await
    .expect("send");
    let trace_id = header(&response, "x-genkit-trace-id");
    let cancel = |trace_id: String| {
        let http = http.clone();
        let url = format!("{}/api/cancelAction", dev.url());
        async move {
            http.post(url)
                .json(&json!({ "traceId": trace_id }))
                .send()
                .await
                .expect("send")
        }
    };
    let cancelled = cancel(trace_id.clone()).await;
    assert_eq!(cancelled.status(), 200);
    let body: Value = cancelled.json().await.expect("json");
    assert_eq!(body["message"], "Action cancelled");
    within(dropped)
        .await
        .expect("the flow's future was dropped");
    let body: Value = within(response.json()).await.expect("json");
    assert_eq!(body["error"]["code"], 1, "{body}");
    assert_eq!(body["error"]["details"]["traceId"], trace_id.as_str());

    assert_eq!(cancel(trace_id).await.status(), 404, "already over");
    assert_eq!(cancel("0".repeat(32)).await.status(), 404);
    finish(dev, root).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn health_checks_the_runtime_id() {
    let (dev, root) = start("health").await;
    let health = |query: &str| reqwest::get(format!("{}/api/__health{query}", dev.url()));
    assert_eq!(health("").await.expect("get").status(), 200);
    assert_eq!(health("?id=test-health").await.expect("get").status(), 200);
    assert_eq!(health("?id=someone-else").await.expect("get").status(), 503);
    let values = |query: &str| reqwest::get(format!("{}/api/values{query}", dev.url()));
    let default: Value = values("?type=defaultModel")
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(default.is_object());
    assert_eq!(values("").await.expect("get").status(), 400);
    finish(dev, root).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_runtime_file_lives_while_the_server_does() {
    let (dev, root) = start("runtime-file").await;
    let path = dev.runtime_file().to_path_buf();
    assert_eq!(path.parent(), Some(root.join(".genkit/runtimes").as_path()));
    let name = path.file_name().and_then(|n| n.to_str()).expect("name");
    let port = dev.url().rsplit(':').next().expect("port");
    assert!(
        name.starts_with(&format!("{}-{port}-", std::process::id())),
        "{name}"
    );
    let info: Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    assert_eq!(info["id"], "test-runtime-file");
    assert_eq!(info["pid"], std::process::id());
    assert_eq!(info["reflectionServerUrl"], dev.url());
    assert_eq!(info["reflectionApiSpecVersion"], 1);
    assert!(
        info["genkitVersion"]
            .as_str()
            .expect("version")
            .starts_with("rust/")
    );
    let stamp = info["timestamp"].as_str().expect("timestamp");
    assert!(name.ends_with(&format!("{stamp}.json")), "{name} {stamp}");

    let url = dev.url().to_owned();
    dev.stop().await;
    assert!(!path.exists(), "deleted on stop");
    assert!(
        reqwest::get(format!("{url}/api/__health")).await.is_err(),
        "no longer serving"
    );
    std::fs::remove_dir_all(root).expect("clean up");
}
