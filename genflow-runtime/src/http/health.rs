//! Health endpoints for orchestrators: liveness and readiness.

use axum::Json;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::shutdown::Shutdown;

/// `GET /healthz`: 200 while the process serves HTTP at all.
pub(crate) async fn liveness() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 while serving, 503 `UNAVAILABLE` once a shutdown has started.
pub(crate) async fn readiness(shutdown: Shutdown) -> (StatusCode, Json<Value>) {
    if shutdown.is_shutting_down() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "UNAVAILABLE", "message": "server shutting down" })),
        )
    } else {
        (StatusCode::OK, Json(json!({ "status": "ok" })))
    }
}
