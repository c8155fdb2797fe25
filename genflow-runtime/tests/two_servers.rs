//! Telemetry is a value: two servers in one process, each with its own telemetry, record into
//! their own (traces, recorded inputs, metrics) and never into the other's.

mod common;

use common::start;
use genflow_runtime::http::FlowServer;
use genflow_runtime::prelude::*;
use genflow_runtime::telemetry::{Telemetry, TelemetryHandle};
use serde_json::{Value, json};

/// Repeats its input, with a traced step.
#[flow]
async fn echo(ctx: &FlowContext, input: String) -> Result<String, FlowError> {
    ctx.run("copy", async { Ok::<_, FlowError>(input.clone()) })
        .await
}

fn registry(telemetry: &TelemetryHandle) -> Registry {
    Registry::builder()
        .telemetry(telemetry.clone())
        .build()
        .expect("registry")
}

/// Calls `/echo` and returns the trace id the response names.
async fn call(http: &reqwest::Client, url: String, input: &str) -> String {
    let response = http
        .post(url)
        .json(&json!({ "data": input }))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let trace = response
        .headers()
        .get("x-genkit-trace-id")
        .and_then(|v| v.to_str().ok())
        .expect("trace id")
        .to_owned();
    response.bytes().await.expect("body");
    trace
}

fn root_input(telemetry: &TelemetryHandle, trace_id: &str) -> Option<Value> {
    let trace = telemetry
        .trace_store()
        .and_then(|store| store.get(trace_id))
        .expect("trace stored");
    let root = &trace.spans[&trace.tree[0].span_id];
    root["attributes"].get("genkit:input").cloned()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_keep_their_telemetry_apart() {
    // The first installs the process's subscriber; the second is only built (nothing global).
    let first = Telemetry::new()
        .trace_store(10)
        .init()
        .expect("first telemetry");
    let second = Telemetry::new()
        .trace_store(10)
        .record_io(false)
        .metrics(false)
        .build()
        .expect("second telemetry");
    let detached = Registry::builder().build().expect("registry");
    let a = start(FlowServer::new(registry(&first))).await;
    let b = start(FlowServer::new(registry(&second))).await;
    let c = start(FlowServer::new(detached)).await;
    let http = reqwest::Client::new();

    let from_a = call(&http, a.url("/echo"), "to a").await;
    let from_b = call(&http, b.url("/echo"), "to b").await;
    call(&http, c.url("/echo"), "to nobody").await;

    let (store_a, store_b) = (
        first.trace_store().expect("store"),
        second.trace_store().expect("store"),
    );
    assert!(store_a.get(&from_a).is_some() && store_a.get(&from_b).is_none());
    assert!(store_b.get(&from_b).is_some() && store_b.get(&from_a).is_none());
    assert_eq!(store_a.list(10).len(), 1, "c's run reached neither store");
    assert_eq!(store_b.list(10).len(), 1, "c's run reached neither store");
    let steps = |store: &genflow_runtime::telemetry::TraceStore, id: &str| {
        store.get(id).map(|t| t.spans.len())
    };
    assert_eq!(steps(store_a, &from_a), Some(2), "the flow and its step");
    assert_eq!(steps(store_b, &from_b), Some(2), "the flow and its step");

    // Each records inputs by its own setting.
    assert_eq!(root_input(&first, &from_a), Some(json!("\"to a\"")));
    assert_eq!(root_input(&second, &from_b), None);

    // Metrics: a's count a's run only; b records none and serves none.
    let metrics = http
        .get(a.url("/metrics"))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    let runs = r#"genkit_action_requests_total{kind="flow",name="echo",status="OK"} 1"#;
    assert!(metrics.lines().any(|l| l == runs), "{metrics}");
    assert!(
        metrics.contains(r#"genflow_http_requests_total{flow="echo",code="200"} 1"#),
        "{metrics}"
    );
    assert_eq!(second.render_metrics(), None);
    let off = http.get(b.url("/metrics")).send().await.expect("send");
    assert_eq!(off.status(), 404, "b's metrics are off");

    for running in [a, b, c] {
        running.stop().await;
    }
}
