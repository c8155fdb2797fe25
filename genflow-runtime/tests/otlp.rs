//! OTLP export end to end: spans of a flow, its step and a tool reach a real OpenTelemetry
//! receiver (Arize Phoenix, started by this test) with their parent links and attributes.
//!
//! Needs the `otlp` feature and Phoenix (`pip install arize-phoenix`); the test finds the
//! `phoenix` executable through `PHOENIX_BIN` or `PATH`. Without it the test is skipped, except
//! when `CI` is set (`.ci/run` installs it).
#![cfg(feature = "otlp")]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use genflow_runtime::RunOptions;
use genflow_runtime::prelude::*;
use genflow_runtime::telemetry::Telemetry;
use serde_json::{Value, json};

/// Double a number.
#[tool]
async fn double(
    /// The number
    n: i64,
) -> Result<i64, ToolError> {
    Ok(n * 2)
}

/// Doubles the input in a step, through the tool.
#[flow(name = "doubler")]
async fn doubler(ctx: &FlowContext, n: i64) -> Result<i64, FlowError> {
    ctx.run("double it", ctx.call::<DoubleTool>(DoubleArgs { n }))
        .await
}

struct Phoenix(Child);

impl Drop for Phoenix {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start_phoenix() -> Option<(Phoenix, u16)> {
    let bin = std::env::var("PHOENIX_BIN").unwrap_or_else(|_| "phoenix".to_owned());
    let (http, grpc) = (free_port(), free_port());
    let dir = std::env::temp_dir().join(format!("genflow-phoenix-{}", std::process::id()));
    let child = Command::new(&bin)
        .arg("serve")
        .env("PHOENIX_HOST", "127.0.0.1")
        .env("PHOENIX_PORT", http.to_string())
        .env("PHOENIX_GRPC_PORT", grpc.to_string())
        .env("PHOENIX_WORKING_DIR", &dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match child {
        Ok(child) => Some((Phoenix(child), http)),
        Err(e) if std::env::var_os("CI").is_none() => {
            eprintln!("skipped: Phoenix is not installed ({bin}: {e}); pip install arize-phoenix");
            None
        }
        Err(e) => panic!("Phoenix is required in CI ({bin}: {e})"),
    }
}

async fn get_json(http: &reqwest::Client, url: &str) -> Option<Value> {
    http.get(url).send().await.ok()?.json().await.ok()
}

#[tokio::test(flavor = "current_thread")]
async fn spans_reach_a_real_otlp_receiver_with_links_and_attributes() {
    let Some((_phoenix, port)) = start_phoenix() else {
        return;
    };
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    // Phoenix takes a few seconds to start: wait up to 120 s for its API.
    let mut ready = false;
    for _ in 0..240 {
        if get_json(&http, &format!("{base}/v1/projects"))
            .await
            .is_some()
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(ready, "Phoenix did not start");

    let telemetry = Telemetry::new()
        .metrics(false)
        .otlp_endpoint(&base)
        .init()
        .expect("telemetry with OTLP");
    let registry = Registry::builder()
        .telemetry(telemetry.clone())
        .build()
        .expect("registry");
    let started = registry
        .start("doubler", json!(21), RunOptions::default())
        .expect("flow");
    let ids = started.ids.expect("ids");
    assert_eq!(started.future.await.expect("runs"), json!(42));
    telemetry.shutdown(); // flushes the batch exporter

    let trace_id = ids.trace_hex();
    let mut spans = Vec::new();
    for _ in 0..120 {
        if let Some(body) = get_json(
            &http,
            &format!("{base}/v1/projects/default/spans?limit=100"),
        )
        .await
        {
            spans = body["data"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|s| s["context"]["trace_id"] == trace_id.as_str())
                .cloned()
                .collect();
            if spans.len() >= 3 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let by_name = |name: &str| {
        spans
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no span {name} in {spans:#?}"))
    };
    let flow = by_name("doubler");
    let step = by_name("double it");
    let tool = by_name("double");
    assert_eq!(flow["context"]["span_id"], ids.span_hex().as_str());
    assert_eq!(step["parent_id"], flow["context"]["span_id"]);
    assert_eq!(tool["parent_id"], step["context"]["span_id"]);
    assert_eq!(flow["attributes"]["genkit:name"], "doubler");
    assert_eq!(flow["attributes"]["genkit:metadata:subtype"], "flow");
    assert_eq!(flow["attributes"]["genkit:output"], "42");
    assert_eq!(tool["attributes"]["genkit:metadata:subtype"], "tool");
    assert_eq!(
        tool["attributes"]["genkit:path"],
        "/{doubler,t:flow}/{double it,t:flowStep,s:flowStep}/{double,t:action,s:tool}"
    );
    let _ = (doubler, double);
}
