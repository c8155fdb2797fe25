//! The Genkit trace headers every flow response carries.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

const TRACE_ID: HeaderName = HeaderName::from_static("x-genkit-trace-id");
const SPAN_ID: HeaderName = HeaderName::from_static("x-genkit-span-id");

/// The trace and span of one request, as lower-case hex (32 and 16 digits).
#[derive(Clone, Debug)]
pub(crate) struct TraceIds {
    trace_id: String,
    span_id: String,
}

impl TraceIds {
    /// The ids of a new request. Random for now; the tracing layer will supply real spans.
    pub(crate) fn for_request() -> Self {
        TraceIds {
            trace_id: format!("{:032x}", fastrand::u128(1..)),
            span_id: format!("{:016x}", fastrand::u64(1..)),
        }
    }

    /// Adds `x-genkit-trace-id` and `x-genkit-span-id` to `headers`.
    pub(crate) fn write(&self, headers: &mut HeaderMap) {
        for (name, value) in [(TRACE_ID, &self.trace_id), (SPAN_ID, &self.span_id)] {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(name, value);
            }
        }
    }
}
