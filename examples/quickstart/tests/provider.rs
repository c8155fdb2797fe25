//! The quickstart on a real provider wire: `GENFLOW_MODEL=openai/...` against a loopback
//! OpenAI-compatible server. The structured-output request is the provider's real format, and
//! neither the provider key nor the caller's headers reach the logs.

mod support;

use std::sync::{Arc, Mutex, PoisonError};

use axum::routing::post;
use serde_json::{Value, json};
use support::Service;

const PROVIDER_KEY: &str = "sk-quickstart-secret-91c4";

/// A loopback OpenAI-compatible server recording the requests it gets.
async fn fake_openai(seen: Arc<Mutex<Vec<(String, Value)>>>) -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        post(move |headers: axum::http::HeaderMap, body: String| {
            let seen = Arc::clone(&seen);
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let request: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                seen.lock().unwrap_or_else(PoisonError::into_inner).push((auth, request));
                let answer = json!({"answer": "Tools are async fns with a doc comment.", "citations": ["tools"], "confidence": 0.8});
                let reply = json!({
                    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.to_string()}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}
                });
                ([("content-type", "application/json")], reply.to_string())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/v1")
}

#[tokio::test]
async fn quickstart_uses_the_configured_provider_and_keeps_keys_out_of_logs() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base_url = fake_openai(Arc::clone(&seen)).await;
    let service = Service::start_with(&[
        ("GENFLOW_MODEL", "openai/gpt-4o-mini"),
        ("OPENAI_BASE_URL", &base_url),
        ("OPENAI_API_KEY", PROVIDER_KEY),
        ("RUST_LOG", "debug"),
    ]);
    let response = reqwest::Client::new()
        .post(format!("{}/ragQuery", service.base))
        .bearer_auth("caller-token-44aa")
        .json(&json!({"data": {"question": "How do tools work?"}}))
        .send()
        .await
        .expect("POST /ragQuery");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(
        body["result"]["answer"],
        "Tools are async fns with a doc comment."
    );
    assert_eq!(body["result"]["citations"], json!(["tools"]));

    let requests = seen.lock().unwrap_or_else(PoisonError::into_inner).clone();
    assert_eq!(requests.len(), 1, "exactly one model call");
    let (auth, request) = &requests[0];
    assert_eq!(auth, &format!("Bearer {PROVIDER_KEY}"));
    assert_eq!(request["model"], "gpt-4o-mini");
    assert_eq!(request["response_format"]["type"], "json_schema");
    assert_eq!(request["response_format"]["json_schema"]["strict"], true);
    let schema = &request["response_format"]["json_schema"]["schema"];
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(
        schema["required"],
        json!(["answer", "citations", "confidence"])
    );
    let prompt = request["messages"].to_string();
    assert!(
        prompt.contains("[tools] A tool is"),
        "the retrieved passages are in the prompt"
    );

    let exit = service.stop();
    assert!(exit.success());
}

#[tokio::test]
async fn logs_never_show_keys() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let base_url = fake_openai(seen).await;
    let service = Service::start_with(&[
        ("GENFLOW_MODEL", "openai/gpt-4o-mini"),
        ("OPENAI_BASE_URL", &base_url),
        ("OPENAI_API_KEY", PROVIDER_KEY),
        ("RUST_LOG", "trace"),
    ]);
    let response = reqwest::Client::new()
        .post(format!("{}/ragQuery", service.base))
        .bearer_auth("caller-token-44aa")
        .json(&json!({"data": {"question": "What is a flow?"}}))
        .send()
        .await
        .expect("POST /ragQuery");
    assert_eq!(response.status(), 200);
    response.bytes().await.expect("body");
    let output = service.output();
    assert!(
        output.contains("ragQuery"),
        "the logs record the run: {output}"
    );
    for secret in [PROVIDER_KEY, "caller-token-44aa"] {
        assert!(!output.contains(secret), "{secret} leaked into the logs");
    }
    assert!(service.stop().success());
}
