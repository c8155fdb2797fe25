//! What the operator's log says: a redacted error with its cause (never shown to the caller),
//! and a server started with no flows, with the fix.

mod common;

use common::start;
use genflow_runtime::http::FlowServer;
use genflow_runtime::prelude::*;

/// Fails with a cause the caller must not see.
#[flow]
async fn broken(_: ()) -> Result<(), FlowError> {
    let cause = std::io::Error::other("pool exhausted at db-7");
    Err(FlowError::internal("cannot reach the database").with_source(cause))
}

/// The process's log, captured.
fn log() -> &'static common::log::Lines {
    common::log::captured("info")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_without_flows_says_how_to_link_them() {
    let lines = log();
    let running = start(FlowServer::new(
        Registry::manual().build().expect("registry"),
    ))
    .await;
    let health = reqwest::get(running.url("/healthz")).await.expect("get");
    assert_eq!(health.status(), 200);
    running.stop().await;
    let log = lines.text();
    assert!(log.contains("no flows are served"), "{log}");
    assert!(log.contains("use your_flows_crate as _;"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn redacted_errors_are_logged_with_their_cause() {
    let lines = log();
    let registry = Registry::builder().build().expect("registry");
    let running = start(FlowServer::new(registry)).await;

    let response = reqwest::Client::new()
        .post(running.url("/broken"))
        .json(&serde_json::json!({"data": null}))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 500);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["message"], "internal");
    running.stop().await;

    let log = lines.text();
    let line = log
        .lines()
        .find(|l| l.contains("redacted"))
        .unwrap_or_else(|| panic!("no redacted-error line in:\n{log}"));
    assert!(line.contains("ERROR"), "{line}");
    assert!(
        line.contains("cannot reach the database: pool exhausted at db-7"),
        "{line}"
    );
}
