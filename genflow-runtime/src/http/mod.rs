//! The Genkit-compatible HTTP flow server (feature `server`).
//!
//! [`router`] serves every flow of a registry as Genkit's flow servers do; [`FlowServer`]
//! chooses the flows, prefix, limits, auth and mode; [`serve`] runs it with graceful shutdown.
//!
//! | request | answer |
//! |---|---|
//! | `POST /<flow>` `{"data": input}` | `200 {"result": output}`, `x-genkit-trace-id`, `x-genkit-span-id` |
//! | same, with `Accept: text/event-stream` or `?stream=true` | `data: {"message": chunk}` frames, then one `data: {"result": ...}` or `data: {"error": ...}` frame |
//! | a failing flow | the status's HTTP code and `{"status", "message", "details"}`; internal messages read `"internal"` outside dev mode |
//! | invalid input | 400 `INVALID_ARGUMENT`, every violation's JSON pointer in `details.errors` |
//! | unknown path / wrong method / body too large | 404 / 405 / 413, as JSON |
//! | over the concurrency limit | 503 `UNAVAILABLE` with `Retry-After` |
//! | refused by the auth provider | 401 `UNAUTHENTICATED` / 403 `PERMISSION_DENIED` |
//! | `GET /openapi.json`, `/healthz`, `/readyz` | the OpenAPI 3.2 document, liveness, readiness |
//! | `GET /metrics` | Prometheus metrics (when [`Telemetry`](crate::telemetry::Telemetry) records them) |
//! | `GET /api/traces`, `/api/traces/{id}` | the trace store (dev mode, or [`FlowServer::trace_api`]) |
//!
//! ```no_run
//! use genflow_runtime::http::{FlowServer, serve};
//! use genflow_runtime::Registry;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let registry = Registry::builder().build()?;
//! serve(FlowServer::new(registry)).await?; // PORT or 127.0.0.1:3400, until SIGTERM/Ctrl-C
//! # Ok(()) }
//! ```

mod auth;
mod connections;
mod errors;
mod handler;
mod health;
mod limits;
pub(crate) mod observe;
mod openapi;
mod request;
mod router;
mod serve;
mod server;
mod service;
mod settings;
mod shutdown;
mod sse;
mod trace;

pub use auth::{ApiKey, ApiKeyAuth, AuthContext, AuthFn, AuthProvider, FnAuth, auth_fn};
pub use axum::http::request::Parts;
pub use serve::{DEFAULT_ADDR, Serve, ServeError, serve};
pub use server::{DEFAULT_BODY_LIMIT, DEFAULT_BODY_TIMEOUT, DEFAULT_CONCURRENCY_LIMIT, FlowServer};
pub use service::{ServiceError, run_service};
pub use shutdown::Shutdown;

#[cfg(feature = "mcp")]
pub(crate) use errors::{HttpError, body_of};
#[cfg(feature = "mcp")]
pub(crate) use limits::Gate;
#[cfg(feature = "mcp")]
pub(crate) use request::read_body;
#[cfg(feature = "mcp")]
pub(crate) use trace::parent_of;

use crate::Registry;

/// The router serving every flow of `registry` with the default settings of [`FlowServer`].
pub fn router(registry: Registry) -> axum::Router {
    FlowServer::new(registry).into_router()
}
