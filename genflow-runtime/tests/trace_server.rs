//! Trace export to a Genkit telemetry server: a real loopback receiver of
//! `POST /api/traces`, connected through the reflection API's `notify`, sees each span at its
//! start (realtime, `endTime` 0) and at its end, in Genkit's trace format, before the run's
//! answer is complete.

mod common;

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::routing::post;
use common::within;
use genflow_runtime::devtools::DevServer;
use genflow_runtime::prelude::*;
use genflow_runtime::telemetry::{Telemetry, TraceServerExporter};
use serde_json::{Value, json};

/// Looks something up in one traced step.
#[flow]
async fn lookup(ctx: &FlowContext, word: String) -> Result<usize, FlowError> {
    ctx.run("measure", async { Ok::<_, FlowError>(word.len()) })
        .await
}

/// A telemetry server that keeps every posted trace.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let posts = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&posts);
    let app = axum::Router::new().route(
        "/api/traces",
        post(move |Json(trace): Json<Value>| async move {
            kept.lock().expect("lock").push(trace);
            "OK"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, posts)
}

#[tokio::test(flavor = "multi_thread")]
async fn notified_runs_post_genkit_traces_at_start_and_end() {
    let exporter = TraceServerExporter::waiting_for_url().realtime(true);
    let telemetry = Telemetry::new()
        .trace_store(0)
        .trace_server(exporter.clone())
        .init()
        .expect("telemetry installs");
    let registry = Registry::builder()
        .telemetry(telemetry)
        .build()
        .expect("registry");
    let project = std::env::temp_dir().join(format!("genflow-trace-server-{}", std::process::id()));
    let dev = DevServer::new(registry)
        .port(0)
        .project_root(&project)
        .start()
        .await
        .expect("dev server");
    let (url, posts) = receiver().await;
    let http = reqwest::Client::new();

    let notified = http
        .post(format!("{}/api/notify", dev.url()))
        .json(&json!({"telemetryServerUrl": url, "reflectionApiSpecVersion": 1}))
        .send()
        .await
        .expect("notify");
    assert_eq!(notified.status(), 200);
    assert_eq!(exporter.url().as_deref(), Some(url.as_str()));

    let response = within(
        http.post(format!("{}/api/runAction", dev.url()))
            .json(&json!({"key": "/flow/lookup", "input": "genkit"}))
            .send(),
    )
    .await
    .expect("run");
    let trace_id = response
        .headers()
        .get("x-genkit-trace-id")
        .and_then(|v| v.to_str().ok())
        .expect("trace header")
        .to_owned();
    let root_span = response
        .headers()
        .get("x-genkit-span-id")
        .and_then(|v| v.to_str().ok())
        .expect("span header")
        .to_owned();
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["result"], 6);

    // The answer waited for the export: everything is there now.
    let posts = posts.lock().expect("lock").clone();
    assert!(
        posts.iter().all(|p| p["traceId"] == trace_id.as_str()),
        "{posts:#?}"
    );
    let spans: Vec<&Value> = posts
        .iter()
        .flat_map(|p| p["spans"].as_object().expect("spans by id").iter())
        .map(|(id, span)| {
            assert_eq!(span["spanId"], id.as_str(), "keyed by span id");
            span
        })
        .collect();
    for span in &spans {
        assert_eq!(span["traceId"], trace_id.as_str());
        assert!(span["startTime"].as_f64().expect("startTime ms") > 1.0e12);
        assert!(span["endTime"].is_number());
        assert!(span["attributes"].is_object());
        assert!(span["displayName"].is_string());
        assert_eq!(span["instrumentationLibrary"]["name"], "genflow");
        assert_eq!(span["spanKind"], "INTERNAL");
        assert_eq!(span["sameProcessAsParentSpan"]["value"], true);
        assert!(span["status"]["code"].is_number());
        assert!(span["timeEvents"]["timeEvent"].is_array());
    }
    let root: Vec<&&Value> = spans
        .iter()
        .filter(|s| s["spanId"] == root_span.as_str())
        .collect();
    assert_eq!(
        root.len(),
        2,
        "the root at its start and at its end: {root:#?}"
    );
    assert_eq!(root[0]["endTime"], 0, "realtime: posted at start");
    assert!(
        root[1]["endTime"].as_f64().expect("end") >= root[1]["startTime"].as_f64().expect("start")
    );
    assert!(root[1].get("parentSpanId").is_none());
    let attributes = &root[1]["attributes"];
    assert_eq!(attributes["genkit:name"], "lookup");
    assert_eq!(attributes["genkit:type"], "action");
    assert_eq!(attributes["genkit:metadata:subtype"], "flow");
    assert_eq!(attributes["genkit:state"], "success");
    assert_eq!(attributes["genkit:input"], "\"genkit\"");
    assert_eq!(attributes["genkit:output"], "6");
    let step = spans
        .iter()
        .rfind(|s| s["displayName"] == "measure")
        .expect("the step's span");
    assert_eq!(step["parentSpanId"], root_span.as_str());
    assert_eq!(step["attributes"]["genkit:type"], "flowStep");
    let with_root = posts
        .iter()
        .find(|p| {
            p["spans"][&root_span]["endTime"]
                .as_f64()
                .is_some_and(|t| t > 0.0)
        })
        .expect("the root's end post");
    assert_eq!(with_root["displayName"], "lookup");
    assert!(with_root["startTime"].is_number() && with_root["endTime"].is_number());

    dev.stop().await;
    let _ = std::fs::remove_dir_all(project);
}
