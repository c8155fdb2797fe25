//! Health endpoints for orchestrators: liveness and readiness.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::json;
use super::shutdown::Shutdown;

/// `GET /healthz`: 200 while the process serves HTTP at all.
pub(crate) async fn liveness() -> Response {
    json::response(StatusCode::OK, &json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 while serving, 503 `UNAVAILABLE` once a shutdown has started.
pub(crate) async fn readiness(shutdown: Shutdown) -> Response {
    if shutdown.is_shutting_down() {
        let body = json!({ "status": "UNAVAILABLE", "message": "server shutting down" });
        json::response(StatusCode::SERVICE_UNAVAILABLE, &body)
    } else {
        json::response(StatusCode::OK, &json!({ "status": "ok" }))
    }
}
