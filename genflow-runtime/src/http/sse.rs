//! The server-sent-event body of a streaming run: `data: {"message": ...}` frames as the flow
//! sends them, then exactly one terminal `data: {"result": ...}` or `data: {"error": ...}` frame.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use futures::{Stream, StreamExt, stream};
use serde::Serialize;
use serde_json::Value;

use super::limits::Slot;
use crate::{ErrorBody, FlowError, FlowEvent, FlowEvents};

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

/// The streaming response of `events`, holding the concurrency `slot` until the last frame.
/// Dropping the body (the client went away) drops the flow.
pub(crate) fn response(events: FlowEvents, slot: Option<Slot>, expose_internal: bool) -> Response {
    let mut response = Response::new(Body::from_stream(frames(events, slot, expose_internal)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The frames: chunks, then one terminal frame whatever ends the run (the run's guard ends it
/// at its deadline or when the server stops).
fn frames(
    events: FlowEvents,
    slot: Option<Slot>,
    expose_internal: bool,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    stream::unfold(Some((events, slot)), move |running| async move {
        let (mut events, slot) = running?;
        let frame = match events.next().await {
            Some(FlowEvent::Chunk(chunk)) => {
                return Some((Ok(Frame::Message(chunk).encode()), Some((events, slot))));
            }
            Some(FlowEvent::Done(outcome)) => Frame::terminal(outcome, expose_internal),
            None => Frame::terminal(
                Err(FlowError::internal("the run ended without a result")),
                expose_internal,
            ),
        };
        Some((Ok(frame.encode()), None))
    })
}
