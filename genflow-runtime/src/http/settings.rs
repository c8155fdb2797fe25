//! What a [`FlowServer`](super::FlowServer) was told: the flows it serves and under which
//! limits, auth and mode. The router and the OpenAPI document are built from it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::auth::AuthProvider;
use super::shutdown::Shutdown;
use crate::{ActionKind, DynAction, Registry};

/// A server's settings.
pub(crate) struct Settings {
    pub(crate) registry: Registry,
    /// Serve only these flows.
    pub(crate) only: Option<Vec<String>>,
    /// The path prefix: empty or `/...` without a trailing slash.
    pub(crate) prefix: String,
    pub(crate) body_limit: usize,
    /// How long a request body may take to arrive.
    pub(crate) body_timeout: Duration,
    pub(crate) concurrency_limit: Option<usize>,
    /// The router-wide auth provider.
    pub(crate) auth: Option<Arc<dyn AuthProvider>>,
    /// Auth providers of single flows, instead of the router-wide one.
    pub(crate) flow_auth: HashMap<String, Arc<dyn AuthProvider>>,
    pub(crate) dev_mode: bool,
    pub(crate) default_timeout: Option<Duration>,
    /// Whether the trace read API is served; `None` follows dev mode.
    pub(crate) trace_api: Option<bool>,
    pub(crate) shutdown: Shutdown,
    /// Whether `/mcp` is served; `None` serves it.
    #[cfg(feature = "mcp")]
    pub(crate) mcp: Option<bool>,
    /// Whether the MCP server offers flows (tools always).
    #[cfg(feature = "mcp")]
    pub(crate) mcp_flows: bool,
    /// The `Host` names `/mcp` answers (default: loopback names only).
    #[cfg(feature = "mcp")]
    pub(crate) mcp_allowed_hosts: Option<Vec<String>>,
}

impl Settings {
    /// The served flows, sorted by name.
    pub(crate) fn flows(&self) -> Vec<&Arc<dyn DynAction>> {
        let all = self.registry.actions_of(ActionKind::Flow);
        let Some(only) = &self.only else {
            return all;
        };
        all.into_iter()
            .filter(|flow| only.iter().any(|name| name == flow.meta().name))
            .collect()
    }

    /// The provider that checks requests to `flow`, if any.
    pub(crate) fn provider_for(&self, flow: &str) -> Option<&Arc<dyn AuthProvider>> {
        self.flow_auth.get(flow).or(self.auth.as_ref())
    }

    /// Whether `/mcp` is served.
    #[cfg(feature = "mcp")]
    pub(crate) fn serves_mcp(&self) -> bool {
        self.mcp.unwrap_or(true)
    }

    /// The MCP server of these settings, admitting calls through `gate`.
    #[cfg(feature = "mcp")]
    pub(crate) fn mcp_server(&self, gate: Option<super::limits::Gate>) -> crate::mcp::McpServer {
        let flows = if self.mcp_flows {
            self.flows().into_iter().map(Arc::clone).collect()
        } else {
            Vec::new()
        };
        crate::mcp::McpServer::new(crate::mcp::McpSettings {
            registry: self.registry.clone(),
            flows,
            flow_auth: self.flow_auth.clone(),
            gate,
            dev_mode: self.dev_mode,
            default_timeout: self.default_timeout,
        })
    }

    /// `path` under the prefix.
    pub(crate) fn path(&self, path: &str) -> String {
        format!("{}/{path}", self.prefix)
    }
}
