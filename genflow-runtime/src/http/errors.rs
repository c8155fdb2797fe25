//! Error responses: a [`FlowError`] rendered as `{"status", "message", "details"}` with the HTTP
//! code of its status.

use std::time::Duration;

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::{ErrorBody, FlowError, Status};

/// The longest `Retry-After` passed on to a caller; an upstream asking for longer is bounded
/// to it (the caller may retry sooner and be told again).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// A request that failed before or while running its flow.
#[derive(Debug)]
pub(crate) struct HttpError {
    error: FlowError,
    code: StatusCode,
    retry_after: Option<Duration>,
    /// Answer with `Connection: close`: the request's body was not read to its end, so the
    /// connection cannot carry another request.
    close: bool,
}

impl HttpError {
    /// Overrides the HTTP code derived from the status (413 has no Genkit status of its own).
    pub(crate) fn with_code(mut self, code: StatusCode) -> Self {
        self.code = code;
        self
    }

    /// Closes the connection after this answer, because the request's body is left unread.
    pub(crate) fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    /// [`HttpError::closing`] when `headers` announce a body (which an early answer leaves
    /// unread).
    pub(crate) fn closing_if_body(self, headers: &HeaderMap) -> Self {
        if has_body(headers) {
            self.closing()
        } else {
            self
        }
    }

    /// A body that did not arrive within `limit`: 408, and the connection closes.
    pub(crate) fn body_timeout(limit: Duration) -> Self {
        HttpError::from(FlowError::deadline_exceeded(format!(
            "the request body did not arrive within {limit:?}"
        )))
        .with_code(StatusCode::REQUEST_TIMEOUT)
        .closing()
    }

    /// A body that could not be read: too large (413) or broken (400); the rest of it is left
    /// unread, so the connection closes.
    pub(crate) fn body(rejection: &BytesRejection, limit: usize) -> Self {
        let error = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            HttpError::from(FlowError::new(
                Status::ResourceExhausted,
                format!("the request body is larger than {limit} bytes"),
            ))
            .with_code(StatusCode::PAYLOAD_TOO_LARGE)
        } else {
            HttpError::from(FlowError::invalid_argument(format!(
                "the request body could not be read: {rejection}"
            )))
        };
        error.closing()
    }

    /// The response; internal messages are shown only when `expose_internal` (dev mode).
    pub(crate) fn render(self, expose_internal: bool) -> Response {
        let mut response = (self.code, Json(body_of(&self.error, expose_internal))).into_response();
        if self.close {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let Some(after) = self.retry_after {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                // Whole seconds, rounded up: a caller must not come back early.
                HeaderValue::from((after.as_secs() + u64::from(after.subsec_nanos() > 0)).max(1)),
            );
        }
        response
    }
}

impl From<FlowError> for HttpError {
    fn from(error: FlowError) -> Self {
        let code = StatusCode::from_u16(error.status().http_code())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = error.retry_after().map(|after| after.min(MAX_RETRY_AFTER));
        HttpError {
            error,
            code,
            retry_after,
            close: false,
        }
    }
}

/// Errors raised outside any flow carry no internal detail, so they render as they are.
impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        self.render(false)
    }
}

/// The fallback of the router: 404 `NOT_FOUND` for every path that is not served.
pub(crate) async fn not_found(uri: axum::http::Uri, headers: HeaderMap) -> HttpError {
    HttpError::from(FlowError::not_found(format!(
        "no flow is served at '{}'",
        uri.path()
    )))
    .closing_if_body(&headers)
}

/// 405 for a served path asked with another method; `allow` lists the accepted method.
pub(crate) fn method_not_allowed(allow: &'static str, headers: &HeaderMap) -> Response {
    let mut response = HttpError::from(FlowError::new(
        Status::Unimplemented,
        format!("method not allowed; use {allow}"),
    ))
    .with_code(StatusCode::METHOD_NOT_ALLOWED)
    .closing_if_body(headers)
    .into_response();
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

/// Whether `headers` announce a request body (a non-zero length, or a chunked one).
fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|length| length.as_bytes() != b"0")
}

/// The body a caller sees. An error whose message is redacted is logged with its whole source
/// chain, so the operator sees what the caller cannot.
pub(crate) fn body_of(error: &FlowError, expose_internal: bool) -> ErrorBody {
    let body = error.to_body(expose_internal);
    if body.message != error.message() {
        tracing::error!(status = %error.status(), error = %crate::error::chain(error), "flow failed (message redacted for the caller)");
    }
    body
}
