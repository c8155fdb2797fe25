//! [`McpServer`]: the rmcp server handler over a registry. Every call runs through the one run
//! pipeline ([`Registry::start_action`]) under the server's admission gate, default deadline
//! and the call's cancellation.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::http::request::Parts;
use futures::StreamExt;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, Implementation, ListToolsResult,
    PaginatedRequestParams, ProgressNotificationParam, ProgressToken, ServerCapabilities,
    ServerConfig, Tool,
};
use rmcp::service::{Peer, RequestContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::Value;

use super::errors::tool_error;
use super::tools::{McpTool, catalog};
use crate::http::{AuthContext, AuthProvider, Gate, parent_of};
use crate::run::{Cancellation, RunOptions};
use crate::{DynAction, FlowError, FlowEvent, Registry};

/// The auth context the HTTP transport's auth provider gave a request, carried to the calls
/// it makes.
#[derive(Clone)]
pub(crate) struct CallerAuth(pub(crate) AuthContext);

/// Serves a registry's flows and tools as MCP tools; cheap to clone.
///
/// Built by [`FlowServer::into_mcp`](crate::http::FlowServer::into_mcp) with the flow server's
/// settings (flows, auth, limits, dev mode), and served at `/mcp` by the flow server itself, or
/// over stdio with [`McpServer::serve_stdio`].
#[derive(Clone)]
pub struct McpServer {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    tools: BTreeMap<String, McpTool>,
    gate: Option<Gate>,
    dev_mode: bool,
    default_timeout: Option<Duration>,
}

/// What an [`McpServer`] is built from.
pub(crate) struct McpSettings {
    pub(crate) registry: Registry,
    /// The flows offered (before `mcp = false` is applied).
    pub(crate) flows: Vec<Arc<dyn DynAction>>,
    pub(crate) flow_auth: HashMap<String, Arc<dyn AuthProvider>>,
    pub(crate) gate: Option<Gate>,
    pub(crate) dev_mode: bool,
    pub(crate) default_timeout: Option<Duration>,
}

impl McpServer {
    /// The server of `settings`.
    pub(crate) fn new(settings: McpSettings) -> Self {
        let tools = catalog(&settings.registry, settings.flows, &settings.flow_auth);
        McpServer {
            inner: Arc::new(Inner {
                registry: settings.registry,
                tools,
                gate: settings.gate,
                dev_mode: settings.dev_mode,
                default_timeout: settings.default_timeout,
            }),
        }
    }

    /// The tools `tools/list` answers with, sorted by name.
    pub fn tools(&self) -> Vec<Tool> {
        self.inner.tools.values().map(|t| t.tool.clone()).collect()
    }

    /// Runs the tool `tool` for one call; its failures are tool errors.
    async fn run(
        &self,
        tool: &McpTool,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let inner = &self.inner;
        let parts = context.extensions.get::<Parts>();
        let outcome = async {
            let auth = self.authenticate(tool, parts).await?;
            // Admitted per call, as flow requests are: a session holds no slot between calls.
            let _slot = inner.gate.as_ref().map(Gate::admit).transpose()?;
            let options = RunOptions {
                auth,
                parent: parts.and_then(parent_of),
                default_timeout: inner.default_timeout,
                cancel: Some(Cancellation::new(context.ct.clone())),
            };
            let input = tool.input_of(request.arguments);
            let (kind, name) = tool.key();
            match context.meta.get_progress_token() {
                Some(token) if tool.action.meta().streaming => {
                    let events = inner.registry.stream(name, input, options)?;
                    stream_progress(events, &context.peer, token).await
                }
                _ => {
                    inner
                        .registry
                        .start_action(kind, name, input, options)?
                        .future
                        .await
                }
            }
        };
        match outcome.await {
            Ok(output) => tool.result_of(output),
            Err(error) => tool_error(&error, inner.dev_mode, &tool.input_path()),
        }
    }

    /// The auth context of a call: the flow's own provider checks the HTTP request when it has
    /// one; otherwise the context the `/mcp` route's provider gave. Over stdio there is no
    /// request to check: the process that started the server is trusted.
    async fn authenticate(
        &self,
        tool: &McpTool,
        parts: Option<&Parts>,
    ) -> Result<Option<AuthContext>, FlowError> {
        let Some(parts) = parts else {
            return Ok(None);
        };
        match &tool.auth {
            Some(provider) => provider.authenticate(parts).await.map(Some),
            None => Ok(parts
                .extensions
                .get::<CallerAuth>()
                .map(|caller| Arc::clone(&caller.0))),
        }
    }
}

/// Sends each chunk of a streaming run as a progress notification (the chunk's JSON as the
/// message; a string chunk as itself), then yields the run's result.
async fn stream_progress(
    mut events: crate::FlowEvents,
    peer: &Peer<RoleServer>,
    token: ProgressToken,
) -> Result<Value, FlowError> {
    let mut sent = 0u32;
    while let Some(event) = events.next().await {
        match event {
            FlowEvent::Chunk(chunk) => {
                sent += 1;
                let message = match chunk {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                let progress = ProgressNotificationParam::new(token.clone(), f64::from(sent))
                    .with_message(message);
                if let Err(error) = peer.notify_progress(progress).await {
                    tracing::debug!(%error, "a progress notification was not delivered");
                }
            }
            FlowEvent::Done(result) => return result,
        }
    }
    Err(FlowError::internal("the run ended without a result"))
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("genflow", env!("CARGO_PKG_VERSION")))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.tools.get(name).map(|t| t.tool.clone())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(tool) = self.inner.tools.get(request.name.as_ref()) else {
            return Err(ErrorData::invalid_params(
                format!("no tool named '{}'", request.name),
                None,
            ));
        };
        Ok(self.run(tool, request, context).await.into())
    }
}

impl std::fmt::Debug for McpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpServer")
            .field("tools", &self.inner.tools.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}
