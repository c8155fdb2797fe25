//! Health endpoints for orchestrators: liveness and readiness.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::shutdown::Shutdown;

/// `GET /healthz`: 200 while the process serves HTTP at all.
pub(crate) async fn liveness() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// `GET /readyz`: 200 while serving, 503 `UNAVAILABLE` once a shutdown has started.
pub(crate) async fn readiness(shutdown: Shutdown) -> Response {
    if shutdown.is_shutting_down() {
        let body = json!({ "status": "UNAVAILABLE", "message": "server shutting down" });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    } else {
        liveness().await
    }
}
