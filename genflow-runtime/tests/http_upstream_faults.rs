//! A faulty model provider, seen from a flow's caller over HTTP: every fault (rate limits with
//! and without `Retry-After`, 5xx, garbage and incomplete replies, schema-violating output, a
//! reply broken off mid-body, a provider that is down, truncated and stalled streams) gets a
//! status that says whether to retry and a safe message; none leaks the provider's words, its
//! address or a key outside dev mode, and every stream ends with its terminal frame.

mod common;
mod support;

use std::time::Duration;

use common::start;
use futures::StreamExt;
use genflow_runtime::http::FlowServer;
use genflow_runtime::model::providers::OpenAi;
use genflow_runtime::model::stream::GenerateChunk;
use genflow_runtime::model::{Models, RetryPolicy};
use genflow_runtime::prelude::*;
use serde_json::{Value, json};
use support::{FakeServer, Reply, data_events};

/// Asks the model.
#[flow]
async fn ask(ctx: &FlowContext, question: String) -> Result<String, FlowError> {
    Ok(ctx.generate().prompt(question).run().await?.text())
}

/// A typed answer.
#[derive(Deserialize, Serialize, JsonSchema)]
struct Answer {
    answer: String,
    confidence: f64,
}

/// Asks the model for a typed answer.
#[flow]
async fn extract(ctx: &FlowContext, question: String) -> Result<Answer, FlowError> {
    ctx.generate()
        .prompt(question)
        .generate_data::<Answer>()
        .await
}

/// Streams the model's text.
#[flow(stream = String)]
async fn tell(ctx: &FlowContext<String>, question: String) -> Result<String, FlowError> {
    let mut stream = ctx.generate().prompt(question).stream();
    while let Some(chunk) = stream.next().await {
        if let GenerateChunk::Text { text, .. } = chunk {
            ctx.send_chunk(text).await?;
        }
    }
    Ok(stream.response().await?.text())
}

const KEY: &str = "sk-test-SECRET-0123456789";

fn models_at(base_url: String) -> Models {
    Models::new()
        .provider(OpenAi::new(KEY).base_url(base_url))
        .default_model("openai/gpt-4o-mini")
        .timeout(Duration::from_millis(500))
        .retry(RetryPolicy {
            max_retries: 0,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
            max_retry_after: Duration::from_secs(5),
        })
}

/// Serves the flows with a provider at `base_url`, outside dev mode.
async fn service(base_url: String) -> common::Running {
    let registry = Registry::builder()
        .state(models_at(base_url))
        .build()
        .expect("registry");
    start(FlowServer::new(registry)).await
}

/// What no caller may see: the provider's own words, its address, the key.
fn assert_safe(text: &str, upstream: &str) {
    for secret in ["SECRET", "upstream-words", upstream, "127.0.0.1"] {
        assert!(!text.contains(secret), "{secret:?} leaked: {text}");
    }
}

fn upstream_error(status: u16, retry_after: Option<&str>) -> Reply {
    Reply::Json(
        status,
        retry_after
            .map(|after| vec![("retry-after", after.to_owned())])
            .unwrap_or_default(),
        json!({"error": {"message": "upstream-words: failure echoing Bearer sk-test-SECRET-0123456789",
                "type": "server_error", "param": null, "code": null}}),
    )
}

fn text_reply(text: &str) -> Reply {
    Reply::Json(
        200,
        vec![],
        json!({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini",
         "choices":[{"index":0,"message":{"role":"assistant","content":text},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":5,"completion_tokens":5,"total_tokens":10}}),
    )
}

/// POSTs `{"data": "hi"}` to `path`: the status, `Retry-After` and the JSON body.
async fn call(running: &common::Running, path: &str) -> (u16, Option<String>, Value) {
    let response = reqwest::Client::new()
        .post(running.url(path))
        .json(&json!({"data": "hi"}))
        .send()
        .await
        .expect("send");
    let status = response.status().as_u16();
    let after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (
        status,
        after,
        response.json().await.expect("a JSON error body"),
    )
}

/// A fault: its name, the flow path, the provider's replies, the HTTP code and Genkit status
/// the caller gets, and whether the answer carries `Retry-After`.
type Fault = (
    &'static str,
    &'static str,
    Vec<Reply>,
    u16,
    &'static str,
    bool,
);

#[tokio::test]
async fn every_plain_fault_has_a_status_and_a_safe_message() {
    let violating = || text_reply("{\"answer\": 42, \"upstream-words\": true}");
    let cases: Vec<Fault> = vec![
        (
            "429 + Retry-After",
            "/ask",
            vec![upstream_error(429, Some("3"))],
            429,
            "RESOURCE_EXHAUSTED",
            true,
        ),
        (
            "429",
            "/ask",
            vec![upstream_error(429, None)],
            429,
            "RESOURCE_EXHAUSTED",
            false,
        ),
        (
            "500",
            "/ask",
            vec![upstream_error(500, None)],
            503,
            "UNAVAILABLE",
            false,
        ),
        (
            "503",
            "/ask",
            vec![upstream_error(503, None)],
            503,
            "UNAVAILABLE",
            false,
        ),
        (
            "garbage",
            "/ask",
            vec![Reply::Raw(200, "<html>upstream-words</html>")],
            500,
            "INTERNAL",
            false,
        ),
        (
            "missing fields",
            "/ask",
            vec![Reply::Raw(200, "{}")],
            500,
            "INTERNAL",
            false,
        ),
        (
            "broken off",
            "/ask",
            vec![Reply::Cut("{\"id\": \"upstream-words")],
            503,
            "UNAVAILABLE",
            false,
        ),
        // The model gets to repair its output once (the default), and fails again.
        (
            "schema-violating output",
            "/extract",
            vec![violating(), violating()],
            500,
            "INTERNAL",
            false,
        ),
    ];
    for (name, path, replies, code, status, retry_after) in cases {
        let scripted = replies.len();
        let upstream = FakeServer::start(replies).await;
        let running = service(format!("{}/v1", upstream.url)).await;
        let (got_code, after, body) = call(&running, path).await;
        assert_eq!(
            (got_code, body["status"].as_str()),
            (code, Some(status)),
            "{name}: {body}"
        );
        assert_eq!(
            after.is_some(),
            retry_after,
            "{name}: Retry-After {after:?}"
        );
        assert_safe(&body.to_string(), &upstream.url);
        assert_eq!(upstream.received().len(), scripted, "{name}: calls made");
        running.stop().await;
    }
}

#[tokio::test]
async fn a_provider_that_is_down_is_unavailable_without_naming_it() {
    // A port nothing listens on: bound, then released.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let down = format!("http://{}/v1", listener.local_addr().expect("address"));
    drop(listener);
    let running = service(down.clone()).await;
    let (code, _, body) = call(&running, "/ask").await;
    assert_eq!(
        (code, body["status"].as_str()),
        (503, Some("UNAVAILABLE")),
        "{body}"
    );
    assert_safe(&body.to_string(), &down);
    running.stop().await;
}

/// Streams `tell`: every `data:` frame, parsed.
async fn stream_frames(running: &common::Running) -> Vec<Value> {
    let response = reqwest::Client::new()
        .post(running.url("/tell"))
        .header("accept", "text/event-stream")
        .json(&json!({"data": "hi"}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let text = common::within(response.text())
        .await
        .expect("the stream ends");
    text.split("\n\n")
        .filter_map(|frame| frame.strip_prefix("data: "))
        .map(|data| serde_json::from_str(data).expect("a JSON frame"))
        .collect()
}

fn stream_events(texts: &[&str], finish: Option<&str>) -> Vec<Vec<u8>> {
    let chunk = |delta: Value, finish: Option<&str>| {
        json!({"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",
               "choices":[{"index":0,"delta":delta,"finish_reason":finish}]})
    };
    let mut events: Vec<Value> = texts
        .iter()
        .map(|text| chunk(json!({"content": text}), None))
        .collect();
    if let Some(finish) = finish {
        events.push(chunk(json!({}), Some(finish)));
    }
    let mut pieces: Vec<Vec<u8>> = data_events(&events)
        .into_iter()
        .map(String::into_bytes)
        .collect();
    if finish.is_some() {
        pieces.push(b"data: [DONE]\n\n".to_vec());
    }
    pieces
}

#[tokio::test]
async fn truncated_and_stalled_streams_end_with_a_terminal_error_frame() {
    let cases = [
        (
            "truncated",
            Reply::Sse(stream_events(&["upstream", " words"], None)),
            "UNAVAILABLE",
        ),
        (
            "stalled",
            Reply::Stall(stream_events(&["upstream"], None)),
            "DEADLINE_EXCEEDED",
        ),
    ];
    for (name, reply, status) in cases {
        let upstream = FakeServer::start(vec![reply]).await;
        let running = service(format!("{}/v1", upstream.url)).await;
        let frames = stream_frames(&running).await;
        let (last, chunks) = frames.split_last().expect("at least the terminal frame");
        assert!(
            chunks.iter().all(|c| c.get("message").is_some()),
            "{name}: {frames:?}"
        );
        assert_eq!(last["error"]["status"], status, "{name}: {last}");
        assert_safe(&last.to_string(), &upstream.url);
        running.stop().await;
    }
}

#[tokio::test]
async fn a_whole_stream_ends_with_its_result() {
    let upstream = FakeServer::start(vec![Reply::Sse(stream_events(
        &["Hel", "lo"],
        Some("stop"),
    ))])
    .await;
    let running = service(format!("{}/v1", upstream.url)).await;
    let frames = stream_frames(&running).await;
    assert_eq!(
        frames,
        vec![
            json!({"message": "Hel"}),
            json!({"message": "lo"}),
            json!({"result": "Hello"})
        ]
    );
    running.stop().await;
}
