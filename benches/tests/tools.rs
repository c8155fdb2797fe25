//! The benchmark's tools work: the fake OpenAI-compatible server speaks the wire format and
//! the baseline service answers like the quickstart. Run as processes, on loopback.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

/// A started binary, killed when dropped.
struct Running {
    child: Child,
    /// The URL it printed on its first line.
    url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `command` and reads the `http://...` URL from the first line it prints.
fn start(mut command: Command) -> Running {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout).read_line(&mut line).expect("read");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_owned();
    Running { child, url }
}

fn fake() -> Running {
    fake_with(&[])
}

/// The fake with extra options.
fn fake_with(options: &[&str]) -> Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fake-openai"));
    command.args(["--latency-ms", "0", "--port", "0"]);
    command.args(options);
    start(command)
}

/// A plain chat completion from `fake`: the reply's `Connection` header and body.
async fn complete(fake: &Running) -> (Option<String>, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", fake.url))
        .json(&json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    let connection = response
        .headers()
        .get("connection")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (connection, response.json().await.expect("json"))
}

#[tokio::test]
async fn the_fake_shapes_usage_and_keep_alive_as_asked() {
    let (connection, full) = complete(&fake()).await;
    assert_eq!(connection, None);
    assert_eq!(
        full["usage"]["prompt_tokens_details"]["cached_tokens"], 0,
        "{full}"
    );
    assert_eq!(
        full["usage"]["completion_tokens_details"]["reasoning_tokens"], 0,
        "{full}"
    );

    let (_, short) = complete(&fake_with(&["--usage", "short"])).await;
    assert!(short["usage"]["total_tokens"].as_u64().is_some(), "{short}");
    assert!(
        short["usage"].get("prompt_tokens_details").is_none(),
        "{short}"
    );

    let (connection, none) = complete(&fake_with(&["--usage", "none", "--close"])).await;
    assert_eq!(connection.as_deref(), Some("close"));
    assert!(none.get("usage").is_none(), "{none}");
    assert_eq!(none["choices"][0]["finish_reason"], "stop");
}

fn query_output_format() -> Value {
    json!({"type": "json_schema", "json_schema": {"name": "QueryOutput", "strict": true, "schema": {
        "type": "object",
        "properties": {
            "answer": {"type": "string"},
            "citations": {"type": "array", "items": {"type": "string"}},
            "confidence": {"type": "number"},
        },
        "required": ["answer", "citations", "confidence"],
        "additionalProperties": false,
    }}})
}

#[tokio::test]
async fn the_fake_answers_structured_output_in_openai_wire_format() {
    let fake = fake();
    let client = reqwest::Client::new();
    let reply: Value = client
        .post(format!("{}/chat/completions", fake.url))
        .json(&json!({
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "Answer from the passages."},
                {"role": "user", "content": "Passages:\n[tools] A tool is ...\n[flows] A flow is ...\n\nQuestion: ?"},
            ],
            "response_format": query_output_format(),
        }))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(reply["object"], "chat.completion");
    assert_eq!(reply["choices"][0]["finish_reason"], "stop");
    assert!(reply["usage"]["total_tokens"].as_u64().is_some(), "{reply}");
    let content = reply["choices"][0]["message"]["content"]
        .as_str()
        .expect("content");
    let output: Value = serde_json::from_str(content).expect("JSON content");
    assert!(output["answer"].is_string(), "{output}");
    assert_eq!(output["citations"], json!(["tools", "flows"]));
    assert!(output["confidence"].is_number(), "{output}");
}

#[tokio::test]
async fn the_fake_streams_chunks_then_usage_then_done() {
    let fake = fake();
    let body = reqwest::Client::new()
        .post(format!("{}/chat/completions", fake.url))
        .json(&json!({
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": true,
            "stream_options": {"include_usage": true},
        }))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    let events: Vec<&str> = body
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").expect("data line"))
        .collect();
    assert_eq!(events.last(), Some(&"[DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).expect("chunk JSON"))
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "This is the fake model's answer.");
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let usage = &chunks[chunks.len() - 1];
    assert_eq!(usage["choices"], json!([]));
    assert!(
        usage["usage"]["prompt_tokens"].as_u64().is_some(),
        "{usage}"
    );
}

#[tokio::test]
async fn the_fake_rejects_a_request_without_a_model() {
    let fake = fake();
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", fake.url))
        .json(&json!({"messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["error"]["param"], "model");
    assert_eq!(body["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn the_baseline_answers_like_the_quickstart() {
    let fake = fake();
    let mut command = Command::new(env!("CARGO_BIN_EXE_baseline-rag"));
    command
        .env("PORT", "0")
        .env("HOST", "127.0.0.1")
        .env("OPENAI_BASE_URL", &fake.url)
        .env("OPENAI_API_KEY", "test");
    let baseline = start(command);
    let client = reqwest::Client::new();
    let url = format!("{}/ragQuery", baseline.url);

    let response = client
        .post(&url)
        .json(&json!({"data": {"question": "How do tools work?"}}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    let result = &body["result"];
    assert_eq!(result["citations"], json!(["tools", "registry"]), "{body}");
    assert!(result["answer"].is_string(), "{body}");
    assert!(
        result["confidence"]
            .as_f64()
            .is_some_and(|c| (0.0..=1.0).contains(&c))
    );

    let empty = client
        .post(&url)
        .json(&json!({"data": {"question": "  "}}))
        .send()
        .await
        .expect("send");
    assert_eq!(empty.status(), 400);
    let untyped = client
        .post(&url)
        .json(&json!({"data": {"question": 3}}))
        .send()
        .await
        .expect("send");
    assert_eq!(untyped.status(), 400);
}
