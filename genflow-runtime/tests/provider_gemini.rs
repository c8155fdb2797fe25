//! The Gemini API against a loopback fake speaking the real wire format.

#![cfg(feature = "models")]

mod support;

use std::time::Duration;

use futures::StreamExt;
use genflow_runtime::model::providers::GoogleAi;
use genflow_runtime::model::stream::GenerateChunk;
use genflow_runtime::model::{Models, RetryPolicy};
use genflow_runtime::prelude::*;
use serde_json::{Value, json};
use support::{FakeServer, Reply, split};

/// Current date and time
#[tool]
async fn now(_input: Option<String>) -> Result<String, ToolError> {
    Ok("2026-08-22T10:00:00Z".to_owned())
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct Size {
    size: i64,
}

fn models(server: &FakeServer) -> Models {
    Models::new()
        .provider(GoogleAi::new("gm-test").base_url(format!("{}/v1beta", server.url)))
        .default_model("googleai/gemini-2.5-flash")
        .retry(RetryPolicy {
            max_retries: 1,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            max_retry_after: Duration::from_secs(5),
        })
}

fn reply(parts: Value, finish: &str) -> Value {
    json!({"candidates":[{"content":{"role":"model","parts":parts},"finishReason":finish,"index":0}],
        "usageMetadata":{"promptTokenCount":38,"candidatesTokenCount":6,"totalTokenCount":212,"thoughtsTokenCount":168},
        "modelVersion":"gemini-2.5-flash","responseId":"48SHaPHp"})
}

/// Gemini's recorded streams use CRLF.
fn sse(chunks: &[Value]) -> Vec<Vec<u8>> {
    let text: String = chunks
        .iter()
        .map(|c| format!("data: {c}\r\n\r\n"))
        .collect();
    split(&text, 33)
}

#[tokio::test]
async fn function_calling_round_trip_keeps_the_thought_signature() {
    let server = FakeServer::start(vec![
        Reply::Json(
            200,
            vec![],
            reply(
                json!([{"text":"**Thinking…**","thought":true},
            {"functionCall":{"name":"now","args":{}},"thoughtSignature":"CtQOAVSo"}]),
                "STOP",
            ),
        ),
        Reply::Json(200, vec![], reply(json!([{"text":"131 days."}]), "STOP")),
    ])
    .await;
    let generation = models(&server)
        .generate()
        .system("Be brief.")
        .prompt("How many days until New Year's Eve?")
        .temperature(0.0)
        .max_output_tokens(256)
        .tool::<NowTool>()
        .run()
        .await
        .expect("generates");
    assert_eq!(generation.text(), "131 days.");
    assert_eq!(generation.usage.output_tokens, 2 * (6 + 168));

    let requests = server.received();
    let first = &requests[0];
    assert_eq!(
        first.path,
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(first.headers["x-goog-api-key"], "gm-test");
    assert_eq!(
        first.body["systemInstruction"],
        json!({"parts": [{"text": "Be brief."}]})
    );
    assert_eq!(
        first.body["contents"],
        json!([{"role": "user", "parts": [{"text": "How many days until New Year's Eve?"}]}])
    );
    let declaration = &first.body["tools"][0]["functionDeclarations"][0];
    assert_eq!(declaration["name"], "now");
    assert_eq!(declaration["description"], "Current date and time");
    assert!(declaration["parametersJsonSchema"].is_object());
    assert_eq!(
        first.body["toolConfig"],
        json!({"functionCallingConfig": {"mode": "AUTO"}})
    );
    assert_eq!(
        first.body["generationConfig"],
        json!({"temperature": 0.0, "maxOutputTokens": 256})
    );

    let contents = &requests[1].body["contents"];
    assert_eq!(
        contents[1],
        json!({"role": "model", "parts": [{"functionCall": {"name": "now", "args": {}},
            "thoughtSignature": "CtQOAVSo"}]})
    );
    assert_eq!(
        contents[2],
        json!({"role": "user", "parts": [{"functionResponse": {"name": "now",
            "response": {"output": "2026-08-22T10:00:00Z"}}}]})
    );
}

#[tokio::test]
async fn structured_output_streams_over_sse_with_crlf() {
    let chunk = |text: &str, finish: Option<&str>, candidates: u64| {
        let mut c = json!({"candidates":[{"content":{"parts":[{"text":text}],"role":"model"}}],
            "usageMetadata":{"promptTokenCount":7,"candidatesTokenCount":candidates,"totalTokenCount":7 + candidates},
            "modelVersion":"gemini-2.0-flash"});
        if let Some(f) = finish {
            c["candidates"][0]["finishReason"] = json!(f);
        }
        c
    };
    let server = FakeServer::start(vec![Reply::Sse(sse(&[
        chunk("{\"si", None, 1),
        json!({"candidates":[{"content":{"role":"model"}}],"usageMetadata":{"promptTokenCount":7,"totalTokenCount":7}}),
        chunk("ze\": 4", None, 2),
        chunk("2}", Some("STOP"), 3),
    ]))])
    .await;
    let mut stream = models(&server)
        .generate()
        .prompt("How big?")
        .output::<Size>()
        .stream();
    let mut partials = Vec::new();
    while let Some(chunk) = stream.next().await {
        if let GenerateChunk::PartialOutput { output, .. } = chunk {
            partials.push(output);
        }
    }
    let generated = stream.response().await.expect("valid");
    assert_eq!(generated.output, Size { size: 42 });
    assert_eq!(
        generated.generation.usage.output_tokens, 3,
        "cumulative: the last wins"
    );
    assert!(partials.contains(&json!({"size": 4})), "{partials:?}");

    let request = server.only();
    assert_eq!(
        request.path,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    );
    assert_eq!(request.query.as_deref(), Some("alt=sse"));
    let config = &request.body["generationConfig"];
    assert_eq!(config["responseMimeType"], "application/json");
    assert_eq!(config["responseJsonSchema"]["required"], json!(["size"]));
    assert_eq!(config["responseJsonSchema"].get("$schema"), None);
}

#[tokio::test]
async fn resource_exhausted_honours_retry_delay_then_succeeds() {
    let exhausted = json!({"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED",
        "details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"0.01s"}]}});
    let server = FakeServer::start(vec![
        Reply::Json(429, vec![], exhausted),
        Reply::Json(200, vec![], reply(json!([{"text":"hi"}]), "STOP")),
    ])
    .await;
    let generation = models(&server)
        .generate()
        .prompt("hi")
        .run()
        .await
        .expect("retried");
    assert_eq!(generation.text(), "hi");
    assert_eq!(server.received().len(), 2);
}

#[tokio::test]
async fn bad_keys_and_blocked_prompts() {
    let bad_key = json!({"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT",
        "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}});
    let blocked = json!({"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":5,"totalTokenCount":5}});
    let server = FakeServer::start(vec![
        Reply::Json(400, vec![], bad_key),
        Reply::Json(200, vec![], blocked),
    ])
    .await;
    let models = models(&server);
    let err = models
        .generate()
        .prompt("hi")
        .run()
        .await
        .expect_err("bad key");
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(err.message().contains("API key not valid"), "{err}");
    let generation = models
        .generate()
        .prompt("bad")
        .run()
        .await
        .expect("answers");
    assert_eq!(
        generation.finish_reason(),
        &genflow_runtime::model::FinishReason::Blocked
    );
    assert_eq!(generation.text(), "");
}

#[tokio::test]
async fn a_stream_without_finish_reason_is_cut_off() {
    let server = FakeServer::start(vec![Reply::Sse(sse(&[json!(
        {"candidates":[{"content":{"parts":[{"text":"The"}],"role":"model"}}]}
    )]))])
    .await;
    let err = models(&server)
        .generate()
        .prompt("hi")
        .stream()
        .response()
        .await
        .expect_err("cut off");
    assert_eq!(err.status(), Status::Unavailable);
}
