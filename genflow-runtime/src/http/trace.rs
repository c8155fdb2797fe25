//! The Genkit trace headers every flow response carries.

use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue};

use crate::telemetry::{SpanIds, TraceParent};

const TRACE_ID: HeaderName = HeaderName::from_static("x-genkit-trace-id");
const SPAN_ID: HeaderName = HeaderName::from_static("x-genkit-span-id");
const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// The caller's span (W3C `traceparent`), which the run joins as a child.
pub(crate) fn parent_of(parts: &Parts) -> Option<TraceParent> {
    let header = parts.headers.get(TRACEPARENT)?.to_str().ok()?;
    TraceParent::parse(header)
}

/// Writes `x-genkit-trace-id` and `x-genkit-span-id`: the run's span when telemetry recorded
/// one, random ids otherwise (telemetry off, or a request refused before its flow started).
pub(crate) fn write(ids: Option<SpanIds>, headers: &mut HeaderMap) {
    let ids = ids.unwrap_or_else(|| SpanIds::fresh(None));
    for (name, value) in [(TRACE_ID, ids.trace_hex()), (SPAN_ID, ids.span_hex())] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}
