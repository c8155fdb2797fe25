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

    /// `path` under the prefix.
    pub(crate) fn path(&self, path: &str) -> String {
        format!("{}/{path}", self.prefix)
    }
}
