//! Connection limits over raw sockets: a request head sent too slowly and a connection left
//! idle (HTTP/1.1 and HTTP/2) are closed, a long request is not idle, connections over the cap
//! wait for a free one, and a half-sent request does not hold up a shutdown.

mod common;

use std::time::Duration;

use common::{PATIENCE, start_with, within};
use genflow_runtime::http::FlowServer;
use genflow_runtime::prelude::*;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Repeats its input.
#[flow]
async fn echo(input: String) -> Result<String, FlowError> {
    Ok(input)
}

/// Answers after a pause longer than the tests' idle timeout.
#[flow]
async fn pause(_input: ()) -> Result<String, FlowError> {
    tokio::time::sleep(Duration::from_millis(800)).await;
    Ok("done".to_owned())
}

/// Longer than any test waits: a limit set to it never fires during a test.
const NEVER: Duration = Duration::from_secs(3600);

fn server() -> FlowServer {
    FlowServer::new(Registry::builder().build().expect("registry"))
}

async fn connect(base: &str) -> TcpStream {
    TcpStream::connect(base.trim_start_matches("http://"))
        .await
        .expect("connect")
}

fn echo_request(text: &str) -> String {
    let body = format!(r#"{{"data": "{text}"}}"#);
    format!(
        "POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Reads until the server closes the connection; what it sent before closing.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    // A reset is a close too.
    let _ = within(stream.read_to_end(&mut received)).await;
    String::from_utf8_lossy(&received).into_owned()
}

/// Reads one whole response to a request for `echo` (its body is short and ends the read).
async fn read_response(stream: &mut TcpStream, expected_body: &str) -> String {
    let mut received = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&received).ends_with(expected_body) {
        let n = within(stream.read(&mut buf)).await.expect("read");
        assert!(n > 0, "closed before the response ended: {received:?}");
        received.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn a_request_head_sent_too_slowly_closes_the_connection() {
    let running = start_with(server().dev_mode(true), |serve| {
        serve
            .header_read_timeout(Duration::from_millis(300))
            .idle_timeout(NEVER)
    })
    .await;
    let mut slow = connect(&running.base).await;
    slow.write_all(b"POST /echo HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("write");
    let received = read_until_closed(&mut slow).await;
    assert!(
        received.is_empty() || received.starts_with("HTTP/1.1 408"),
        "{received}"
    );
    running.stop().await;
}

#[tokio::test]
async fn an_idle_http1_connection_is_closed_after_its_last_response() {
    let running = start_with(server(), |serve| {
        serve
            .header_read_timeout(NEVER)
            .idle_timeout(Duration::from_millis(300))
    })
    .await;
    let mut stream = connect(&running.base).await;
    stream
        .write_all(echo_request("first").as_bytes())
        .await
        .expect("write");
    let response = read_response(&mut stream, r#"{"result":"first"}"#).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let after = read_until_closed(&mut stream).await;
    assert!(after.is_empty(), "nothing more was asked: {after}");
    running.stop().await;
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed() {
    let running = start_with(server(), |serve| {
        serve
            .header_read_timeout(NEVER)
            .idle_timeout(Duration::from_millis(300))
    })
    .await;
    let io = TokioIo::new(connect(&running.base).await);
    let (mut sender, connection) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
        .await
        .expect("http/2 handshake");
    let connection = tokio::spawn(connection);
    let request = http::Request::post(running.url("/echo"))
        .header("content-type", "application/json")
        .body(Full::new(bytes::Bytes::from_static(br#"{"data": "h2"}"#)))
        .expect("request");
    let response = within(sender.send_request(request))
        .await
        .expect("response");
    assert_eq!(response.status(), 200);
    let body = response.into_body().collect().await.expect("body");
    assert_eq!(body.to_bytes(), r#"{"result":"h2"}"#);
    // The server ends the connection once it has been idle for its timeout.
    let ended = within(connection).await.expect("connection task");
    assert!(ended.is_ok(), "a graceful close: {ended:?}");
    running.stop().await;
}

#[tokio::test]
async fn a_request_in_progress_keeps_its_connection_open() {
    let running = start_with(server(), |serve| {
        serve
            .header_read_timeout(NEVER)
            .idle_timeout(Duration::from_millis(200))
    })
    .await;
    let answered = reqwest::Client::new()
        .post(running.url("/pause"))
        .json(&serde_json::json!({"data": null}))
        .send()
        .await
        .expect("the connection stays open while the flow runs");
    assert_eq!(answered.status(), 200);
    running.stop().await;
}

#[tokio::test]
async fn connections_over_the_cap_wait_for_a_free_one() {
    let running = start_with(server(), |serve| {
        serve
            .max_connections(1)
            .header_read_timeout(NEVER)
            .idle_timeout(NEVER)
    })
    .await;
    let first = connect(&running.base).await;
    // Give the server time to accept the first connection and take the only slot.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut second = connect(&running.base).await;
    second
        .write_all(echo_request("second").as_bytes())
        .await
        .expect("write");
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(300), second.read(&mut byte)).await;
    assert!(early.is_err(), "answered while over the cap: {early:?}");

    drop(first);
    let response = read_response(&mut second, r#"{"result":"second"}"#).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    running.stop().await;
}

#[tokio::test]
async fn a_half_sent_request_does_not_hold_up_a_shutdown() {
    let grace = Duration::from_secs(60);
    assert!(grace > PATIENCE);
    let running = start_with(server(), |serve| {
        serve
            .grace(grace)
            .header_read_timeout(NEVER)
            .idle_timeout(NEVER)
    })
    .await;
    let mut half = connect(&running.base).await;
    half.write_all(b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-le")
        .await
        .expect("write");
    tokio::time::sleep(Duration::from_millis(100)).await;
    // `stop` waits at most PATIENCE, well within the grace period.
    running.stop().await;
    let received = read_until_closed(&mut half).await;
    assert!(received.is_empty(), "{received}");
}
