//! The server-sent-event body of a streaming run: `data: {"message": ...}` frames as the flow
//! sends them, then exactly one terminal `data: {"result": ...}` or `data: {"error": ...}` frame.

use std::convert::Infallible;
use std::pin::Pin;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use futures::{Stream, StreamExt, stream};
use serde::Serialize;
use serde_json::Value;
use tokio::time::Sleep;

use super::handler;
use super::limits::Slot;
use super::shutdown::Shutdown;
use crate::{ErrorBody, FlowError, FlowEvent, FlowEvents};

/// What ends a stream early, besides the flow finishing.
pub(crate) struct Limits {
    /// The server-wide deadline, for flows without their own timeout.
    pub(crate) deadline: Option<Pin<Box<Sleep>>>,
    /// The server's life cycle: when its grace period ends, the stream ends.
    pub(crate) shutdown: Shutdown,
    /// The concurrency slot, held until the last frame.
    pub(crate) _slot: Option<Slot>,
    /// Whether internal error messages are shown (dev mode).
    pub(crate) expose_internal: bool,
}

/// One frame's JSON: `{"message": chunk}`, `{"result": output}` or `{"error": body}`.
#[derive(Serialize)]
#[serde(rename_all = "lowercase")]
enum Frame {
    Message(Value),
    Result(Value),
    Error(ErrorBody),
}

impl Frame {
    /// The terminal frame of a finished run.
    fn terminal(outcome: Result<Value, FlowError>, expose_internal: bool) -> Self {
        match outcome {
            Ok(result) => Frame::Result(result),
            Err(error) => Frame::Error(super::errors::body_of(&error, expose_internal)),
        }
    }

    /// `data: <json>` and the blank line.
    fn encode(&self) -> Bytes {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(b"data: ");
        // JSON values, strings and status names always serialize.
        let _ = serde_json::to_writer(&mut out, self);
        out.extend_from_slice(b"\n\n");
        Bytes::from(out)
    }
}

/// The streaming response of `events`. Dropping the body (the client went away) drops the
/// flow.
pub(crate) fn response(events: FlowEvents, limits: Limits) -> Response {
    let mut response = Response::new(Body::from_stream(frames(events, limits)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The frames: chunks, then one terminal frame whatever ends the run.
fn frames(
    events: FlowEvents,
    limits: Limits,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    stream::unfold(Some((events, limits)), |running| async move {
        let (mut events, mut limits) = running?;
        let expose = limits.expose_internal;
        let next = {
            let deadline = limits.deadline.as_mut();
            let deadline = async move {
                match deadline {
                    Some(sleep) => sleep.await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                event = events.next() => event,
                () = deadline => Some(FlowEvent::Done(Err(handler::deadline_error()))),
                () = limits.shutdown.stopping() => Some(FlowEvent::Done(Err(handler::shutdown_error()))),
            }
        };
        match next {
            Some(FlowEvent::Chunk(chunk)) => {
                Some((Ok(Frame::Message(chunk).encode()), Some((events, limits))))
            }
            Some(FlowEvent::Done(outcome)) => {
                Some((Ok(Frame::terminal(outcome, expose).encode()), None))
            }
            None => {
                let missing = Err(FlowError::internal("the run ended without a result"));
                Some((Ok(Frame::terminal(missing, expose).encode()), None))
            }
        }
    })
}
