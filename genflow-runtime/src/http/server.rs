//! [`FlowServer`]: which flows to serve and under which limits, auth and mode.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

use axum::http::HeaderName;

use super::auth::{ApiKey, AuthProvider};
use super::settings::Settings;
use super::shutdown::Shutdown;
use super::{openapi, router};
use crate::Registry;
use crate::config::{Config, ConfigError};

/// The default limit of flow requests answered at once: enough for one instance under heavy
/// load, low enough that a burst cannot hold unbounded memory and upstream connections.
pub const DEFAULT_CONCURRENCY_LIMIT: usize = 512;

/// How long a request body may take to arrive by default: 30 s. A slower upload answers 408
/// and never holds a concurrency slot (requests are admitted once their body is read).
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// The default request body limit: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Builds the HTTP flow server of a registry: an axum [`Router`] to serve with
/// [`serve`](super::serve) or to merge into an application.
///
/// ```
/// use genflow_runtime::http::{ApiKey, FlowServer};
/// use genflow_runtime::Registry;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let router = FlowServer::new(Registry::manual().build()?)
///     .prefix("/api")
///     .concurrency_limit(64)
///     .auth(ApiKey::bearer("s3cret"))
///     .into_router();
/// # let _ = router; Ok(()) }
/// ```
pub struct FlowServer {
    settings: Settings,
}

impl FlowServer {
    /// Serves every flow of `registry` at `/<name>`, with a 1 MiB body limit, at most 512
    /// requests at once, no auth, and internal errors redacted.
    pub fn new(registry: Registry) -> Self {
        FlowServer {
            settings: Settings {
                registry,
                only: None,
                prefix: String::new(),
                body_limit: DEFAULT_BODY_LIMIT,
                body_timeout: DEFAULT_BODY_TIMEOUT,
                concurrency_limit: Some(DEFAULT_CONCURRENCY_LIMIT),
                auth: None,
                flow_auth: HashMap::new(),
                dev_mode: false,
                default_timeout: None,
                trace_api: None,
                shutdown: Shutdown::default(),
                #[cfg(feature = "mcp")]
                mcp: None,
                #[cfg(feature = "mcp")]
                mcp_flows: true,
                #[cfg(feature = "mcp")]
                mcp_allowed_hosts: None,
            },
        }
    }

    /// Serves only the named flows. Names the registry does not know are skipped with a
    /// warning.
    #[must_use]
    pub fn only<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.settings.only = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Serves the flows, `/openapi.json`, `/healthz` and `/readyz` under `prefix` (such as
    /// `/api`).
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.settings.prefix = prefix.into().trim_end_matches('/').to_owned();
        if !self.settings.prefix.is_empty() && !self.settings.prefix.starts_with('/') {
            self.settings.prefix.insert(0, '/');
        }
        self
    }

    /// The largest request body accepted; larger ones answer 413.
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.settings.body_limit = bytes;
        self
    }

    /// How long a request body may take to arrive; slower ones answer 408 and the connection
    /// closes.
    #[must_use]
    pub fn body_timeout(mut self, limit: Duration) -> Self {
        self.settings.body_timeout = limit;
        self
    }

    /// Runs at most `max` flow requests at once (a stream counts until its last frame); the
    /// others answer 503 `UNAVAILABLE` with `Retry-After` at once. The default is
    /// [`DEFAULT_CONCURRENCY_LIMIT`]; `usize::MAX` removes the limit.
    #[must_use]
    pub fn concurrency_limit(mut self, max: usize) -> Self {
        self.settings.concurrency_limit = Some(max);
        self
    }

    /// Checks every flow request with `provider`, unless the flow has its own.
    #[must_use]
    pub fn auth(mut self, provider: impl AuthProvider) -> Self {
        self.settings.auth = Some(Arc::new(provider));
        self
    }

    /// Checks requests to the flow `name` with `provider` instead of the router-wide one.
    #[must_use]
    pub fn flow_auth(mut self, name: impl Into<String>, provider: impl AuthProvider) -> Self {
        self.settings
            .flow_auth
            .insert(name.into(), Arc::new(provider));
        self
    }

    /// Dev mode shows internal error messages to callers; never enable it in production.
    #[must_use]
    pub fn dev_mode(mut self, on: bool) -> Self {
        self.settings.dev_mode = on;
        self
    }

    /// A deadline for flows that have no `timeout` of their own: 504 `DEADLINE_EXCEEDED`.
    #[must_use]
    pub fn default_timeout(mut self, limit: Duration) -> Self {
        self.settings.default_timeout = Some(limit);
        self
    }

    /// Serves the trace read API (`GET /api/traces`, `/api/traces/{id}`), which shows flow
    /// inputs and outputs: on in dev mode, off otherwise unless enabled here.
    #[must_use]
    pub fn trace_api(mut self, on: bool) -> Self {
        self.settings.trace_api = Some(on);
        self
    }

    /// Serves the Model Context Protocol at `<prefix>/mcp` (on by default): the served flows
    /// and every tool as MCP tools, behind the same auth provider, body limit and concurrency
    /// limit as the flows. See the [`mcp`](crate::mcp) module.
    #[cfg(feature = "mcp")]
    #[must_use]
    pub fn mcp(mut self, on: bool) -> Self {
        self.settings.mcp = Some(on);
        self
    }

    /// Whether the MCP server offers the served flows as tools (default `true`); `false`
    /// offers the registry's tools only. A single flow opts out with `#[flow(mcp = false)]`.
    #[cfg(feature = "mcp")]
    #[must_use]
    pub fn mcp_flows(mut self, on: bool) -> Self {
        self.settings.mcp_flows = on;
        self
    }

    /// The `Host` header values `/mcp` accepts, as names or `name:port` (a guard against DNS
    /// rebinding). The default accepts loopback names only (`localhost`, `127.0.0.1`, `::1`):
    /// list your public host names when serving beyond loopback.
    #[cfg(feature = "mcp")]
    #[must_use]
    pub fn mcp_allowed_hosts<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        hosts: I,
    ) -> Self {
        self.settings.mcp_allowed_hosts = Some(hosts.into_iter().map(Into::into).collect());
        self
    }

    /// The MCP server of this flow server's settings, to serve over stdio with
    /// [`McpServer::serve_stdio`](crate::mcp::McpServer::serve_stdio).
    #[cfg(feature = "mcp")]
    pub fn into_mcp(self) -> crate::mcp::McpServer {
        let settings = &self.settings;
        let gate = settings
            .concurrency_limit
            .map(|max| super::limits::Gate::new(max, settings.registry.telemetry().clone()));
        settings.mcp_server(gate)
    }

    /// Applies the `[server]` and `[auth]` sections of a configuration. Builder calls made
    /// afterwards take precedence. Fails when an `api_key_env` variable is unset or empty.
    pub fn configure(mut self, config: &Config) -> Result<Self, ConfigError> {
        let server = &config.server;
        if let Some(flows) = &server.flows {
            self = self.only(flows.clone());
        }
        if let Some(prefix) = &server.prefix {
            self = self.prefix(prefix.clone());
        }
        if let Some(limit) = server.body_limit {
            self = self.body_limit(limit.0);
        }
        if let Some(limit) = server.body_timeout {
            self = self.body_timeout(limit.0);
        }
        if let Some(max) = server.concurrency_limit {
            self = self.concurrency_limit(max);
        }
        if let Some(timeout) = server.timeout {
            self = self.default_timeout(timeout.0);
        }
        if let Some(dev) = server.dev {
            self = self.dev_mode(dev);
        }
        #[cfg(feature = "mcp")]
        {
            if let Some(on) = server.mcp {
                self = self.mcp(on);
            }
            if let Some(on) = server.mcp_flows {
                self = self.mcp_flows(on);
            }
            if let Some(hosts) = &server.mcp_allowed_hosts {
                self = self.mcp_allowed_hosts(hosts.clone());
            }
        }
        let auth = &config.auth;
        if let Some(var) = &auth.api_key_env {
            self = self.auth(api_key(var, auth.header.as_deref())?);
        }
        for (flow, settings) in &auth.flows {
            let key = api_key(&settings.api_key_env, settings.header.as_deref())?;
            self = self.flow_auth(flow.clone(), key);
        }
        Ok(self)
    }

    /// What this server was told.
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The handle that shuts this server down (what [`serve`](super::serve) triggers on
    /// SIGTERM and Ctrl-C).
    pub fn shutdown_handle(&self) -> Shutdown {
        self.settings.shutdown.clone()
    }

    /// The OpenAPI 3.2 document of the served flows.
    pub fn openapi(&self) -> serde_json::Value {
        openapi::document(&self.settings)
    }

    /// The router: `POST <prefix>/<flow>` for each served flow, plus `GET <prefix>/openapi.json`,
    /// `<prefix>/healthz` and `<prefix>/readyz`.
    pub fn into_router(self) -> Router {
        for name in self.settings.only.iter().flatten() {
            if self.settings.registry.flow(name).is_none() {
                tracing::warn!(flow = %name, "not served: the registry has no flow of this name");
            }
        }
        router::build(self.settings)
    }
}

impl std::fmt::Debug for FlowServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowServer")
            .field("registry", &self.settings.registry)
            .field("prefix", &self.settings.prefix)
            .field("body_limit", &self.settings.body_limit)
            .field("concurrency_limit", &self.settings.concurrency_limit)
            .field("dev_mode", &self.settings.dev_mode)
            .finish_non_exhaustive()
    }
}

/// The API key held by the environment variable `var`, checked in `header` or as a bearer token.
fn api_key(var: &str, header: Option<&str>) -> Result<ApiKey, ConfigError> {
    let env_error = |message: String| ConfigError::Env {
        var: var.to_owned(),
        message,
    };
    let secret = std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            env_error(
                "the configuration names this variable as an API key, but it is unset or empty"
                    .to_owned(),
            )
        })?;
    match header {
        None => Ok(ApiKey::bearer(secret)),
        Some(name) => HeaderName::try_from(name)
            .map(|name| ApiKey::header(name, secret))
            .map_err(|_| env_error(format!("`{name}` is not a valid header name"))),
    }
}
