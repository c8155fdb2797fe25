//! The stdio transport: JSON-RPC lines on stdin and stdout, for desktop clients that start
//! the server as a child process. Nothing else may write to stdout: logs go to stderr.

use rmcp::ServiceExt;
use rmcp::service::ServerInitializeError;

use super::McpServer;

/// Why serving MCP over stdio failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StdioError {
    /// The client did not complete the MCP handshake.
    #[error("the MCP client did not initialize the session: {0}")]
    Initialize(#[from] Box<ServerInitializeError>),
    /// The session's task failed.
    #[error("the MCP session failed: {0}")]
    Session(#[from] tokio::task::JoinError),
}

impl McpServer {
    /// Serves MCP on stdin and stdout until the client closes stdin.
    pub async fn serve_stdio(self) -> Result<(), StdioError> {
        let running = self
            .serve(rmcp::transport::stdio())
            .await
            .map_err(Box::new)?;
        let reason = running.waiting().await?;
        tracing::info!(?reason, "MCP stdio session ended");
        Ok(())
    }
}
