//! The axum [`Router`] of a [`FlowServer`]: one route per flow, the built-in endpoints, JSON
//! 404/405 answers and the body limit.

use std::collections::HashSet;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderMap, header};
use axum::middleware::from_fn;
use axum::routing::{MethodRouter, get, post};

use super::errors::{method_not_allowed, not_found};
use super::handler::{FlowRoute, Shared};
use super::limits::Gate;
use super::settings::Settings;
use super::{health, observe};

/// The router of a server's settings.
pub(crate) fn build(server: Settings) -> Router {
    let openapi = Bytes::from(super::openapi::document(&server).to_string());
    let shared = Arc::new(Shared {
        registry: server.registry.clone(),
        gate: server
            .concurrency_limit
            .map(|max| Gate::new(max, server.registry.telemetry().clone())),
        dev_mode: server.dev_mode,
        body_limit: server.body_limit,
        body_timeout: server.body_timeout,
        default_timeout: server.default_timeout,
        shutdown: server.shutdown.clone(),
    });

    let mut router = Router::new();
    let mut taken = HashSet::new();
    for flow in server.flows() {
        let meta = flow.meta();
        let route = Arc::new(FlowRoute::new(
            meta,
            server.provider_for(meta.name).cloned(),
            Arc::clone(&shared),
        ));
        let handler = move |request: Request| Arc::clone(&route).handle(request);
        router = router.route(&server.path(meta.name), only("POST", post(handler)));
        taken.insert(meta.name);
    }

    #[cfg(feature = "mcp")]
    if server.serves_mcp() {
        router = mount_mcp(router, &server, shared.gate.clone(), &mut taken);
    }

    let shutdown = server.shutdown.clone();
    let telemetry = server.registry.telemetry().clone();
    let mut builtins = vec![
        (
            "openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], openapi) }),
        ),
        ("healthz", get(health::liveness)),
        ("readyz", get(move || health::readiness(shutdown.clone()))),
        ("metrics", get(move || observe::metrics(telemetry.clone()))),
    ];
    if server.trace_api.unwrap_or(server.dev_mode) {
        let store = server.registry.telemetry().trace_store().cloned();
        if let Some(store) = &store {
            store.set_recording(true);
        }
        let auth = server.auth.clone();
        let dev_only = from_fn(move |request, next| observe::dev_only(auth.clone(), request, next));
        let list = store.clone();
        builtins.push((
            "api/traces",
            get(move |query| observe::list_traces(list.clone(), query)).layer(dev_only.clone()),
        ));
        builtins.push((
            "api/traces/{id}",
            get(move |id| observe::get_trace(store.clone(), id)).layer(dev_only),
        ));
    }
    for (path, endpoint) in builtins {
        if taken.contains(path) {
            tracing::warn!(path, "a flow of this name hides the built-in endpoint");
            continue;
        }
        router = router.route(&server.path(path), only("GET", endpoint));
    }

    router
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(server.body_limit))
}

/// Adds the MCP endpoint at `<prefix>/mcp`, unless a flow of that name is served there.
#[cfg(feature = "mcp")]
fn mount_mcp(
    router: Router,
    server: &Settings,
    gate: Option<Gate>,
    taken: &mut HashSet<&'static str>,
) -> Router {
    if taken.contains("mcp") {
        tracing::warn!("a flow named 'mcp' hides the MCP endpoint");
        return router;
    }
    taken.insert("mcp");
    let guard = crate::mcp::http::Guard {
        auth: server.auth.clone(),
        body_limit: server.body_limit,
        body_timeout: server.body_timeout,
    };
    let route = crate::mcp::http::route(
        server.mcp_server(gate),
        guard,
        server.mcp_allowed_hosts.clone(),
        server.shutdown.stopped_token(),
    );
    router.route(&server.path("mcp"), route)
}

/// `endpoint`, answering any other method with a JSON 405.
fn only(allow: &'static str, endpoint: MethodRouter) -> MethodRouter {
    endpoint.fallback(move |headers: HeaderMap| async move { method_not_allowed(allow, &headers) })
}
