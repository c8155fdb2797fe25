//! The runs the reflection API started and has not finished, by trace id, and
//! `POST /api/cancelAction`, which cancels one of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// The cancellation tokens of running actions, by 32-hex-digit trace id. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub(crate) struct ActiveRuns {
    runs: Arc<Mutex<HashMap<String, CancellationToken>>>,
}

impl ActiveRuns {
    /// Tracks the run of `trace_id` until the returned guard drops.
    pub(crate) fn track(&self, trace_id: String, token: CancellationToken) -> Tracked {
        self.lock().insert(trace_id.clone(), token);
        Tracked {
            runs: self.clone(),
            trace_id,
        }
    }

    /// Cancels the run of `trace_id`; false when no such run is going.
    pub(crate) fn cancel(&self, trace_id: &str) -> bool {
        let token = self.lock().remove(trace_id);
        token.map(|token| token.cancel()).is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.runs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A tracked run; untracked when dropped (the run finished or its caller went away).
pub(crate) struct Tracked {
    runs: ActiveRuns,
    trace_id: String,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.runs.lock().remove(&self.trace_id);
    }
}

/// The body of `POST /api/cancelAction`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CancelRequest {
    trace_id: Option<String>,
}

/// `POST /api/cancelAction {traceId}`: `{"message": "Action cancelled"}`, 404 when no run of
/// that trace is going, 400 without a trace id.
pub(crate) async fn cancel_action(runs: ActiveRuns, Json(body): Json<CancelRequest>) -> Response {
    match body.trace_id.filter(|id| !id.is_empty()) {
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "traceId is required" })),
        )
            .into_response(),
        Some(id) if runs.cancel(&id) => {
            Json(json!({ "message": "Action cancelled" })).into_response()
        }
        Some(_) => (
            StatusCode::NOT_FOUND,
            Json(json!({ "message": "Action not found or already completed" })),
        )
            .into_response(),
    }
}
