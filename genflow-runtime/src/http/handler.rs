//! The handler of `POST /<flow>`: admission, auth, input, then a JSON or an event-stream run.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::Request;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::auth::AuthProvider;
use super::errors::HttpError;
use super::limits::Gate;
use super::request::{input_of, read_body, wants_stream};
use super::shutdown::Shutdown;
use super::sse;
use super::trace;
use crate::telemetry::SpanIds;
use crate::{ActionMeta, Registry, RunOptions};

/// What every flow route of one server shares.
pub(crate) struct Shared {
    pub(crate) registry: Registry,
    pub(crate) gate: Option<Gate>,
    pub(crate) dev_mode: bool,
    pub(crate) body_limit: usize,
    /// How long a request body may take to arrive.
    pub(crate) body_timeout: Duration,
    /// The server-wide deadline, for flows without a timeout of their own.
    pub(crate) default_timeout: Option<Duration>,
    pub(crate) shutdown: Shutdown,
}

/// One served flow.
pub(crate) struct FlowRoute {
    pub(crate) name: &'static str,
    pub(crate) auth: Option<Arc<dyn AuthProvider>>,
    pub(crate) shared: Arc<Shared>,
}

impl FlowRoute {
    /// The route of `meta` on a server.
    pub(crate) fn new(
        meta: &ActionMeta,
        auth: Option<Arc<dyn AuthProvider>>,
        shared: Arc<Shared>,
    ) -> Self {
        FlowRoute {
            name: meta.name,
            auth,
            shared,
        }
    }

    /// Answers one request, always with the trace headers.
    pub(crate) async fn handle(self: Arc<Self>, request: Request) -> Response {
        let request_metrics = self.shared.registry.telemetry().http_request(self.name);
        let mut ids = None;
        let mut response = match self.respond(request, &mut ids).await {
            Ok(response) => response,
            Err(error) => error.render(self.shared.dev_mode),
        };
        trace::write(ids, response.headers_mut());
        request_metrics.finish(response.status());
        response
    }

    /// The response; `ids` receives the run's span once it has started.
    async fn respond(
        &self,
        request: Request,
        ids: &mut Option<SpanIds>,
    ) -> Result<Response, HttpError> {
        let shared = &self.shared;
        let (parts, body) = request.into_parts();
        // Refused before its body is read: the connection closes after the answer.
        let auth = match &self.auth {
            Some(provider) => Some(
                provider
                    .authenticate(&parts)
                    .await
                    .map_err(|refused| HttpError::from(refused).closing_if_body(&parts.headers))?,
            ),
            None => None,
        };
        let stream = wants_stream(&parts);
        let parent = trace::parent_of(&parts);
        let content_type = parts.headers.get(header::CONTENT_TYPE).cloned();
        let request = Request::from_parts(parts, body);
        let body = read_body(request, shared.body_timeout, shared.body_limit).await?;
        let stream = stream?;
        // Admitted once the body is read: a slow upload holds no slot.
        let slot = shared.gate.as_ref().map(Gate::admit).transpose()?;
        let input = input_of(content_type.as_ref(), &body)?;
        let options = RunOptions {
            auth,
            parent,
            default_timeout: shared.default_timeout,
            cancel: Some(shared.shutdown.cancellation()),
        };
        if stream {
            let events = shared.registry.stream(self.name, input, options)?;
            *ids = events.ids();
            return Ok(sse::response(events, slot, shared.dev_mode));
        }
        let run = shared.registry.start(self.name, input, options)?;
        *ids = run.ids;
        let result = run.future.await?;
        Ok(Json(json!({ "result": result })).into_response())
    }
}
