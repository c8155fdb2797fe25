//! Streaming over real HTTP: frame order, no buffering, exactly one terminal frame whatever
//! ends the run, cancellation on disconnect, shutdown mid-stream, and the client's parsing of
//! other servers' streams.

mod common;

use std::time::Duration;

use axum::routing::post;
use common::{DropSignal, Running, start, start_with, within};
use futures::StreamExt;
use genflow_runtime::client::{ClientError, FlowClient, StreamEvent};
use genflow_runtime::http::FlowServer;
use genflow_runtime::prelude::*;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Mutex, Notify, oneshot};

/// Streams the words of its input, then their count.
#[flow(stream = String)]
async fn words(ctx: &FlowContext<String>, input: String) -> Result<usize, FlowError> {
    let mut n = 0;
    for word in input.split_whitespace() {
        ctx.send_chunk(word.to_owned()).await?;
        n += 1;
    }
    Ok(n)
}

/// Does not stream.
#[flow]
async fn plain(input: String) -> Result<String, FlowError> {
    Ok(input.to_uppercase())
}

/// Sends a chunk, then ends the way its input says.
#[flow(stream = String, timeout = "100ms")]
async fn breaks(ctx: &FlowContext<String>, how: String) -> Result<String, FlowError> {
    ctx.send_chunk("before".to_owned()).await?;
    match how.as_str() {
        "panic" => panic!("secret panic"),
        "timeout" => std::future::pending().await,
        "cancel" => Err(FlowError::cancelled("the flow gave up")),
        _ => Err(FlowError::internal("secret failure")),
    }
}

/// Sends a chunk, then waits for the test forever or until released; never times out.
#[flow(stream = u32)]
async fn waits(ctx: &FlowContext<u32>, gate: State<Gate>, _input: ()) -> Result<u32, FlowError> {
    let _guard = DropSignal(gate.dropped.lock().await.take());
    ctx.send_chunk(1).await?;
    gate.release.notified().await;
    Ok(2)
}

#[derive(Default)]
struct Gate {
    release: Notify,
    dropped: Mutex<Option<oneshot::Sender<()>>>,
}

fn server() -> FlowServer {
    FlowServer::new(
        Registry::builder()
            .state(Gate::default())
            .build()
            .expect("registry builds"),
    )
}

/// The headers and raw body of a streaming request.
async fn sse(running: &Running, path: &str, data: Value) -> (HeaderMap, String) {
    let response = reqwest::Client::new()
        .post(running.url(path))
        .header(ACCEPT, "application/json, TEXT/EVENT-STREAM")
        .json(&json!({ "data": data }))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    (headers, within(response.text()).await.expect("body"))
}

#[tokio::test]
async fn chunks_then_one_result_frame() {
    let running = start(server()).await;
    let (headers, body) = sse(&running, "/words", json!("a b c")).await;
    assert_eq!(
        headers.get(CONTENT_TYPE).map(|v| v.as_bytes()),
        Some(&b"text/event-stream"[..])
    );
    assert!(headers.contains_key("x-genkit-trace-id"));
    assert_eq!(
        body,
        "data: {\"message\":\"a\"}\n\n\
         data: {\"message\":\"b\"}\n\n\
         data: {\"message\":\"c\"}\n\n\
         data: {\"result\":3}\n\n"
    );

    let by_query = reqwest::Client::new()
        .post(running.url("/words?stream=1"))
        .json(&json!({"data": "x"}))
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("body");
    assert_eq!(
        by_query,
        "data: {\"message\":\"x\"}\n\ndata: {\"result\":1}\n\n"
    );

    let events: Vec<_> = FlowClient::new(&running.base)
        .stream::<WordsFlow>("d e".to_owned())
        .await
        .expect("stream")
        .collect()
        .await;
    let events: Vec<_> = events.into_iter().map(|e| e.expect("event")).collect();
    assert_eq!(
        events,
        [
            StreamEvent::Chunk("d".to_owned()),
            StreamEvent::Chunk("e".to_owned()),
            StreamEvent::Output(2)
        ]
    );
    running.stop().await;
}

#[tokio::test]
async fn a_plain_flow_asked_to_stream_sends_only_its_result() {
    let running = start(server()).await;
    let (_, body) = sse(&running, "/plain", json!("hi")).await;
    assert_eq!(body, "data: {\"result\":\"HI\"}\n\n");
    let output = FlowClient::new(&running.base)
        .stream::<PlainFlow>("yo".to_owned())
        .await
        .expect("stream")
        .output()
        .await
        .expect("output");
    assert_eq!(output, "YO");
    running.stop().await;
}

#[tokio::test]
async fn every_failure_ends_with_one_error_frame() {
    let running = start(server()).await;
    let cases = [
        ("panic", "INTERNAL", "internal"),
        ("timeout", "DEADLINE_EXCEEDED", ""),
        ("cancel", "CANCELLED", "the flow gave up"),
        ("fail", "INTERNAL", "internal"),
    ];
    for (how, status, message) in cases {
        let (_, body) = sse(&running, "/breaks", json!(how)).await;
        let frames: Vec<&str> = body.split_terminator("\n\n").collect();
        assert_eq!(frames.len(), 2, "{how}: {body}");
        assert_eq!(frames[0], "data: {\"message\":\"before\"}");
        let last: Value =
            serde_json::from_str(frames[1].trim_start_matches("data: ")).expect("json frame");
        assert_eq!(last["error"]["status"], status, "{how}");
        if !message.is_empty() {
            assert_eq!(last["error"]["message"], message, "{how}");
        }
        assert!(!body.contains("secret"), "{how}: redacted");
    }

    // Invalid input is refused before the stream starts: 400 with every violation, as JSON.
    let refused = reqwest::Client::new()
        .post(running.url("/breaks"))
        .header(ACCEPT, "text/event-stream")
        .json(&json!({ "data": 42 }))
        .send()
        .await
        .expect("send");
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["status"], "INVALID_ARGUMENT");
    assert_eq!(body["details"]["errors"][0]["path"], "", "{body}");

    let mut events = FlowClient::new(&running.base)
        .stream::<BreaksFlow>("fail".to_owned())
        .await
        .expect("stream");
    let first = events.next().await.map(|e| e.expect("chunk"));
    assert_eq!(first, Some(StreamEvent::Chunk("before".to_owned())));
    let err = events
        .next()
        .await
        .expect("terminal")
        .expect_err("error frame");
    assert_eq!(err.status(), Status::Internal);
    assert!(
        events.next().await.is_none(),
        "nothing after the terminal frame"
    );
    running.stop().await;
}

#[tokio::test]
async fn the_server_default_deadline_ends_a_stream() {
    let running = start(server().default_timeout(Duration::from_millis(100))).await;
    let (_, body) = sse(&running, "/waits", Value::Null).await;
    assert_eq!(
        body,
        "data: {\"message\":1}\n\n\
         data: {\"error\":{\"status\":\"DEADLINE_EXCEEDED\",\"message\":\"flow 'waits' did not finish within 100ms\"}}\n\n"
    );
    running.stop().await;
}

#[tokio::test]
async fn chunks_arrive_before_the_flow_finishes() {
    let registry = Registry::builder()
        .state(Gate::default())
        .build()
        .expect("registry");
    let gate = registry.context().state::<Gate>().expect("gate");
    let running = start(FlowServer::new(registry)).await;
    let mut events = FlowClient::new(&running.base)
        .stream::<WaitsFlow>(())
        .await
        .expect("stream");
    // The flow is still waiting for the release: the chunk was not buffered.
    let first = within(events.next()).await.map(|e| e.expect("chunk"));
    assert_eq!(first, Some(StreamEvent::Chunk(1)));
    gate.release.notify_one();
    let last = within(events.next()).await.map(|e| e.expect("output"));
    assert_eq!(last, Some(StreamEvent::Output(2)));
    running.stop().await;
}

#[tokio::test]
async fn a_client_that_disconnects_mid_stream_cancels_the_flow() {
    let registry = Registry::builder()
        .state(Gate::default())
        .build()
        .expect("registry");
    let gate = registry.context().state::<Gate>().expect("gate");
    let (dropped_tx, dropped) = oneshot::channel();
    *gate.dropped.lock().await = Some(dropped_tx);
    let running = start(FlowServer::new(registry)).await;

    let addr = running.base.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(addr).await.expect("connect");
    socket
        .write_all(
            b"POST /waits HTTP/1.1\r\nhost: test\r\naccept: text/event-stream\r\ncontent-length: 0\r\n\r\n",
        )
        .await
        .expect("write");
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("data: {\"message\":1}") {
        let n = within(socket.read(&mut buf)).await.expect("read");
        assert!(n > 0, "the server closed the stream early");
        seen.extend_from_slice(&buf[..n]);
    }
    drop(socket);
    within(dropped)
        .await
        .expect("the flow's future was dropped");
    running.stop().await;
}

#[tokio::test]
async fn shutdown_mid_stream_sends_a_terminal_frame() {
    let running = start_with(server(), |s| s.grace(Duration::from_millis(50))).await;
    let mut events = FlowClient::new(&running.base)
        .stream::<WaitsFlow>(())
        .await
        .expect("stream");
    let first = within(events.next()).await.map(|e| e.expect("chunk"));
    assert_eq!(first, Some(StreamEvent::Chunk(1)));

    running.shutdown.shutdown();
    let err = within(events.next())
        .await
        .expect("a terminal frame")
        .expect_err("an error frame");
    assert!(
        matches!(&err, ClientError::Flow { message, http_code: None, .. } if message == "server shutting down"),
        "{err:?}"
    );
    assert_eq!(err.status(), Status::Unavailable);
    assert!(events.next().await.is_none());
    within(running.task).await.expect("join").expect("served");
}

/// A foreign server answering every POST with `body` as an event stream.
async fn foreign(body: &'static str) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().route(
        "/{flow}",
        post(move || async move { ([(CONTENT_TYPE, "text/event-stream")], body) }),
    );
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), task)
}

#[tokio::test]
async fn the_client_reads_genkit_servers_and_notices_cut_streams() {
    // Genkit JS: CRLF-free frames, and its `error:` prefix on a failure.
    let (base, task) = foreign(
        "data: {\"message\": \"a\"}\n\n: keep-alive\n\nerror: {\"error\": {\"status\": \"ABORTED\", \"message\": \"js says no\"}}\n\n",
    )
    .await;
    let mut events = FlowClient::new(&base)
        .stream::<WordsFlow>(String::new())
        .await
        .expect("stream");
    assert_eq!(
        events.next().await.map(|e| e.expect("chunk")),
        Some(StreamEvent::Chunk("a".to_owned()))
    );
    let err = events.next().await.expect("terminal").expect_err("error");
    assert_eq!(
        (err.status(), err.to_string()),
        (Status::Aborted, "ABORTED: js says no".into())
    );
    task.abort();

    // Go, with CRLF line ends.
    let (base, task) =
        foreign("data: {\"message\":\"x\"}\r\n\r\ndata: {\"result\":7}\r\n\r\n").await;
    let output = FlowClient::new(&base)
        .stream::<WordsFlow>(String::new())
        .await
        .expect("stream")
        .output()
        .await
        .expect("output");
    assert_eq!(output, 7);
    task.abort();

    // A stream cut before its terminal frame.
    let (base, task) = foreign("data: {\"message\":\"x\"}\n\n").await;
    let err = FlowClient::new(&base)
        .stream::<WordsFlow>(String::new())
        .await
        .expect("stream")
        .output()
        .await
        .expect_err("incomplete");
    assert!(matches!(err, ClientError::Incomplete), "{err:?}");
    assert_eq!(err.status(), Status::Unavailable);
    task.abort();
}
