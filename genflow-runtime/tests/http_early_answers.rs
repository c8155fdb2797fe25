//! Slow uploads and answers sent before a body is read, over raw sockets: a slow body holds no
//! concurrency slot and times out with 408, and an answer that leaves a body unread says
//! `Connection: close`, so a pooled client never reuses a connection the server is closing.

mod common;

use std::time::Duration;

use common::{start, within};
use genflow_runtime::http::{ApiKey, FlowServer};
use genflow_runtime::prelude::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Repeats its input.
#[flow]
async fn echo(input: String) -> Result<String, FlowError> {
    Ok(input)
}

fn registry() -> Registry {
    Registry::builder().build().expect("registry")
}

/// Opens a connection to `base` (`http://127.0.0.1:port`).
async fn connect(base: &str) -> TcpStream {
    let addr = base.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connect")
}

/// Reads one response's head (status line and headers), lower-cased.
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = within(stream.read(&mut byte)).await.expect("read");
        assert!(n > 0, "connection closed before a response: {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).to_lowercase()
}

#[tokio::test]
async fn a_slow_body_holds_no_slot_and_times_out() {
    let server = FlowServer::new(registry())
        .concurrency_limit(1)
        .body_timeout(Duration::from_millis(300));
    let running = start(server).await;
    let mut slow = connect(&running.base).await;
    slow.write_all(
        b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 38\r\n\r\n{\"da",
    )
    .await
    .expect("write");

    // The only slot is free while the slow body trickles in.
    let answered = reqwest::Client::new()
        .post(running.url("/echo"))
        .json(&json!({"data": "quick"}))
        .send()
        .await
        .expect("send");
    assert_eq!(answered.status(), 200);

    let head = read_head(&mut slow).await;
    assert!(head.starts_with("http/1.1 408"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    running.stop().await;
}

#[tokio::test]
async fn answers_before_the_body_close_the_connection_and_after_it_keep_it() {
    let running = start(FlowServer::new(registry()).flow_auth("echo", ApiKey::bearer("k"))).await;
    let body = r#"{"data": "hello"}"#;
    let request = |key: &str| {
        format!(
            "POST /echo HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {key}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
    };

    // Refused before the body is read: the answer says the connection closes.
    let mut refused = connect(&running.base).await;
    refused
        .write_all(request("wrong").as_bytes())
        .await
        .expect("write");
    let head = read_head(&mut refused).await;
    assert!(head.starts_with("http/1.1 403"), "{head}");
    assert!(head.contains("connection: close"), "{head}");

    // Answered after the body is read: the same connection carries the next request.
    let mut kept = connect(&running.base).await;
    for _ in 0..2 {
        kept.write_all(request("k").as_bytes())
            .await
            .expect("write");
        let head = read_head(&mut kept).await;
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(!head.contains("connection: close"), "{head}");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|n| n.trim().parse().ok())
            .expect("content-length");
        let mut answer = vec![0u8; length];
        within(kept.read_exact(&mut answer)).await.expect("body");
        assert_eq!(answer, br#"{"result":"hello"}"#);
    }

    // A path nobody serves, asked with a body: closed too.
    let mut unknown = connect(&running.base).await;
    unknown
        .write_all(
            format!(
                "POST /nowhere HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .expect("write");
    let head = read_head(&mut unknown).await;
    assert!(head.starts_with("http/1.1 404"), "{head}");
    assert!(head.contains("connection: close"), "{head}");
    running.stop().await;
}
