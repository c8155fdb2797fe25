//! A loopback fake provider: replies from a script, records every request.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::Value;

/// One scripted reply.
pub enum Reply {
    /// A JSON body with a status and extra headers.
    Json(u16, Vec<(&'static str, String)>, Value),
    /// A body sent as it is.
    Raw(u16, &'static str),
    /// An event stream written in these pieces (split anywhere, even inside a UTF-8
    /// character), then EOF.
    Sse(Vec<Vec<u8>>),
    /// Waits this long, then answers with the inner reply.
    Slow(Duration, Box<Reply>),
    /// A 200 whose (chunked) body breaks off after these bytes: the connection is reset.
    Cut(&'static str),
    /// An event stream that sends these pieces, then nothing, without closing.
    Stall(Vec<Vec<u8>>),
}

/// A request the server received.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Default)]
struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    received: Mutex<Vec<Received>>,
}

/// A fake provider on 127.0.0.1.
pub struct FakeServer {
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeServer {
    /// Starts a server that answers with `replies` in order (500 when they run out).
    pub async fn start(replies: Vec<Reply>) -> FakeServer {
        let shared = Arc::new(Shared {
            replies: Mutex::new(replies.into()),
            received: Mutex::default(),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeServer {
            url: format!("http://{addr}"),
            shared,
            task,
        }
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("lock").clone()
    }

    /// The only request, or a panic.
    pub fn only(&self) -> Received {
        let all = self.received();
        assert_eq!(all.len(), 1, "expected one request, got {}", all.len());
        all.into_iter().next().expect("one")
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    shared.received.lock().expect("lock").push(Received {
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    });
    let reply = shared.replies.lock().expect("lock").pop_front();
    match reply {
        Some(reply) => respond(reply).await,
        None => (StatusCode::INTERNAL_SERVER_ERROR, "no scripted reply left").into_response(),
    }
}

async fn respond(reply: Reply) -> Response {
    match reply {
        Reply::Json(status, headers, body) => {
            let mut response = (
                StatusCode::from_u16(status).expect("status"),
                [("content-type", "application/json")],
                body.to_string(),
            )
                .into_response();
            for (name, value) in headers {
                response
                    .headers_mut()
                    .insert(name, value.parse().expect("header value"));
            }
            response
        }
        Reply::Raw(status, body) => (
            StatusCode::from_u16(status).expect("status"),
            [("content-type", "application/json")],
            body,
        )
            .into_response(),
        Reply::Sse(pieces) => {
            let stream = futures::stream::iter(pieces).then(|piece| async move {
                // Give the client a chance to read each piece on its own.
                tokio::task::yield_now().await;
                Ok::<_, Infallible>(Bytes::from(piece))
            });
            (
                [("content-type", "text/event-stream")],
                Body::from_stream(stream),
            )
                .into_response()
        }
        Reply::Cut(start) => {
            let pieces: [Result<Bytes, std::io::Error>; 2] = [
                Ok(Bytes::from_static(start.as_bytes())),
                Err(std::io::Error::other("the fake provider breaks off")),
            ];
            (
                [("content-type", "application/json")],
                Body::from_stream(futures::stream::iter(pieces)),
            )
                .into_response()
        }
        Reply::Stall(pieces) => {
            let stream = futures::stream::iter(pieces)
                .map(|piece| Ok::<_, Infallible>(Bytes::from(piece)))
                .chain(futures::stream::pending());
            (
                [("content-type", "text/event-stream")],
                Body::from_stream(stream),
            )
                .into_response()
        }
        Reply::Slow(wait, inner) => {
            tokio::time::sleep(wait).await;
            Box::pin(respond(*inner)).await
        }
    }
}

/// `data: <json>\n\n` events.
pub fn data_events(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| format!("data: {e}\n\n")).collect()
}

/// Splits `text` into pieces of `size` bytes, cutting through lines and UTF-8 characters.
pub fn split(text: &str, size: usize) -> Vec<Vec<u8>> {
    text.as_bytes().chunks(size).map(<[u8]>::to_vec).collect()
}
