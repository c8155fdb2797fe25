//! Observability endpoints: `GET /metrics` (Prometheus) and the trace read API
//! (`GET /api/traces`, `GET /api/traces/{id}`) the developer UI is built on.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, Request};
use axum::extract::{Path, Query};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::auth::AuthProvider;
use super::errors::HttpError;
use crate::telemetry::{METRICS_CONTENT_TYPE, TelemetryHandle, TraceStore};
use crate::{FlowError, Status};

/// `GET /metrics`: every metric, or 404 when metrics are off.
pub(crate) async fn metrics(telemetry: TelemetryHandle) -> Response {
    match telemetry.render_metrics() {
        Some(text) => ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], text).into_response(),
        None => HttpError::from(FlowError::not_found(
            "metrics are off: enable them with Telemetry::metrics(true) or [telemetry] metrics = true",
        ))
        .render(false),
    }
}

/// `?limit=N` of the trace list.
#[derive(Deserialize)]
pub(crate) struct ListQuery {
    limit: Option<usize>,
}

/// `GET /api/traces`: the newest traces, newest first (default 50).
pub(crate) async fn list_traces(
    store: Option<TraceStore>,
    Query(query): Query<ListQuery>,
) -> Response {
    match store {
        Some(store) => Json(store.list(query.limit.unwrap_or(50))).into_response(),
        None => no_store(),
    }
}

/// `GET /api/traces/{id}`: one trace with its span tree.
pub(crate) async fn get_trace(store: Option<TraceStore>, Path(id): Path<String>) -> Response {
    match store.map(|store| store.get(&id)) {
        Some(Some(trace)) => Json(trace).into_response(),
        Some(None) => HttpError::from(FlowError::not_found(format!("no trace {id} in the store")))
            .render(false),
        None => no_store(),
    }
}

/// Guards the developer endpoints (the trace API shows flow inputs and outputs): they answer
/// loopback callers only (when the server knows the peer) and pass the router-wide auth
/// provider, if there is one.
pub(crate) async fn dev_only(
    auth: Option<Arc<dyn AuthProvider>>,
    request: Request,
    next: Next,
) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>();
    if peer.is_some_and(|ConnectInfo(peer)| !peer.ip().is_loopback()) {
        return HttpError::from(FlowError::new(
            Status::PermissionDenied,
            "developer endpoints answer loopback callers only",
        ))
        .render(false);
    }
    let Some(provider) = auth else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    if let Err(refused) = provider.authenticate(&parts).await {
        return HttpError::from(refused).render(false);
    }
    next.run(Request::from_parts(parts, body)).await
}

fn no_store() -> Response {
    HttpError::from(FlowError::not_found(
        "the trace store is off: give the registry telemetry with a trace store (RegistryBuilder::telemetry, Telemetry::trace_store above 0)",
    ))
    .render(false)
}
