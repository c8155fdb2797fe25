//! The Model Context Protocol (feature `mcp`): the server, offering every flow and tool of a
//! registry as an MCP tool over streamable HTTP at `/mcp` on the flow server or over stdio; and
//! the client ([`McpClient`]), offering MCP servers' tools to `generate`.
//!
//! | MCP | genflow |
//! |---|---|
//! | `tools/list` | every served flow (unless `#[flow(mcp = false)]` or [`FlowServer::mcp_flows(false)`](crate::http::FlowServer::mcp_flows)) and every tool: name, description, `inputSchema`, `outputSchema` |
//! | `tools/call` | one run through the run pipeline: validated, traced, under the flow's timeout or the server's default, admitted by the server's concurrency limit |
//! | a non-object input or output | wrapped as `{"input": ...}` / `{"result": ...}` |
//! | a typed output | `structuredContent`, and the same JSON as text |
//! | a failed run | a tool error (`isError`): `structuredContent` is the Genkit error body, each input violation's `path` pointing into the arguments |
//! | a streaming flow called with a progress token | each chunk as a `notifications/progress` message |
//! | `notifications/cancelled` | the run is cancelled (`CANCELLED`) |
//!
//! See `docs/mcp.md` for serving, auth, a desktop-client configuration, and using MCP servers'
//! tools.

#[cfg(feature = "mcp-client")]
mod client;
mod errors;
pub(crate) mod http;
mod server;
mod stdio;
mod tools;

#[cfg(feature = "mcp-client")]
pub use client::{DEFAULT_TIMEOUT, McpClient, McpClientBuilder, McpClientError};
pub use server::McpServer;
pub(crate) use server::McpSettings;
pub use stdio::StdioError;
