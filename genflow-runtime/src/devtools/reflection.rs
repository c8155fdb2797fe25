//! Genkit's reflection API: the routes under `/api` that Genkit's CLI and Developer UI call.
//!
//! | request | answer |
//! |---|---|
//! | `GET /api/__health[?id=]` | 200 `OK`; 503 when `id` is not this runtime's |
//! | `GET /api/actions` | every action by key `/<kind>/<name>`: name, description, schemas, metadata |
//! | `POST /api/runAction[?stream=true]` | see [`run_action`](super::run_action) |
//! | `POST /api/cancelAction` `{traceId}` | cancels that run; 404 when none is going |
//! | `POST /api/notify` `{telemetryServerUrl}` | exports traces there (unless `GENKIT_TELEMETRY_SERVER` is set) |
//! | `GET /api/values?type=defaultModel` | the default model's name |

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::DevState;
use super::cancel::cancel_action;
use super::run_action::{error_json, run_action};
use super::runtime_file::REFLECTION_API_SPEC_VERSION;
use crate::{DynAction, FlowError};

/// The reflection routes of one dev server.
pub(crate) fn router(state: Arc<DevState>) -> Router {
    let health = Arc::clone(&state);
    let actions = Arc::clone(&state);
    let run = Arc::clone(&state);
    let notify_state = Arc::clone(&state);
    let values_state = Arc::clone(&state);
    let runs = state.runs.clone();
    Router::new()
        .route(
            "/api/__health",
            get(move |query| health_check(Arc::clone(&health), query)),
        )
        .route(
            "/api/actions",
            get(move || async move { Json(list_actions(&actions)) }),
        )
        .route(
            "/api/runAction",
            post(move |query, body| run_action(Arc::clone(&run), query, body)),
        )
        .route(
            "/api/cancelAction",
            post(move |body| cancel_action(runs.clone(), body)),
        )
        .route(
            "/api/notify",
            post(move |body| notify(Arc::clone(&notify_state), body)),
        )
        .route(
            "/api/values",
            get(move |query| values(Arc::clone(&values_state), query)),
        )
}

/// `?id=` of the health check.
#[derive(Deserialize)]
pub(crate) struct HealthQuery {
    id: Option<String>,
}

async fn health_check(state: Arc<DevState>, Query(query): Query<HealthQuery>) -> Response {
    match query.id {
        Some(id) if id != state.runtime_id => {
            (StatusCode::SERVICE_UNAVAILABLE, "Invalid runtime ID").into_response()
        }
        _ => "OK".into_response(),
    }
}

/// The descriptor of every action, by key.
fn list_actions(state: &DevState) -> Map<String, Value> {
    state
        .registry
        .actions()
        .into_iter()
        .map(|action| (action.meta().key(), descriptor(action.as_ref())))
        .collect()
}

/// `{key, name, type, description?, inputSchema, outputSchema, streamSchema?, metadata}`.
fn descriptor(action: &dyn DynAction) -> Value {
    let meta = action.meta();
    let schemas = action.schemas();
    let mut metadata = json!({
        "type": meta.kind.as_str(),
        "streaming": meta.streaming,
        "source": { "file": meta.location.file, "line": meta.location.line },
    });
    if let Some(timeout) = meta.timeout {
        metadata["timeoutMs"] = Value::from(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
    }
    let mut descriptor = json!({
        "key": meta.key(),
        "name": meta.name,
        "type": meta.kind.as_str(),
        "inputSchema": schemas.input(),
        "outputSchema": schemas.output(),
        "metadata": metadata,
    });
    if !meta.description.is_empty() {
        descriptor["description"] = Value::from(meta.description);
    }
    if let Some(chunk) = schemas.chunk() {
        descriptor["streamSchema"] = chunk.clone();
    }
    descriptor
}

/// The body of `POST /api/notify`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NotifyRequest {
    telemetry_server_url: Option<String>,
    reflection_api_spec_version: Option<u32>,
}

async fn notify(state: Arc<DevState>, Json(body): Json<NotifyRequest>) -> Response {
    if let Some(url) = body.telemetry_server_url.filter(|u| !u.is_empty()) {
        state.connect_telemetry_server(&url);
    }
    match body.reflection_api_spec_version {
        Some(version) if version == REFLECTION_API_SPEC_VERSION => {}
        Some(version) if version > REFLECTION_API_SPEC_VERSION => tracing::warn!(
            "the Genkit CLI speaks reflection API version {version}, genflow {REFLECTION_API_SPEC_VERSION}: some features may not work"
        ),
        _ => tracing::warn!("the Genkit CLI may be outdated: update genkit-cli"),
    }
    "OK".into_response()
}

/// `?type=` of `GET /api/values`.
#[derive(Deserialize)]
pub(crate) struct ValuesQuery {
    r#type: Option<String>,
}

async fn values(state: Arc<DevState>, Query(query): Query<ValuesQuery>) -> Response {
    let bad = |message: String| {
        let error = FlowError::invalid_argument(message);
        (StatusCode::BAD_REQUEST, Json(error_json(&error, None))).into_response()
    };
    match query.r#type.as_deref() {
        None => bad("query parameter \"type\" is required".to_owned()),
        Some("defaultModel") => Json(state.default_model()).into_response(),
        Some("middleware") => Json(Map::new()).into_response(),
        Some(other) => bad(format!(
            "'type' {other} is not supported. Only 'defaultModel' and 'middleware' are supported"
        )),
    }
}
