//! `POST /api/runAction[?stream=true]`: runs any action of the registry, as Genkit's CLI and
//! Developer UI ask.
//!
//! The trace headers go out as soon as the run's span is open (before it is polled). The body
//! is then one JSON document, `{"result", "telemetry": {"traceId"}}`, or with `?stream=true`
//! one raw JSON chunk per line followed by that document (no newline after it: the CLI parses
//! what follows the last newline). A run that fails answers HTTP 200 with
//! `{"error": {"code": <gRPC code>, "message", "details": {"stack", "traceId", ...}}}`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::Query;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use futures::{Stream, StreamExt, stream};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::DevState;
use super::cancel::Tracked;
use crate::run::Cancellation;
use crate::telemetry::SpanIds;
use crate::{FlowError, FlowEvent, FlowEvents, RunOptions};

const TRACE_ID: HeaderName = HeaderName::from_static("x-genkit-trace-id");
const SPAN_ID: HeaderName = HeaderName::from_static("x-genkit-span-id");

/// The body of `POST /api/runAction`.
#[derive(Deserialize)]
pub(crate) struct RunActionRequest {
    /// `/<kind>/<name>`.
    key: String,
    #[serde(default)]
    input: Value,
    /// Handed to the action as its auth context (`ctx.auth::<serde_json::Value>()`).
    #[serde(default)]
    context: Option<Value>,
}

/// `?stream=true`.
#[derive(Deserialize)]
pub(crate) struct RunQuery {
    stream: Option<String>,
}

/// Answers `POST /api/runAction`.
pub(crate) async fn run_action(
    state: Arc<DevState>,
    Query(query): Query<RunQuery>,
    body: Result<Json<RunActionRequest>, JsonRejection>,
) -> Response {
    let Json(request) = match body {
        Ok(body) => body,
        Err(rejection) => {
            let error = FlowError::invalid_argument(rejection.body_text());
            return (StatusCode::BAD_REQUEST, Json(error_json(&error, None))).into_response();
        }
    };
    let Some(action) = state.action(&request.key) else {
        let error = FlowError::not_found(format!("action {} not found", request.key));
        return (StatusCode::NOT_FOUND, Json(error_json(&error, None))).into_response();
    };
    let streaming = query
        .stream
        .is_some_and(|s| s.eq_ignore_ascii_case("true") || s == "1");
    let token = state.stopped.child_token();
    let options = RunOptions {
        auth: request
            .context
            .filter(|c| !c.is_null())
            .map(|c| Arc::new(c) as _),
        cancel: Some(Cancellation::new(token.clone())),
        ..RunOptions::default()
    };
    let meta = action.meta();
    let started = if streaming {
        state
            .registry
            .stream_action(meta.kind, meta.name, request.input, options)
            .map(Started::Stream)
    } else {
        state
            .registry
            .start_action(meta.kind, meta.name, request.input, options)
            .map(|run| Started::Plain(run.ids, run.future))
    };
    let started = match started {
        Ok(started) => started,
        Err(error) => {
            let code = StatusCode::from_u16(error.status().http_code())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (code, Json(error_json(&error, None))).into_response();
        }
    };
    // Runs without telemetry still get ids, so that they can be cancelled.
    let ids = started.ids().unwrap_or_else(|| SpanIds::fresh(None));
    let trace_id = ids.trace_hex();
    let tracked = state.runs.track(trace_id.clone(), token);
    let (body, content_type) = match started {
        Started::Plain(_, future) => (
            Body::from_stream(plain(Arc::clone(&state), future, trace_id, tracked)),
            "application/json",
        ),
        Started::Stream(events) => (
            Body::from_stream(lines(Arc::clone(&state), events, trace_id, tracked)),
            "text/plain; charset=utf-8",
        ),
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    for (name, value) in [(TRACE_ID, ids.trace_hex()), (SPAN_ID, ids.span_hex())] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// A run whose span is open.
enum Started {
    Plain(
        Option<SpanIds>,
        BoxFuture<'static, Result<Value, FlowError>>,
    ),
    Stream(FlowEvents),
}

impl Started {
    fn ids(&self) -> Option<SpanIds> {
        match self {
            Started::Plain(ids, _) => *ids,
            Started::Stream(events) => events.ids(),
        }
    }
}

/// The body of a plain run: one document once the run ends. Dropping it (the caller went
/// away) drops the run.
fn plain(
    state: Arc<DevState>,
    run: BoxFuture<'static, Result<Value, FlowError>>,
    trace_id: String,
    tracked: Tracked,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    stream::once(async move {
        let outcome = run.await;
        drop(tracked);
        state.flush_traces().await;
        Ok(terminal(outcome, &trace_id))
    })
}

/// The body of a streaming run: a line per chunk, then the terminal document.
fn lines(
    state: Arc<DevState>,
    events: FlowEvents,
    trace_id: String,
    tracked: Tracked,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    stream::unfold(Some((events, tracked)), move |running| {
        let trace_id = trace_id.clone();
        let state = Arc::clone(&state);
        async move {
            let (mut events, tracked) = running?;
            let outcome = match events.next().await {
                Some(FlowEvent::Chunk(chunk)) => {
                    let mut line = serde_json::to_vec(&chunk).unwrap_or_default();
                    line.push(b'\n');
                    return Some((Ok(Bytes::from(line)), Some((events, tracked))));
                }
                Some(FlowEvent::Done(outcome)) => outcome,
                None => Err(FlowError::internal("the run ended without a result")),
            };
            drop(tracked);
            state.flush_traces().await;
            Some((Ok(terminal(outcome, &trace_id)), None))
        }
    })
}

/// The last document of a run: its result, or its error.
fn terminal(outcome: Result<Value, FlowError>, trace_id: &str) -> Bytes {
    let document = match outcome {
        Ok(result) => json!({ "result": result, "telemetry": { "traceId": trace_id } }),
        Err(error) => error_json(&error, Some(trace_id)),
    };
    Bytes::from(document.to_string())
}

/// `{"error": {"code", "message", "details": {"stack", "traceId", ...}}}`: Genkit's reflection
/// error, with the error's own details (such as input violations) kept. Dev mode shows every
/// message.
pub(crate) fn error_json(error: &FlowError, trace_id: Option<&str>) -> Value {
    let mut details = match error.details() {
        Some(Value::Object(details)) => details.clone(),
        Some(other) => Map::from_iter([("value".to_owned(), other.clone())]),
        None => Map::new(),
    };
    details.insert("stack".to_owned(), Value::from(crate::error::chain(error)));
    if let Some(trace_id) = trace_id {
        details.insert("traceId".to_owned(), Value::from(trace_id));
    }
    json!({
        "error": {
            "code": error.status().grpc_code(),
            "message": error.message(),
            "details": details,
        }
    })
}
