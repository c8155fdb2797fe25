//! The streamable-HTTP transport, served at `<prefix>/mcp` on the flow server's router: the
//! same auth provider, body limit and body timeout as the flow routes check every request
//! before rmcp sees it, and every call is admitted by the same gate.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::{Next, from_fn};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, any_service};
use rmcp::transport::StreamableHttpServerConfig;
use rmcp::transport::StreamableHttpService;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use tokio_util::sync::CancellationToken;

use super::server::{CallerAuth, McpServer};
use crate::http::{AuthProvider, HttpError, read_body};

/// What guards the `/mcp` route: the flow routes' checks.
#[derive(Clone)]
pub(crate) struct Guard {
    /// The server-wide auth provider.
    pub(crate) auth: Option<Arc<dyn AuthProvider>>,
    pub(crate) body_limit: usize,
    pub(crate) body_timeout: std::time::Duration,
}

/// The route of `server`: rmcp's streamable-HTTP service behind `guard`. Sessions end when
/// `stopped` is cancelled (the flow server's end of grace).
pub(crate) fn route(
    server: McpServer,
    guard: Guard,
    allowed_hosts: Option<Vec<String>>,
    stopped: CancellationToken,
) -> MethodRouter {
    let mut config = StreamableHttpServerConfig::default()
        .with_cancellation_token(stopped)
        .with_max_request_body_bytes(guard.body_limit);
    if let Some(hosts) = allowed_hosts {
        config = config.with_allowed_hosts(hosts);
    }
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    any_service(service).layer(from_fn(move |request, next| {
        checked(guard.clone(), request, next)
    }))
}

/// Authenticates the request, reads its body within the limits, then hands it to rmcp with
/// the auth context in its extensions (where each call finds it).
async fn checked(guard: Guard, request: Request, next: Next) -> Response {
    match admit(&guard, request).await {
        Ok(request) => next.run(request).await,
        Err(refused) => refused.into_response(),
    }
}

async fn admit(guard: &Guard, request: Request) -> Result<Request, HttpError> {
    let (mut parts, body) = request.into_parts();
    if let Some(provider) = &guard.auth {
        let auth = provider
            .authenticate(&parts)
            .await
            .map_err(|refused| HttpError::from(refused).closing_if_body(&parts.headers))?;
        parts.extensions.insert(CallerAuth(auth));
    }
    // Read as the flow routes read theirs: the router's body limit travels in the extensions.
    let mut reader = Request::new(body);
    *reader.extensions_mut() = parts.extensions.clone();
    let body = read_body(reader, guard.body_timeout, guard.body_limit).await?;
    Ok(Request::from_parts(parts, Body::from(body)))
}
