//! Reading a flow request: streaming or not, and the `{"data": ...}` envelope.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use serde_json::{Map, Value};

use super::errors::HttpError;
use crate::FlowError;

/// Reads the body of `request` within `timeout`, up to the router's body limit (`limit`, for
/// the message): 413 when larger, 408 when slower (the connection then closes).
pub(crate) async fn read_body(
    request: Request,
    timeout: Duration,
    limit: usize,
) -> Result<Bytes, HttpError> {
    tokio::time::timeout(timeout, Bytes::from_request(request, &()))
        .await
        .map_err(|_| HttpError::body_timeout(timeout))?
        .map_err(|rejection| HttpError::body(&rejection, limit))
}

/// Whether the caller asked for server-sent events: an `Accept` header containing
/// `text/event-stream` (any case) or a true `stream` query parameter (`true`, `1`, `t`, ...).
/// A `stream` parameter that is neither true nor false is `INVALID_ARGUMENT`.
pub(crate) fn wants_stream(parts: &Parts) -> Result<bool, FlowError> {
    let query = stream_query(parts.uri.query().unwrap_or_default())?;
    Ok(query || accepts_event_stream(&parts.headers))
}

fn accepts_event_stream(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|v| v.to_ascii_lowercase().contains("text/event-stream"))
    })
}

/// The `stream` values that ask for a stream, as Go's `strconv.ParseBool` reads them (what
/// Genkit's Go server accepts).
const STREAM_TRUE: [&str; 6] = ["1", "t", "T", "true", "TRUE", "True"];

/// The `stream` values that do not; an empty value is false.
const STREAM_FALSE: [&str; 7] = ["0", "f", "F", "false", "FALSE", "False", ""];

/// Every accepted `stream` value, for the OpenAPI document.
pub(crate) fn stream_values() -> impl Iterator<Item = &'static str> {
    STREAM_TRUE.into_iter().chain(STREAM_FALSE)
}

/// The first `stream` query parameter (as Go reads a form value), false when absent.
fn stream_query(query: &str) -> Result<bool, FlowError> {
    let value = query
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .find_map(|(key, value)| (key == "stream").then_some(value));
    match value {
        None => Ok(false),
        Some(value) if STREAM_TRUE.contains(&value) => Ok(true),
        Some(value) if STREAM_FALSE.contains(&value) => Ok(false),
        Some(value) => Err(FlowError::invalid_argument(format!(
            "the `stream` query parameter must be true or false (1, t, true, 0, f, false, ...), not {value:?}"
        ))),
    }
}

/// The flow input of a request body: `data` of a JSON object, or `null` for an empty body or a
/// missing `data`. A body that is not JSON, or declared as another content type, is
/// `INVALID_ARGUMENT`.
pub(crate) fn input_of(
    content_type: Option<&HeaderValue>,
    body: &[u8],
) -> Result<Value, FlowError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    if let Some(content_type) = content_type
        && !is_json(content_type.to_str().unwrap_or_default())
    {
        return Err(FlowError::invalid_argument(format!(
            "unsupported content type {content_type:?}: send application/json"
        )));
    }
    // Keys other than `data` (such as `init`) are ignored.
    let mut envelope: Map<String, Value> = serde_json::from_slice(body).map_err(|e| {
        FlowError::invalid_argument(format!(
            "the body must be a JSON object such as {{\"data\": ...}}: {e}"
        ))
    })?;
    Ok(envelope.remove("data").unwrap_or(Value::Null))
}

/// `application/json` or any `+json` type, with or without parameters.
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;
    use serde_json::json;

    fn parts(uri: &str, accept: Option<&str>) -> Parts {
        let mut request = Request::post(uri);
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        request
            .body(())
            .map(|r| r.into_parts().0)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn streaming_is_asked_by_header_or_query() {
        for accept in [
            "Text/Event-Stream",
            "application/json, text/event-stream;q=0.9",
        ] {
            assert_eq!(wants_stream(&parts("/f", Some(accept))).ok(), Some(true));
        }
        for yes in ["1", "t", "T", "true", "TRUE", "True"] {
            assert!(
                wants_stream(&parts(&format!("/f?a=b&stream={yes}"), None)).ok() == Some(true),
                "{yes}"
            );
        }
        for no in [
            "/f",
            "/f?stream=false",
            "/f?stream=0",
            "/f?stream",
            "/f?streams=true",
            "/f?stream=F&stream=true",
        ] {
            let asked = wants_stream(&parts(no, Some("application/json")));
            assert_eq!(asked.ok(), Some(false), "{no}");
        }
        for bad in ["/f?stream=null", "/f?stream=yes&stream=true"] {
            let asked = wants_stream(&parts(bad, None));
            assert!(
                asked.is_err_and(|e| e.status() == crate::Status::InvalidArgument),
                "{bad}"
            );
        }
    }

    #[test]
    fn envelope_rules() {
        let json = HeaderValue::from_static("application/json; charset=utf-8");
        let json = Some(&json);
        assert_eq!(input_of(None, b"").ok(), Some(Value::Null));
        assert_eq!(input_of(json, b" \n").ok(), Some(Value::Null));
        assert_eq!(input_of(json, b"{}").ok(), Some(Value::Null));
        assert_eq!(
            input_of(None, br#"{"data": {"a": 1}, "init": 2, "x": 3}"#).ok(),
            Some(json!({"a": 1}))
        );
        assert!(input_of(json, b"{not json").is_err());
        assert!(input_of(json, b"[1]").is_err());
        let text = HeaderValue::from_static("text/plain");
        assert!(input_of(Some(&text), br#"{"data": 1}"#).is_err());
        assert!(is_json("application/vnd.api+json"));
    }
}
