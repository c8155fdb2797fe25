//! The Model Context Protocol client: the tools of MCP servers (started as child processes over
//! stdio, or reached over streamable HTTP) offered to `generate` next to `#[tool]`s.
//!
//! Each tool of a server named `weather` is a [`DynamicAction`] of kind
//! [`Tool`](ActionKind::Tool) named `weather_<tool>`, with the server's input schema as given;
//! a call runs through the run pipeline (validated, traced as a tool) and sends `tools/call`.
//! A dropped connection is reopened by the next call; a server that does not answer within its
//! timeout fails that call with `DEADLINE_EXCEEDED`, which the model sees as a tool error.
//!
//! ```no_run
//! use std::time::Duration;
//! use genflow_runtime::mcp::McpClient;
//! use genflow_runtime::model::{GenerateExt, Models};
//! use genflow_runtime::FlowContext;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let weather = McpClient::stdio("weather", "python3", ["weather_server.py"])
//!     .timeout(Duration::from_secs(10))
//!     .connect()
//!     .await?;
//! let ctx = FlowContext::new().with_state(Models::new());
//! let answer = ctx
//!     .generate()
//!     .tools(weather.tools())
//!     .prompt("Do I need an umbrella in Lyon?")
//!     .run()
//!     .await?;
//! # Ok(()) }
//! ```

mod config;
mod endpoint;
mod results;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use rmcp::model::{CallToolRequestParams, JsonObject, Tool};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use self::endpoint::{Endpoint, Session};
use crate::run::{DynamicAction, JsonHandler};
use crate::{ActionKind, ActionSchemas, DynAction, FlowError};

/// How long a server may take to connect or to answer one call by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an MCP server could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum McpClientError {
    /// The server could not be started or reached, or refused the session.
    #[error("cannot connect to the MCP server '{server}': {reason}")]
    Connect {
        /// The server's name.
        server: String,
        /// Why.
        reason: String,
    },
    /// The server did not answer in time.
    #[error("the MCP server '{server}' did not answer within {after:?}")]
    Timeout {
        /// The server's name.
        server: String,
        /// Its timeout.
        after: Duration,
    },
    /// The server did not list its tools.
    #[error("the MCP server '{server}' did not list its tools: {reason}")]
    List {
        /// The server's name.
        server: String,
        /// Why.
        reason: String,
    },
    /// A configured server is neither a command nor a URL (or is both).
    #[error("[mcp.servers.{server}]: {reason}")]
    Config {
        /// The server's name.
        server: String,
        /// What is wrong.
        reason: String,
    },
}

/// An MCP server to connect to: made by [`McpClient::stdio`] or [`McpClient::http`], or from
/// the configuration ([`McpClient::connect_configured`]).
#[derive(Clone, Debug)]
#[must_use = "nothing connects until `.connect()`"]
pub struct McpClientBuilder {
    name: String,
    endpoint: Endpoint,
    timeout: Duration,
}

impl McpClientBuilder {
    /// Sets an environment variable of a stdio server's process (ignored over HTTP).
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        if let Endpoint::Stdio { env, .. } = &mut self.endpoint {
            env.insert(key.into(), value.into());
        }
        self
    }

    /// Sets how long the server may take to connect, to list its tools, or to answer one call
    /// (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Starts or reaches the server, opens a session and lists its tools.
    pub async fn connect(self) -> Result<McpClient, McpClientError> {
        let shared = Arc::new(Shared {
            name: self.name,
            endpoint: self.endpoint,
            timeout: self.timeout,
            session: Mutex::new(None),
        });
        let session = shared.session().await?;
        let listed = shared
            .within(session.list_all_tools())
            .await?
            .map_err(|e| McpClientError::List {
                server: shared.name.clone(),
                reason: e.to_string(),
            })?;
        let tools = listed
            .into_iter()
            .map(|tool| tool_action(&shared, tool))
            .collect();
        Ok(McpClient { shared, tools })
    }
}

/// A connected MCP server and its tools. Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct McpClient {
    shared: Arc<Shared>,
    tools: Vec<DynamicAction>,
}

impl McpClient {
    /// The server `name` started as `command args...`, speaking MCP on its stdin and stdout.
    /// Its tools are named `<name>_<tool>`.
    pub fn stdio(
        name: &str,
        command: &str,
        args: impl IntoIterator<Item = impl Into<String>>,
    ) -> McpClientBuilder {
        McpClientBuilder {
            name: name.to_owned(),
            endpoint: Endpoint::Stdio {
                command: command.to_owned(),
                args: args.into_iter().map(Into::into).collect(),
                env: BTreeMap::new(),
            },
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The server `name` at the streamable HTTP endpoint `url` (such as
    /// `http://127.0.0.1:8000/mcp`). Its tools are named `<name>_<tool>`.
    pub fn http(name: &str, url: &str) -> McpClientBuilder {
        McpClientBuilder {
            name: name.to_owned(),
            endpoint: Endpoint::Http {
                url: url.to_owned(),
            },
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The server's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The server's tools as listed when it connected, to offer to `generate`
    /// ([`Generate::tools`](crate::model::Generate::tools)) or to register.
    pub fn tools(&self) -> Vec<Arc<dyn DynAction>> {
        self.tools
            .iter()
            .map(|tool| Arc::new(tool.clone()) as Arc<dyn DynAction>)
            .collect()
    }

    /// The server's tools as [`DynamicAction`]s, to register with
    /// [`RegistryBuilder::register`](crate::RegistryBuilder::register).
    pub fn actions(&self) -> &[DynamicAction] {
        &self.tools
    }
}

impl std::fmt::Debug for McpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpClient")
            .field("name", &self.shared.name)
            .field("endpoint", &self.shared.endpoint)
            .field("tools", &self.tools.len())
            .finish_non_exhaustive()
    }
}

/// What every clone of a client, and each of its tools, shares.
struct Shared {
    name: String,
    endpoint: Endpoint,
    timeout: Duration,
    /// The open session; `None` after a connection was lost, until the next call.
    session: Mutex<Option<Arc<Session>>>,
}

impl Shared {
    /// The open session, or a new one (under the timeout) when there is none.
    async fn session(&self) -> Result<Arc<Session>, McpClientError> {
        let mut current = self.session.lock().await;
        if let Some(session) = current.as_ref().filter(|s| !s.is_closed()) {
            return Ok(Arc::clone(session));
        }
        let session = Arc::new(self.within(self.endpoint.connect(&self.name)).await??);
        *current = Some(Arc::clone(&session));
        Ok(session)
    }

    /// Drops `lost` (if it is still the open session), so the next call reconnects.
    async fn forget(&self, lost: &Arc<Session>) {
        let mut current = self.session.lock().await;
        if current.as_ref().is_some_and(|s| Arc::ptr_eq(s, lost)) {
            *current = None;
        }
    }

    /// `work`, or a timeout error when it takes longer than the server's timeout.
    async fn within<T>(&self, work: impl Future<Output = T>) -> Result<T, McpClientError> {
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| McpClientError::Timeout {
                server: self.name.clone(),
                after: self.timeout,
            })
    }

    /// Calls the server's tool `tool` with `arguments`.
    async fn call(&self, tool: &str, arguments: Option<JsonObject>) -> Result<Value, FlowError> {
        let session = self.session().await.map_err(unavailable)?;
        let mut params = CallToolRequestParams::new(tool.to_owned());
        if let Some(arguments) = arguments {
            params = params.with_arguments(arguments);
        }
        match self
            .within(session.call_tool(params))
            .await
            .map_err(unavailable)?
        {
            Ok(result) => results::output_of(result, tool),
            Err(error) => {
                if results::is_connection_lost(&error) {
                    self.forget(&session).await;
                    return Err(FlowError::unavailable(format!(
                        "the connection to the MCP server '{}' was lost ({error}); the next call reconnects",
                        self.name
                    )));
                }
                Err(FlowError::public(
                    crate::Status::FailedPrecondition,
                    format!("the MCP server '{}' refused the call: {error}", self.name),
                ))
            }
        }
    }
}

/// A connection failure or a timeout as the error of the tool call it stopped.
fn unavailable(error: McpClientError) -> FlowError {
    let status = match error {
        McpClientError::Timeout { .. } => crate::Status::DeadlineExceeded,
        _ => crate::Status::Unavailable,
    };
    FlowError::public(status, error.to_string())
}

/// The server's `tool` as a genflow tool named `<server>_<tool>`.
fn tool_action(shared: &Arc<Shared>, tool: Tool) -> DynamicAction {
    let output = tool
        .output_schema
        .map_or_else(|| json!({}), |schema| Value::Object((*schema).clone()));
    let schemas = ActionSchemas::from_json(Value::Object((*tool.input_schema).clone()), output);
    let name = format!("{}_{}", shared.name, tool.name);
    let remote: Arc<str> = Arc::from(tool.name.as_ref());
    let shared = Arc::clone(shared);
    let handler: JsonHandler = Arc::new(move |_ctx, input| {
        let shared = Arc::clone(&shared);
        let remote = Arc::clone(&remote);
        async move {
            let arguments = match input {
                Value::Object(arguments) => Some(arguments),
                Value::Null => None,
                other => {
                    return Err(FlowError::invalid_argument(format!(
                        "MCP tool arguments are an object, not {other}"
                    )));
                }
            };
            shared.call(&remote, arguments).await
        }
        .boxed()
    });
    let action = DynamicAction::new(ActionKind::Tool, &name, schemas, handler);
    match tool.description {
        Some(description) => action.description(&description),
        None => action,
    }
}
