//! OpenAI-compatible chat completions against a loopback fake speaking the real wire format.

#![cfg(feature = "models")]

mod support;

use std::time::Duration;

use futures::StreamExt;
use genflow_runtime::model::providers::OpenAi;
use genflow_runtime::model::stream::GenerateChunk;
use genflow_runtime::model::{FinishReason, Media, Models, RetryPolicy, ToolChoice};
use genflow_runtime::prelude::*;
use serde_json::{Value, json};
use support::{FakeServer, Reply, data_events, split};

/// Get the current weather
#[tool]
async fn get_current_weather(
    /// City and state
    location: String,
) -> Result<String, ToolError> {
    Ok(format!("22C and sunny in {location}"))
}

/// Get a stock price
#[tool]
async fn get_stock_price(ticker: String) -> Result<f64, ToolError> {
    Ok(if ticker == "AAPL" { 190.5 } else { 1.0 })
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct Location {
    city: String,
    temperature: f64,
    units: Units,
    /// Free-form remark
    note: Option<String>,
}

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Units {
    C,
    F,
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 2,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_retry_after: Duration::from_secs(5),
    }
}

fn models(server: &FakeServer) -> Models {
    models_at(format!("{}/v1", server.url))
}

fn models_at(base_url: String) -> Models {
    Models::new()
        .provider(OpenAi::new("sk-test").base_url(base_url))
        .default_model("openai/gpt-4o-mini")
        .retry(fast_retries())
}

fn tool_call_reply() -> Value {
    json!({"id":"chatcmpl-abc123","object":"chat.completion","created":1699896916,"model":"gpt-4o-mini",
     "choices":[{"index":0,"message":{"role":"assistant","content":null,
       "tool_calls":[{"id":"call_abc123","type":"function",
         "function":{"name":"get_current_weather","arguments":"{\n\"location\": \"Boston, MA\"\n}"}}]},
       "logprobs":null,"finish_reason":"tool_calls"}],
     "usage":{"prompt_tokens":82,"completion_tokens":17,"total_tokens":99,
       "completion_tokens_details":{"reasoning_tokens":0}}})
}

fn text_reply(text: &str) -> Value {
    json!({"id":"chatcmpl-2","object":"chat.completion","created":1699896917,"model":"gpt-4o-mini",
     "choices":[{"index":0,"message":{"role":"assistant","content":text,"refusal":null,"annotations":[]},
       "logprobs":null,"finish_reason":"stop"}],
     "usage":{"prompt_tokens":120,"completion_tokens":9,"total_tokens":129}})
}

#[tokio::test]
async fn tool_round_trip_sends_real_requests() {
    let server = FakeServer::start(vec![
        Reply::Json(200, vec![], tool_call_reply()),
        Reply::Json(200, vec![], text_reply("It is 22C and sunny in Boston.")),
    ])
    .await;
    let generation = models(&server)
        .generate()
        .system("Be brief.")
        .prompt("What is the weather like in Boston today?")
        .temperature(0.2)
        .max_output_tokens(100)
        .tool::<GetCurrentWeatherTool>()
        .run()
        .await
        .expect("generates");
    assert_eq!(generation.text(), "It is 22C and sunny in Boston.");
    assert_eq!(generation.finish_reason(), &FinishReason::Stop);
    assert_eq!(generation.usage.input_tokens, 202);
    assert_eq!(generation.usage.output_tokens, 26);
    assert_eq!(generation.turns, 2);

    let requests = server.received();
    assert_eq!(requests.len(), 2);
    let first = &requests[0];
    assert_eq!(first.path, "/v1/chat/completions");
    assert_eq!(first.headers["authorization"], "Bearer sk-test");
    assert_eq!(first.body["model"], "gpt-4o-mini");
    assert_eq!(first.body["temperature"], 0.2);
    assert_eq!(first.body["max_completion_tokens"], 100);
    assert_eq!(
        first.body["messages"],
        json!([
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is the weather like in Boston today?"}
        ])
    );
    let tool = &first.body["tools"][0];
    assert_eq!(tool["type"], "function");
    assert_eq!(tool["function"]["name"], "get_current_weather");
    assert_eq!(tool["function"]["description"], "Get the current weather");
    assert_eq!(
        tool["function"]["parameters"]["required"],
        json!(["location"])
    );
    assert_eq!(tool["function"]["parameters"].get("$schema"), None);
    assert_eq!(first.body["tool_choice"], "auto");
    assert_eq!(first.body.get("stream"), None);

    let history = &requests[1].body["messages"];
    assert_eq!(
        history[2],
        json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_abc123",
            "type": "function", "function": {"name": "get_current_weather",
            "arguments": "{\"location\":\"Boston, MA\"}"}}]})
    );
    assert_eq!(
        history[3],
        json!({"role": "tool", "tool_call_id": "call_abc123",
            "content": "22C and sunny in Boston, MA"})
    );
}

/// The recorded stream of two interleaved tool calls, with arguments cut mid-token.
fn streamed_tool_calls() -> Vec<Vec<u8>> {
    let envelope = |choices: Value| {
        json!({"id":"chatcmpl-ABfw03","object":"chat.completion.chunk","created":1727346168,
            "model":"gpt-4o-2024-08-06","system_fingerprint":"fp_5050236cbd","choices":choices})
    };
    let delta =
        |d: Value| envelope(json!([{"index":0,"delta":d,"logprobs":null,"finish_reason":null}]));
    let args =
        |i: u32, a: &str| delta(json!({"tool_calls":[{"index":i,"function":{"arguments":a}}]}));
    let mut events = vec![
        delta(json!({"role":"assistant","content":null})),
        delta(
            json!({"tool_calls":[{"index":0,"id":"call_JMW1","type":"function",
            "function":{"name":"get_current_weather","arguments":""}}]}),
        ),
        args(0, "{\"lo"),
        args(0, "cation\": "),
        delta(
            json!({"tool_calls":[{"index":1,"id":"call_DNYT","type":"function",
            "function":{"name":"get_stock_price","arguments":""}}]}),
        ),
        args(1, "{\"ti"),
        args(0, "\"Edinb"),
        args(1, "cker\": \"AA"),
        args(0, "urgh\"}"),
        args(1, "PL\"}"),
        envelope(json!([{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}])),
        envelope(json!([])),
    ];
    if let Some(last) = events.last_mut() {
        last["usage"] = json!({"prompt_tokens":149,"completion_tokens":60,"total_tokens":209});
    }
    // A comment line and a `data:` field split over two lines, as SSE allows.
    let mut text = String::from(": OPENROUTER PROCESSING\n\n");
    text.push_str(&data_events(&events).concat());
    text = text.replacen("\"choices\":", "\"choices\":\ndata: ", 1);
    assert!(text.contains(":\ndata: [{"), "{text}");
    text.push_str("data: [DONE]\n\n");
    split(&text, 37)
}

fn streamed_text(pieces: &[&str], finish: &str) -> Vec<Vec<u8>> {
    let envelope = |choices: Value| json!({"id":"chatcmpl-B","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":choices});
    let mut events = vec![envelope(
        json!([{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"finish_reason":null}]),
    )];
    events.extend(
        pieces
            .iter()
            .map(|p| envelope(json!([{"index":0,"delta":{"content":p},"finish_reason":null}]))),
    );
    events.push(envelope(
        json!([{"index":0,"delta":{},"finish_reason":finish}]),
    ));
    let mut usage = envelope(json!([]));
    usage["usage"] = json!({"prompt_tokens":14,"completion_tokens":30,"total_tokens":44});
    events.push(usage);
    let mut text = data_events(&events).concat();
    text.push_str("data: [DONE]\n\n");
    split(&text, 29)
}

#[tokio::test]
async fn streamed_tool_call_deltas_are_reassembled_and_run_in_parallel() {
    let server = FakeServer::start(vec![
        Reply::Sse(streamed_tool_calls()),
        Reply::Sse(streamed_text(
            &["Edinburgh: 22°C", ", AAPL: 190.5 — ok"],
            "stop",
        )),
    ])
    .await;
    let mut stream = models(&server)
        .generate()
        .prompt("Weather in Edinburgh and the AAPL price?")
        .tool::<GetCurrentWeatherTool>()
        .tool::<GetStockPriceTool>()
        .stream();
    let mut chunks = Vec::new();
    while let Some(chunk) = stream.next().await {
        chunks.push(chunk);
    }
    let generation = stream.response().await.expect("generates");
    assert_eq!(generation.text(), "Edinburgh: 22°C, AAPL: 190.5 — ok");
    assert_eq!(generation.usage.input_tokens, 149 + 14);

    let requested: Vec<(String, Value)> = chunks
        .iter()
        .filter_map(|c| match c {
            GenerateChunk::ToolRequest { request, .. } => {
                Some((request.name.clone(), request.input.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        requested,
        [
            (
                "get_current_weather".to_owned(),
                json!({"location": "Edinburgh"})
            ),
            ("get_stock_price".to_owned(), json!({"ticker": "AAPL"})),
        ]
    );
    let text: String = chunks.iter().filter_map(GenerateChunk::text).collect();
    assert_eq!(text, "Edinburgh: 22°C, AAPL: 190.5 — ok");

    let requests = server.received();
    assert_eq!(requests[0].body["stream"], true);
    assert_eq!(
        requests[0].body["stream_options"],
        json!({"include_usage": true})
    );
    let tool_messages: Vec<&Value> = requests[1].body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter(|m| m["role"] == "tool")
        .collect();
    assert_eq!(tool_messages.len(), 2);
    assert_eq!(tool_messages[0]["tool_call_id"], "call_JMW1");
    assert_eq!(tool_messages[1]["content"], "190.5");
}

#[tokio::test]
async fn structured_output_uses_the_strict_dialect_and_streams_partial_values() {
    let json_pieces = [
        "{\"",
        "city",
        "\":\"",
        "San",
        " Francisco",
        "\",\"temperature\":",
        "18.5",
        ",\"units\":\"",
        "c\",\"note\":",
        "null}",
    ];
    let server = FakeServer::start(vec![Reply::Sse(streamed_text(&json_pieces, "stop"))]).await;
    let mut stream = models(&server)
        .generate()
        .prompt("Weather in SF as JSON")
        .output::<Location>()
        .stream();
    let mut partials = Vec::new();
    while let Some(chunk) = stream.next().await {
        if let GenerateChunk::PartialOutput { output, .. } = chunk {
            partials.push(output);
        }
    }
    let generated = stream.response().await.expect("valid output");
    assert_eq!(
        generated.output,
        Location {
            city: "San Francisco".into(),
            temperature: 18.5,
            units: Units::C,
            note: None
        }
    );
    assert!(partials.contains(&json!({"city": "San"})), "{partials:?}");
    assert_eq!(partials.first(), Some(&json!({})));

    let format = &server.only().body["response_format"];
    assert_eq!(format["type"], "json_schema");
    assert_eq!(format["json_schema"]["name"], "Location");
    assert_eq!(format["json_schema"]["strict"], true);
    let schema = &format["json_schema"]["schema"];
    assert_eq!(schema["additionalProperties"], false);
    let mut required: Vec<&str> = schema["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    required.sort_unstable();
    assert_eq!(required, ["city", "note", "temperature", "units"]);
    assert_eq!(
        schema["properties"]["note"]["type"],
        json!(["string", "null"])
    );
    assert_eq!(schema.get("$schema"), None);
}

#[tokio::test]
async fn strict_mode_refuses_maps_before_sending_anything() {
    #[derive(Debug, Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Scores {
        by_name: std::collections::HashMap<String, u32>,
    }
    let server = FakeServer::start(vec![]).await;
    let err = models(&server)
        .generate()
        .prompt("scores")
        .generate_data::<Scores>()
        .await
        .expect_err("maps are not strict");
    assert_eq!(err.status(), Status::InvalidArgument);
    assert!(err.message().contains("/properties/by_name"), "{err}");
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried() {
    let rate_limited = json!({"error":{"message":"Rate limit reached for gpt-4.1 in organization org-x on tokens per min (TPM): Limit 30000. Please try again in 3.89s.","type":"requests","param":null,"code":"rate_limit_exceeded"}});
    let server_error = json!({"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}});
    let server = FakeServer::start(vec![
        Reply::Json(429, vec![("retry-after-ms", "20".into())], rate_limited),
        Reply::Json(500, vec![], server_error),
        Reply::Json(200, vec![], text_reply("finally")),
    ])
    .await;
    let generation = models(&server)
        .generate()
        .prompt("hi")
        .run()
        .await
        .expect("third time lucky");
    assert_eq!(generation.text(), "finally");
    assert_eq!(server.received().len(), 3);
}

#[tokio::test]
async fn errors_map_to_statuses_and_keep_the_provider_message() {
    let server = FakeServer::start(vec![
        Reply::Json(401, vec![], json!({"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})),
        Reply::Json(429, vec![("retry-after", "600".into())], json!({"error":{"message":"slow down","type":"requests","param":null,"code":null}})),
        Reply::Json(503, vec![("x-should-retry", "false".into())], json!({"error":{"message":"down","type":"server_error","param":null,"code":null}})),
    ])
    .await;
    let models = models(&server);
    let unauthenticated = models.generate().prompt("a").run().await.expect_err("401");
    // The provider refusing genflow's key is the service's problem, not the caller's.
    assert_eq!(unauthenticated.status(), Status::Internal);
    assert!(
        unauthenticated.message().contains("Incorrect API key"),
        "{unauthenticated}"
    );
    let too_long = models.generate().prompt("b").run().await.expect_err("429");
    assert_eq!(
        too_long.status(),
        Status::ResourceExhausted,
        "retry-after above the cap"
    );
    let no_retry = models.generate().prompt("c").run().await.expect_err("503");
    assert_eq!(no_retry.status(), Status::Unavailable);
    assert_eq!(server.received().len(), 3, "none of them was retried");
}

#[tokio::test]
async fn malformed_json_is_an_error_not_a_panic() {
    let server = FakeServer::start(vec![Reply::Raw(
        200,
        "{\"id\": \"chatcmpl-1\", \"choices\": [",
    )])
    .await;
    let err = models(&server)
        .generate()
        .prompt("hi")
        .run()
        .await
        .expect_err("malformed");
    // Not UNAVAILABLE: that would invite callers to retry what the service itself does not.
    assert_eq!(err.status(), Status::Internal);
    assert!(err.message().contains("malformed JSON"), "{err}");
    assert_eq!(
        server.received().len(),
        1,
        "a malformed reply is not retried"
    );
}

#[tokio::test]
async fn a_reply_without_a_finish_reason_is_an_incomplete_reply() {
    let mut reply = text_reply("half an ans");
    reply["choices"][0]["finish_reason"] = Value::Null;
    let server = FakeServer::start(vec![Reply::Json(200, vec![], reply)]).await;
    let err = models(&server)
        .generate()
        .prompt("hi")
        .run()
        .await
        .expect_err("incomplete");
    assert_eq!(err.status(), Status::Internal);
    assert!(err.message().contains("reply from model"), "{err}");
    assert!(!err.message().contains("stream"), "not a stream: {err}");
    assert_eq!(server.received().len(), 1, "not retried");
}

#[tokio::test]
async fn a_stream_cut_off_midway_fails() {
    let mut pieces = streamed_text(&["The capital", " of Wyoming"], "stop");
    pieces.truncate(pieces.len() / 2);
    let server = FakeServer::start(vec![Reply::Sse(pieces)]).await;
    let stream = models(&server).generate().prompt("capital?").stream();
    let err = stream.response().await.expect_err("cut off");
    assert_eq!(err.status(), Status::Unavailable);
    assert!(err.message().contains("ended before"), "{err}");
}

#[tokio::test]
async fn an_error_event_inside_a_stream_fails_the_call() {
    let mut text = data_events(&[
        json!({"id":"c","object":"chat.completion.chunk","created":1,"model":"m",
        "choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}),
    ])
    .concat();
    text.push_str("data: {\"error\":{\"message\":\"TimeoutError\",\"type\":\"GatewayTimeout\",\"code\":504}}\n\ndata: [DONE]\n\n");
    let server = FakeServer::start(vec![Reply::Sse(vec![text.into_bytes()])]).await;
    let err = models(&server)
        .generate()
        .prompt("hi")
        .stream()
        .response()
        .await
        .expect_err("error event");
    assert_eq!(err.status(), Status::Unavailable);
    assert!(err.message().contains("TimeoutError"), "{err}");
}

#[tokio::test]
async fn a_slow_server_hits_the_timeout() {
    let server = FakeServer::start(vec![Reply::Slow(
        Duration::from_secs(30),
        Box::new(Reply::Json(200, vec![], text_reply("late"))),
    )])
    .await;
    let err = models(&server)
        .timeout(Duration::from_millis(200))
        .generate()
        .prompt("hi")
        .run()
        .await
        .expect_err("times out");
    assert_eq!(err.status(), Status::DeadlineExceeded);
    assert!(err.message().contains("openai/gpt-4o-mini"), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_names_the_endpoint_and_the_cause() {
    // A loopback port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let err = models_at(format!("http://user:secret@127.0.0.1:{port}/v1"))
        .generate()
        .prompt("hi")
        .run()
        .await
        .expect_err("nothing listens");
    assert_eq!(err.status(), Status::Unavailable);
    let message = err.message();
    assert!(
        message.contains(&format!(
            "the request to http://127.0.0.1:{port}/v1/chat/completions failed"
        )),
        "{message}"
    );
    assert!(message.contains("onnect"), "the cause is kept: {message}");
    assert!(
        !message.contains("secret"),
        "credentials are not shown: {message}"
    );
}

#[tokio::test]
async fn tool_choice_and_ollama_non_strict_output() {
    let server = FakeServer::start(vec![Reply::Json(
        200,
        vec![],
        text_reply("{\"city\":\"Oslo\",\"temperature\":3,\"units\":\"c\"}"),
    )])
    .await;
    let models = Models::new().provider(OpenAi::ollama().base_url(format!("{}/v1", server.url)));
    let out = models
        .generate()
        .model("ollama/llama3.2")
        .prompt("Oslo?")
        .media(Media::url(
            "https://example.com/oslo.png",
            Some("image/png"),
        ))
        .tool::<GetCurrentWeatherTool>()
        .tool_choice(ToolChoice::None)
        .max_output_tokens(50)
        .generate_data::<Location>()
        .await
        .expect("valid");
    assert_eq!(out.city, "Oslo");
    let request = server.only();
    assert_eq!(
        request.headers.get("authorization"),
        None,
        "ollama needs no key"
    );
    assert_eq!(request.body["model"], "llama3.2");
    assert_eq!(
        request.body["messages"][0]["content"],
        json!([{"type": "text", "text": "Oslo?"},
            {"type": "image_url", "image_url": {"url": "https://example.com/oslo.png"}}])
    );
    assert_eq!(request.body["max_tokens"], 50);
    assert_eq!(request.body["tool_choice"], "none");
    let format = &request.body["response_format"]["json_schema"];
    assert_eq!(format["strict"], false);
    assert_eq!(
        format["schema"]["required"],
        json!(["city", "temperature", "units"])
    );
}
