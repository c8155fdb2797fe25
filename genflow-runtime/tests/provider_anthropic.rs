//! Anthropic Messages against a loopback fake speaking the real wire format.

#![cfg(feature = "models")]

mod support;

use std::time::Duration;

use futures::StreamExt;
use genflow_runtime::model::providers::Anthropic;
use genflow_runtime::model::stream::GenerateChunk;
use genflow_runtime::model::{FinishReason, Media, Models, RetryPolicy};
use genflow_runtime::prelude::*;
use serde_json::{Value, json};
use support::{FakeServer, Reply, split};

/// Lookup the weather for a given city
#[tool]
async fn get_weather(location: String, units: String) -> Result<String, ToolError> {
    Ok(format!("{location}: 15 degrees {units}"))
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct Weather {
    location: String,
    degrees: i64,
}

fn models(server: &FakeServer) -> Models {
    Models::new()
        .provider(Anthropic::new("sk-ant-test").base_url(&server.url))
        .default_model("anthropic/claude-haiku-4-5")
        .retry(RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            max_retry_after: Duration::from_secs(5),
        })
}

fn usage() -> Value {
    json!({"input_tokens":656,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,
        "cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},
        "output_tokens":74,"service_tier":"standard","inference_geo":"not_available"})
}

fn message(content: Value, stop_reason: &str) -> Value {
    json!({"model":"claude-haiku-4-5-20251001","id":"msg_01YPmX","type":"message","role":"assistant",
        "content":content,"stop_reason":stop_reason,"stop_sequence":null,"usage":usage()})
}

fn sse(events: &[(&str, Value)]) -> Vec<Vec<u8>> {
    let text: String = events
        .iter()
        .map(|(name, data)| format!("event: {name}\ndata: {data}\n\n"))
        .collect();
    split(&text, 41)
}

#[tokio::test]
async fn tool_round_trip_sends_real_requests() {
    let server = FakeServer::start(vec![
        Reply::Json(
            200,
            vec![],
            message(
                json!([{"type":"tool_use","id":"toolu_016xm9","name":"get_weather",
            "input":{"location":"San Francisco, CA","units":"f"},"caller":{"type":"direct"}}]),
                "tool_use",
            ),
        ),
        Reply::Json(
            200,
            vec![],
            message(
                json!([{"type":"text","text":"It is 15 degrees f."}]),
                "end_turn",
            ),
        ),
    ])
    .await;
    let generation = models(&server)
        .generate()
        .system("Be brief.")
        .prompt("What is the weather in SF?")
        .media(Media::base64("image/png", "iVBORw0K"))
        .tool::<GetWeatherTool>()
        .run()
        .await
        .expect("generates");
    assert_eq!(generation.text(), "It is 15 degrees f.");
    assert_eq!(generation.usage.input_tokens, 656 * 2);

    let requests = server.received();
    let first = &requests[0];
    assert_eq!(first.path, "/v1/messages");
    assert_eq!(first.headers["x-api-key"], "sk-ant-test");
    assert_eq!(first.headers["anthropic-version"], "2023-06-01");
    assert_eq!(first.body["model"], "claude-haiku-4-5");
    assert_eq!(
        first.body["max_tokens"], 4096,
        "required: a default is sent"
    );
    assert_eq!(first.body["system"], "Be brief.");
    assert_eq!(
        first.body["messages"][0]["content"],
        json!([
            {"type": "text", "text": "What is the weather in SF?"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"}}
        ])
    );
    assert_eq!(first.body["tools"][0]["name"], "get_weather");
    assert_eq!(
        first.body["tools"][0]["description"],
        "Lookup the weather for a given city"
    );
    assert_eq!(
        first.body["tools"][0]["input_schema"]["required"],
        json!(["location", "units"])
    );
    assert_eq!(first.body["tool_choice"], json!({"type": "auto"}));

    let second = &requests[1].body["messages"];
    assert_eq!(
        second[1],
        json!({"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_016xm9",
            "name": "get_weather", "input": {"location": "San Francisco, CA", "units": "f"}}]})
    );
    assert_eq!(
        second[2],
        json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_016xm9",
            "content": "San Francisco, CA: 15 degrees f"}]})
    );
}

#[tokio::test]
async fn streamed_tool_use_with_split_partial_json() {
    let start = json!({"type":"message_start","message":{"id":"msg_019Q","type":"message","role":"assistant",
        "model":"claude-sonnet-4-20250514","content":[],"stop_reason":null,"stop_sequence":null,
        "usage":{"input_tokens":377,"output_tokens":1}}});
    let delta = |i: u32, d: Value| json!({"type":"content_block_delta","index":i,"delta":d});
    let first = sse(&[
        ("message_start", start.clone()),
        ("ping", json!({"type": "ping"})),
        (
            "content_block_start",
            json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
        ),
        (
            "content_block_delta",
            delta(0, json!({"type":"text_delta","text":"I'll check…"})),
        ),
        (
            "content_block_stop",
            json!({"type":"content_block_stop","index":0}),
        ),
        (
            "content_block_start",
            json!({"type":"content_block_start","index":1,"content_block":{"type":"tool_use",
            "id":"toolu_01NR","name":"get_weather","caller":{"type":"direct"},"input":{}}}),
        ),
        (
            "content_block_delta",
            delta(1, json!({"type":"input_json_delta","partial_json":""})),
        ),
        (
            "content_block_delta",
            delta(
                1,
                json!({"type":"input_json_delta","partial_json":"{\"locati"}),
            ),
        ),
        (
            "content_block_delta",
            delta(
                1,
                json!({"type":"input_json_delta","partial_json":"on\": \"P"}),
            ),
        ),
        (
            "content_block_delta",
            delta(
                1,
                json!({"type":"input_json_delta","partial_json":"aris\", \"units\": \"c\"}"}),
            ),
        ),
        (
            "content_block_stop",
            json!({"type":"content_block_stop","index":1}),
        ),
        (
            "message_delta",
            json!({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":65}}),
        ),
        ("message_stop", json!({"type":"message_stop"})),
    ]);
    let second = sse(&[
        ("message_start", start),
        (
            "content_block_start",
            json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
        ),
        (
            "content_block_delta",
            delta(0, json!({"type":"text_delta","text":"Paris: 15"})),
        ),
        (
            "content_block_delta",
            delta(0, json!({"type":"text_delta","text":" degrees."})),
        ),
        (
            "content_block_stop",
            json!({"type":"content_block_stop","index":0}),
        ),
        (
            "message_delta",
            json!({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}),
        ),
        ("message_stop", json!({"type":"message_stop"})),
    ]);
    let server = FakeServer::start(vec![Reply::Sse(first), Reply::Sse(second)]).await;
    let mut stream = models(&server)
        .generate()
        .prompt("Weather in Paris?")
        .tool::<GetWeatherTool>()
        .stream();
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next().await {
        chunks.push(chunk);
    }
    let generation = stream.response().await.expect("generates");
    assert_eq!(generation.text(), "Paris: 15 degrees.");
    assert_eq!(generation.usage.output_tokens, 65 + 9);
    let results: Vec<Value> = chunks
        .iter()
        .filter_map(|c| match c {
            GenerateChunk::ToolResponse { response, .. } => Some(response.output.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(results, [json!("Paris: 15 degrees c")]);
    assert_eq!(server.received()[0].body["stream"], true);
}

#[tokio::test]
async fn structured_output_is_a_forced_tool() {
    let server = FakeServer::start(vec![Reply::Json(
        200,
        vec![],
        message(
            json!([{"type":"tool_use","id":"toolu_1","name":"Weather","input":{"location":"Paris","degrees":15}}]),
            "tool_use",
        ),
    )])
    .await;
    let generated = models(&server)
        .generate()
        .prompt("Weather in Paris")
        .output::<Weather>()
        .run()
        .await
        .expect("valid");
    assert_eq!(
        generated.output,
        Weather {
            location: "Paris".into(),
            degrees: 15
        }
    );
    assert_eq!(generated.generation.finish_reason(), &FinishReason::Stop);
    let body = server.only().body;
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": "Weather"})
    );
    assert_eq!(body["tools"][0]["name"], "Weather");
    assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
    assert_eq!(body["tools"][0]["input_schema"].get("$schema"), None);
}

#[tokio::test]
async fn rate_limits_and_overload_are_retried_and_error_events_fail() {
    let overloaded = json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"});
    let error_stream = sse(&[
        (
            "message_start",
            json!({"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"c","content":[],"usage":{"input_tokens":1,"output_tokens":1}}}),
        ),
        (
            "error",
            json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ),
    ]);
    let rate_limited = json!({"type":"error","error":{"type":"rate_limit_error","message":"Too many"},"request_id":"req_0"});
    let server = FakeServer::start(vec![
        Reply::Json(429, vec![("retry-after", "0".into())], rate_limited),
        Reply::Json(529, vec![], overloaded),
        Reply::Json(
            200,
            vec![],
            message(json!([{"type":"text","text":"ok"}]), "end_turn"),
        ),
        Reply::Sse(error_stream),
    ])
    .await;
    let models = models(&server);
    let generation = models.generate().prompt("hi").run().await.expect("retried");
    assert_eq!(generation.text(), "ok");
    let err = models
        .generate()
        .prompt("again")
        .stream()
        .response()
        .await
        .expect_err("error event");
    assert_eq!(err.status(), Status::Unavailable);
    assert!(err.message().contains("Overloaded"), "{err}");
}

#[tokio::test]
async fn a_stream_without_message_delta_is_cut_off() {
    let cut = sse(&[
        (
            "message_start",
            json!({"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"c","content":[],"usage":{"input_tokens":1,"output_tokens":1}}}),
        ),
        (
            "content_block_start",
            json!({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}),
        ),
        (
            "content_block_delta",
            json!({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hal"}}),
        ),
    ]);
    let server = FakeServer::start(vec![Reply::Sse(cut)]).await;
    let err = models(&server)
        .generate()
        .prompt("hi")
        .stream()
        .response()
        .await
        .expect_err("cut off");
    assert_eq!(err.status(), Status::Unavailable);
}
