//! What a caller of a flow sees when the flow's model provider refuses: a rate limit reaches
//! the caller as 429 with the provider's (bounded) `Retry-After`, and the provider's own words
//! (which may echo the request's key) reach no caller outside dev mode.

mod common;
mod support;

use std::time::Duration;

use common::start;
use genflow_runtime::http::FlowServer;
use genflow_runtime::model::providers::OpenAi;
use genflow_runtime::model::{Models, RetryPolicy};
use genflow_runtime::prelude::*;
use serde_json::json;
use support::{FakeServer, Reply};

/// Asks the model.
#[flow]
async fn ask(ctx: &FlowContext, question: String) -> Result<String, FlowError> {
    Ok(ctx.generate().prompt(question).run().await?.text())
}

fn models_at(upstream: &FakeServer) -> Models {
    Models::new()
        .provider(OpenAi::new("sk-test-SECRET-0123456789").base_url(format!("{}/v1", upstream.url)))
        .default_model("openai/gpt-4o-mini")
        .retry(RetryPolicy {
            max_retries: 0,
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(1),
            max_retry_after: Duration::from_secs(5),
        })
}

fn rate_limited(retry_after: &str) -> Reply {
    Reply::Json(
        429,
        vec![("retry-after", retry_after.to_owned())],
        json!({"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}),
    )
}

/// POSTs a question to `url`.
async fn post(url: String) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .json(&json!({"data": "hi"}))
        .send()
        .await
        .expect("send")
}

/// POSTs to `/ask` and returns the status and `Retry-After`.
async fn ask_once(url: String) -> (u16, Option<String>) {
    let response = post(url).await;
    let after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (response.status().as_u16(), after)
}

#[tokio::test]
async fn a_rate_limit_reaches_the_caller_with_its_retry_after() {
    let upstream = FakeServer::start(vec![rate_limited("7"), rate_limited("600")]).await;
    let registry = Registry::builder()
        .state(models_at(&upstream))
        .build()
        .expect("registry");
    let running = start(FlowServer::new(registry)).await;

    assert_eq!(
        ask_once(running.url("/ask")).await,
        (429, Some("7".to_owned()))
    );
    // An upstream asking for ten minutes is bounded to a minute.
    assert_eq!(
        ask_once(running.url("/ask")).await,
        (429, Some("60".to_owned()))
    );
    assert_eq!(upstream.received().len(), 2, "no retries were allowed");
    running.stop().await;
}

/// A 400 whose message echoes the request's `Authorization` header.
fn echoing_refusal() -> Reply {
    Reply::Json(
        400,
        vec![],
        json!({"error":{"message":"Invalid request. Received headers: Authorization: Bearer sk-test-SECRET-0123456789","type":"invalid_request_error","param":null,"code":null}}),
    )
}

/// POSTs to `/ask` and returns the status and the error body.
async fn ask_error(url: String) -> (u16, serde_json::Value) {
    let response = post(url).await;
    (
        response.status().as_u16(),
        response.json().await.expect("json"),
    )
}

#[tokio::test]
async fn upstream_words_and_keys_never_reach_the_caller() {
    let upstream = FakeServer::start(vec![echoing_refusal(), echoing_refusal()]).await;
    let registry = || {
        Registry::builder()
            .state(models_at(&upstream))
            .build()
            .expect("registry")
    };
    let production = start(FlowServer::new(registry())).await;
    let (code, body) = ask_error(production.url("/ask")).await;
    assert_eq!(code, 400);
    assert_eq!(
        body,
        json!({"status": "INVALID_ARGUMENT", "message": "the model provider refused the request"})
    );
    production.stop().await;

    // Dev mode shows the provider's words, with the key scrubbed.
    let dev = start(FlowServer::new(registry()).dev_mode(true)).await;
    let (code, body) = ask_error(dev.url("/ask")).await;
    assert_eq!(code, 400);
    let message = body["message"].as_str().expect("message");
    assert!(
        message.contains("Invalid request. Received headers"),
        "{message}"
    );
    assert!(message.contains("Bearer [redacted]"), "{message}");
    assert!(!message.contains("SECRET"), "{message}");
    dev.stop().await;
}
