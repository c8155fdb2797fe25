//! With telemetry installed, the trace headers are the run's real span, joined to the caller's
//! `traceparent`.

mod common;

use common::{header, start};
use genflow_runtime::http::FlowServer;
use genflow_runtime::prelude::*;
use genflow_runtime::telemetry::Telemetry;
use reqwest::header::ACCEPT;

/// Repeats its input.
#[flow(stream = String)]
async fn echo(ctx: &FlowContext<String>, input: String) -> Result<String, FlowError> {
    ctx.send_chunk(input.clone()).await?;
    Ok(input)
}

const PARENT_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN: &str = "00f067aa0ba902b7";

#[tokio::test(flavor = "multi_thread")]
async fn trace_headers_name_the_runs_span() {
    let telemetry = Telemetry::new().init().expect("telemetry installs");
    let registry = Registry::builder()
        .telemetry(telemetry.clone())
        .build()
        .expect("registry");
    let running = start(FlowServer::new(registry)).await;
    let http = reqwest::Client::new();

    for accept in ["application/json", "text/event-stream"] {
        let response = http
            .post(running.url("/echo"))
            .header(ACCEPT, accept)
            .header("traceparent", format!("00-{PARENT_TRACE}-{PARENT_SPAN}-01"))
            .json(&serde_json::json!({"data": "hi"}))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200);
        assert_eq!(
            header(&response, "x-genkit-trace-id"),
            PARENT_TRACE,
            "{accept}"
        );
        let span = header(&response, "x-genkit-span-id");
        assert_eq!(span.len(), 16, "{accept}");
        assert_ne!(span, PARENT_SPAN, "the run is a child of the caller's span");
        response.bytes().await.expect("body");
    }

    // The default store records only while something serves the trace API.
    let unread = http
        .post(running.url("/echo"))
        .json(&serde_json::json!({"data": "hi"}))
        .send()
        .await
        .expect("send");
    let unread_id = header(&unread, "x-genkit-trace-id");
    unread.bytes().await.expect("body");
    let store = telemetry.trace_store().expect("trace store");
    assert!(!store.is_recording());
    assert!(
        store.get(&unread_id).is_none(),
        "nobody reads the store yet"
    );

    let registry = Registry::builder()
        .telemetry(telemetry.clone())
        .build()
        .expect("registry");
    let with_api = start(FlowServer::new(registry).trace_api(true)).await;
    let fresh = http
        .post(with_api.url("/echo"))
        .json(&serde_json::json!({"data": "hi"}))
        .send()
        .await
        .expect("send");
    let trace_id = header(&fresh, "x-genkit-trace-id");
    assert_ne!(trace_id, PARENT_TRACE);
    fresh.bytes().await.expect("body");
    assert!(
        store.is_recording(),
        "serving the trace API turns recording on"
    );
    let trace: serde_json::Value = http
        .get(with_api.url(&format!("/api/traces/{trace_id}")))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(
        trace["traceId"], trace_id,
        "the header names a trace the store recorded"
    );
    with_api.stop().await;
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_trace_api_is_behind_the_servers_auth() {
    let telemetry = Telemetry::new().trace_store(10).build().expect("telemetry");
    let registry = Registry::builder()
        .telemetry(telemetry)
        .build()
        .expect("registry");
    let server = FlowServer::new(registry)
        .auth(genflow_runtime::http::ApiKey::bearer("dev-key"))
        .trace_api(true);
    let running = start(server).await;
    let http = reqwest::Client::new();
    let anonymous = http
        .get(running.url("/api/traces"))
        .send()
        .await
        .expect("send");
    assert_eq!(
        anonymous.status(),
        401,
        "flow inputs are not shown to anyone"
    );
    let keyed = http
        .get(running.url("/api/traces"))
        .bearer_auth("dev-key")
        .send()
        .await
        .expect("send");
    assert_eq!(keyed.status(), 200);
    running.stop().await;
}
