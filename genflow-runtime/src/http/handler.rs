//! The handler of `POST /<flow>`: admission, auth, input, then a JSON or an event-stream run.

use std::future::{Future, pending};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header;
use axum::response::Response;
use serde_json::{Value, json};

use super::auth::AuthProvider;
use super::errors::HttpError;
use super::json;
use super::limits::Gate;
use super::request::{input_of, wants_stream};
use super::shutdown::Shutdown;
use super::sse;
use super::trace;
use crate::telemetry::{SpanIds, metrics};
use crate::{ActionMeta, FlowError, Registry, RunOptions};

/// What every flow route of one server shares.
pub(crate) struct Shared {
    pub(crate) registry: Registry,
    pub(crate) gate: Option<Gate>,
    pub(crate) dev_mode: bool,
    pub(crate) body_limit: usize,
    pub(crate) default_timeout: Option<Duration>,
    pub(crate) shutdown: Shutdown,
}

/// One served flow.
pub(crate) struct FlowRoute {
    pub(crate) name: &'static str,
    /// The server-wide deadline, for a flow without a timeout of its own.
    pub(crate) deadline: Option<Duration>,
    pub(crate) auth: Option<Arc<dyn AuthProvider>>,
    pub(crate) shared: Arc<Shared>,
}

/// The error of a run that outlived the server-wide deadline.
pub(crate) fn deadline_error() -> FlowError {
    FlowError::deadline_exceeded("the flow did not finish within the server's deadline")
}

/// The error of a run cut short by the end of the shutdown grace period.
pub(crate) fn shutdown_error() -> FlowError {
    FlowError::unavailable("server shutting down")
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
            deadline: meta.timeout.map_or(shared.default_timeout, |_| None),
            auth,
            shared,
        }
    }

    /// Answers one request, always with the trace headers.
    pub(crate) async fn handle(self: Arc<Self>, request: Request) -> Response {
        let request_metrics = metrics::HttpRequest::start(self.name);
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
        let slot = shared.gate.as_ref().map(Gate::admit).transpose()?;
        let (parts, body) = request.into_parts();
        let auth = match &self.auth {
            Some(provider) => Some(provider.authenticate(&parts).await?),
            None => None,
        };
        let stream = wants_stream(&parts);
        let parent = trace::parent_of(&parts);
        let content_type = parts.headers.get(header::CONTENT_TYPE).cloned();
        let body = Bytes::from_request(Request::from_parts(parts, body), &())
            .await
            .map_err(|rejection| HttpError::body(&rejection, shared.body_limit))?;
        let input = input_of(content_type.as_ref(), &body)?;
        let options = RunOptions { auth, parent };
        if stream {
            let events = shared.registry.stream(self.name, input, options)?;
            *ids = events.ids();
            return Ok(sse::response(
                events,
                sse::Limits {
                    deadline: self.deadline.map(|d| Box::pin(tokio::time::sleep(d))),
                    shutdown: shared.shutdown.clone(),
                    _slot: slot,
                    expose_internal: shared.dev_mode,
                },
            ));
        }
        let run = shared.registry.start(self.name, input, options)?;
        *ids = run.ids;
        let result = self.bounded(run.future).await?;
        Ok(json::response(StatusCode::OK, &json!({ "result": result })))
    }

    /// Runs `run` under the server-wide deadline and the shutdown grace period.
    async fn bounded(
        &self,
        run: impl Future<Output = Result<Value, FlowError>>,
    ) -> Result<Value, FlowError> {
        let deadline = async {
            match self.deadline {
                Some(limit) => tokio::time::sleep(limit).await,
                None => pending().await,
            }
        };
        tokio::select! {
            biased;
            outcome = run => outcome,
            () = deadline => Err(deadline_error()),
            () = self.shared.shutdown.stopping() => Err(shutdown_error()),
        }
    }
}
