//! Recording metrics keeps no memory per request while nobody scrapes: after a warm-up over a
//! fixed label set, 10 000 more HTTP flow requests (each an action run and a model call) leave
//! the live heap where it was. A test binary of its own, so its counting allocator sees this
//! test alone.

#![cfg(all(feature = "server", feature = "models"))]

use std::alloc::System;

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use genflow_runtime::http::FlowServer;
use genflow_runtime::model::{GenerateExt, Models};
use genflow_runtime::prelude::*;
use genflow_runtime::telemetry::Telemetry;
use tower::ServiceExt;

#[global_allocator]
static HEAP: cap::Cap<System> = cap::Cap::new(System, usize::MAX);

/// Asks the echo model to repeat the input.
#[flow(name = "repeat")]
async fn repeat(ctx: &FlowContext, input: String) -> Result<String, FlowError> {
    let generation = ctx
        .generate()
        .model("local/echo")
        .prompt(input)
        .run()
        .await?;
    Ok(generation.text())
}

/// Answers `count` requests to `/repeat` and returns how many answered 200.
async fn answer(app: &axum::Router, count: usize) -> usize {
    let mut ok = 0;
    for _ in 0..count {
        let request = Request::post("/repeat")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"data":"hello"}"#))
            .expect("request");
        let response = app.clone().oneshot(request).await.expect("infallible");
        if response.status() == StatusCode::OK {
            ok += 1;
        }
        to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
    }
    ok
}

/// The requests of the measured run: enough that a few bytes kept per request would show.
const REQUESTS: usize = 10_000;

#[tokio::test]
async fn recording_keeps_no_memory_per_request() {
    // Metrics on; no trace store and no log output, which would keep or buffer data of their own.
    let telemetry = Telemetry::new()
        .trace_store(0)
        .log_filter("off")
        .init()
        .expect("telemetry installs");
    let registry = Registry::builder()
        .state(Models::new())
        .telemetry(telemetry.clone())
        .build()
        .expect("registry");
    let app = FlowServer::new(registry).into_router();

    // The warm-up creates every series and fills the allocator's and runtime's caches.
    assert_eq!(answer(&app, 1_000).await, 1_000);
    let before = HEAP.allocated();
    assert_eq!(answer(&app, REQUESTS).await, REQUESTS);
    let after = HEAP.allocated();

    let text = telemetry.render_metrics().expect("metrics on");
    let total = 1_000 + REQUESTS;
    for series in [
        format!(r#"genkit_action_requests_total{{kind="flow",name="repeat",status="OK"}} {total}"#),
        format!(r#"genkit_ai_generate_requests_total{{model="local/echo",status="OK"}} {total}"#),
        format!(r#"genflow_http_requests_total{{flow="repeat",code="200"}} {total}"#),
    ] {
        assert!(
            text.lines().any(|l| l == series),
            "{series} missing in\n{text}"
        );
    }
    assert!(
        after <= before,
        "the live heap grew by {} bytes over {REQUESTS} requests",
        after - before
    );
}
