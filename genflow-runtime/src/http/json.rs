//! JSON responses, serialized here rather than through axum's `json` feature.

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::Serialize;

/// `body` as JSON with the HTTP code `code`.
pub(crate) fn response(code: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => raw(code, Bytes::from(bytes)),
        Err(e) => {
            tracing::error!(error = %e, "a response body does not serialize");
            raw(
                StatusCode::INTERNAL_SERVER_ERROR,
                Bytes::from_static(br#"{"status":"INTERNAL","message":"internal"}"#),
            )
        }
    }
}

/// Already serialized JSON with the HTTP code `code`.
pub(crate) fn raw(code: StatusCode, json: Bytes) -> Response {
    let mut response = Response::new(Body::from(json));
    *response.status_mut() = code;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
