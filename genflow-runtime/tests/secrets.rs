//! Secrets stay out of telemetry: neither the caller's API key nor the model provider's key
//! appears in any recorded span, trace API answer or metric.

mod common;

use axum::routing::post;
use common::start;
use genflow_runtime::http::{ApiKey, FlowServer};
use genflow_runtime::model::{EnvVars, GenerateExt, Models};
use genflow_runtime::prelude::*;
use genflow_runtime::telemetry::Telemetry;
use serde_json::json;

const CALLER_KEY: &str = "caller-secret-7f3a9c";
const PROVIDER_KEY: &str = "sk-provider-secret-5e1b2d";

/// Asks the model to greet someone.
#[flow(name = "greet")]
async fn greet(ctx: &FlowContext, name: String) -> Result<String, FlowError> {
    let reply = ctx
        .generate()
        .prompt(format!("Greet {name}."))
        .run()
        .await?;
    Ok(reply.text())
}

/// A loopback OpenAI-compatible server answering every chat completion with "hello".
async fn fake_openai() -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(|| async {
            let body = json!({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}
            });
            ([("content-type", "application/json")], body.to_string())
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/v1")
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_never_reach_spans_traces_or_metrics() {
    let telemetry = Telemetry::new().init().expect("telemetry installs");
    let base_url = fake_openai().await;
    let models = Models::from_vars(&EnvVars::from_pairs([
        ("OPENAI_API_KEY", PROVIDER_KEY),
        ("OPENAI_BASE_URL", base_url.as_str()),
    ]))
    .default_model("openai/gpt-4o-mini");
    let registry = Registry::builder()
        .state(models)
        .telemetry(telemetry.clone())
        .build()
        .expect("registry");
    let server = FlowServer::new(registry)
        .auth(ApiKey::bearer(CALLER_KEY))
        .trace_api(true);
    let running = start(server).await;
    let http = reqwest::Client::new();

    let answer = http
        .post(running.url("/greet"))
        .bearer_auth(CALLER_KEY)
        .json(&json!({"data": "Ada"}))
        .send()
        .await
        .expect("send");
    assert_eq!(answer.status(), 200);
    let trace_id = answer
        .headers()
        .get("x-genkit-trace-id")
        .and_then(|v| v.to_str().ok())
        .expect("trace id")
        .to_owned();
    let body: serde_json::Value = answer.json().await.expect("json");
    assert_eq!(body["result"], "hello");

    let refused = http
        .post(running.url("/greet"))
        .bearer_auth("wrong-key-also-secret")
        .json(&json!({"data": "Eve"}))
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status(), 403);

    let trace = telemetry
        .trace_store()
        .and_then(|s| s.get(&trace_id))
        .expect("the run was traced");
    assert!(
        trace.spans.len() >= 2,
        "the flow and its model call are recorded: {:?}",
        trace.tree
    );
    let model = trace
        .spans
        .values()
        .find(|s| s["attributes"]["genkit:metadata:subtype"] == "model")
        .expect("a model span");
    assert_eq!(model["displayName"], "openai/gpt-4o-mini");
    assert_eq!(model["attributes"]["gen_ai.request.model"], "gpt-4o-mini");
    assert_eq!(model["attributes"]["gen_ai.provider.name"], "openai");
    assert_eq!(model["attributes"]["gen_ai.usage.input_tokens"], 5);
    assert_eq!(model["attributes"]["gen_ai.usage.output_tokens"], 1);
    assert_eq!(model["attributes"]["genkit:state"], "success");
    assert_eq!(
        model["attributes"]["genkit:path"],
        "/{greet,t:flow}/{openai/gpt-4o-mini,t:action,s:model}"
    );
    let mut everything = serde_json::to_string(&trace).expect("json");
    for path in [
        "/api/traces",
        &format!("/api/traces/{trace_id}"),
        "/metrics",
    ] {
        let text = http
            .get(running.url(path))
            .send()
            .await
            .expect("GET")
            .text()
            .await
            .expect("text");
        everything.push_str(&text);
    }
    assert!(everything.contains("Ada"), "inputs are recorded");
    assert!(
        everything.contains("gen_ai.usage.input_tokens"),
        "the model call is traced"
    );
    for secret in [CALLER_KEY, PROVIDER_KEY, "wrong-key-also-secret"] {
        assert!(
            !everything.contains(secret),
            "{secret} leaked into telemetry"
        );
    }
    running.stop().await;
    let _ = greet;
}
