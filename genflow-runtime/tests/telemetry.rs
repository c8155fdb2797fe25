//! Spans of flows, steps and tools reach the trace store with Genkit's attributes; metrics are
//! recorded; a caller's `traceparent` is joined.

use genflow_runtime::prelude::*;
use genflow_runtime::telemetry::{Telemetry, TraceParent};
use genflow_runtime::{RunOptions, telemetry::TraceData};
use serde_json::{Value, json};

/// Count the letters of a word.
#[tool]
async fn count_letters(
    /// The word
    word: String,
) -> Result<usize, ToolError> {
    Ok(word.chars().count())
}

/// Count the letters of every word, each in a step, the tool called from the second.
#[flow(name = "letters")]
async fn letters(ctx: &FlowContext, sentence: String) -> Result<Vec<usize>, FlowError> {
    let words: Vec<String> = ctx
        .run("split", async {
            Ok::<_, FlowError>(sentence.split_whitespace().map(str::to_owned).collect())
        })
        .await?;
    ctx.run("count", async {
        let mut counts = Vec::new();
        for word in words {
            counts.push(
                ctx.call::<CountLettersTool>(CountLettersArgs { word })
                    .await?,
            );
        }
        Ok::<_, FlowError>(counts)
    })
    .await
}

/// Handles a secret; its input and output stay out of traces.
#[flow(name = "secret", redact)]
async fn secret(password: String) -> Result<usize, FlowError> {
    Ok(password.len())
}

/// Always fails.
#[flow(name = "failing")]
async fn failing(_: ()) -> Result<(), FlowError> {
    Err(FlowError::unavailable("down for maintenance"))
}

fn attr<'a>(trace: &'a TraceData, span_name: &str, key: &str) -> Option<&'a Value> {
    trace
        .spans
        .values()
        .find(|s| s["displayName"] == span_name)
        .and_then(|s| s["attributes"].get(key))
}

#[tokio::test(flavor = "current_thread")]
async fn traces_metrics_and_parents() {
    // An explicit size records from the start, with or without a trace API.
    let telemetry = Telemetry::new()
        .trace_store(100)
        .init()
        .expect("telemetry installs");
    let store = telemetry.trace_store().expect("trace store");
    let registry = Registry::builder()
        .telemetry(telemetry.clone())
        .build()
        .expect("registry");

    // A flow with two steps and a nested tool call.
    let started = registry
        .start("letters", json!("ab cde"), RunOptions::default())
        .expect("flow exists");
    let ids = started.ids.expect("telemetry gives ids");
    assert_eq!(started.future.await.expect("runs"), json!([2, 3]));
    let trace = store.get(&ids.trace_hex()).expect("trace stored");
    assert_eq!(trace.display_name, "letters");
    assert_eq!(trace.tree.len(), 1);
    let root = &trace.tree[0];
    assert_eq!(root.span_id, ids.span_hex());
    let steps: Vec<&str> = root
        .children
        .iter()
        .map(|c| c.display_name.as_str())
        .collect();
    assert_eq!(steps, ["split", "count"]);
    let tools: Vec<&str> = root.children[1]
        .children
        .iter()
        .map(|c| c.display_name.as_str())
        .collect();
    assert_eq!(tools, ["count_letters", "count_letters"]);
    assert_eq!(attr(&trace, "letters", "genkit:isRoot"), Some(&json!(true)));
    assert_eq!(
        attr(&trace, "letters", "genkit:input"),
        Some(&json!("\"ab cde\""))
    );
    assert_eq!(
        attr(&trace, "letters", "genkit:output"),
        Some(&json!("[2,3]"))
    );
    assert_eq!(
        attr(&trace, "letters", "genkit:state"),
        Some(&json!("success"))
    );
    assert_eq!(
        attr(&trace, "split", "genkit:type"),
        Some(&json!("flowStep"))
    );
    assert_eq!(
        attr(&trace, "count_letters", "genkit:path"),
        Some(&json!(
            "/{letters,t:flow}/{count,t:flowStep,s:flowStep}/{count_letters,t:action,s:tool}"
        ))
    );
    assert_eq!(
        attr(&trace, "count_letters", "genkit:metadata:subtype"),
        Some(&json!("tool"))
    );

    // Redacted flows keep their data out of the trace.
    let started = registry
        .start("secret", json!("hunter2"), RunOptions::default())
        .expect("flow");
    let ids = started.ids.expect("ids");
    started.future.await.expect("runs");
    let trace = store.get(&ids.trace_hex()).expect("stored");
    let text = serde_json::to_string(&trace).expect("json");
    assert!(!text.contains("hunter2"), "{text}");
    assert_eq!(
        attr(&trace, "secret", "genkit:state"),
        Some(&json!("success"))
    );

    // Failures are marked.
    let started = registry
        .start("failing", Value::Null, RunOptions::default())
        .expect("flow");
    let ids = started.ids.expect("ids");
    assert!(started.future.await.is_err());
    let trace = store.get(&ids.trace_hex()).expect("stored");
    assert_eq!(
        attr(&trace, "failing", "genkit:state"),
        Some(&json!("error"))
    );
    let root = trace.spans.values().next().expect("one span");
    assert_eq!(root["status"]["code"], 2);
    assert!(
        root["status"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("down for maintenance"),
        "{root}"
    );

    // A caller's traceparent makes the run join its trace.
    let parent = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        .expect("valid");
    let started = registry
        .start(
            "letters",
            json!("x"),
            RunOptions {
                parent: Some(parent),
                ..RunOptions::default()
            },
        )
        .expect("flow");
    let ids = started.ids.expect("ids");
    assert_eq!(ids.trace_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    started.future.await.expect("runs");
    let trace = store.get(&ids.trace_hex()).expect("stored");
    let root = trace
        .spans
        .values()
        .find(|s| s["displayName"] == "letters")
        .expect("root span");
    assert_eq!(root["parentSpanId"], "00f067aa0ba902b7");
    assert_eq!(trace.tree[0].display_name, "letters");

    // The list shows the newest first.
    let list = store.list(2);
    assert_eq!(list[0].trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");

    // Metrics count runs by action and status.
    let metrics = telemetry.render_metrics().expect("metrics on");
    assert!(
        metrics
            .contains(r#"genkit_action_requests_total{kind="flow",name="letters",status="OK"} 2"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            r#"genkit_action_requests_total{kind="flow",name="failing",status="UNAVAILABLE"} 1"#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("genkit_action_latency_seconds_bucket"),
        "{metrics}"
    );
    let _ = (letters, secret, failing, count_letters);
}
