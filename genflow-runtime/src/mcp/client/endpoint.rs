//! Where an MCP server is and how to reach it: a command started as a child process (stdio),
//! or a streamable HTTP URL.

use std::collections::BTreeMap;
use std::process::Stdio;

use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};

use super::McpClientError;

/// One connection (an MCP session) to a server.
pub(super) type Session = RunningService<RoleClient, ()>;

/// How to reach a server.
#[derive(Clone, Debug)]
pub(super) enum Endpoint {
    /// A program speaking MCP on its stdin and stdout.
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
    },
    /// A streamable HTTP endpoint.
    Http { url: String },
}

impl Endpoint {
    /// Starts (or reaches) the server `name` and initializes a session.
    pub(super) async fn connect(&self, name: &str) -> Result<Session, McpClientError> {
        let failed = |reason: String| McpClientError::Connect {
            server: name.to_owned(),
            reason,
        };
        match self {
            Endpoint::Stdio { command, args, env } => {
                let mut cmd = tokio::process::Command::new(command);
                cmd.args(args).envs(env).kill_on_drop(true);
                let (transport, _) = TokioChildProcess::builder(cmd)
                    // The server's logs join the service's; stdout carries the protocol.
                    .stderr(Stdio::inherit())
                    .spawn()
                    .map_err(|e| failed(format!("cannot start `{command}`: {e}")))?;
                ().serve(transport).await.map_err(|e| failed(e.to_string()))
            }
            Endpoint::Http { url } => {
                let http = crate::tls::http_client().map_err(|e| failed(e.to_string()))?;
                let transport = StreamableHttpClientTransport::with_client(
                    http,
                    StreamableHttpClientTransportConfig::with_uri(url.as_str()),
                );
                ().serve(transport).await.map_err(|e| failed(e.to_string()))
            }
        }
    }
}
