//! MCP servers from the configuration: `[mcp.servers.<name>]` in `genflow.toml`.

use super::{DEFAULT_TIMEOUT, McpClient, McpClientBuilder, McpClientError};
use crate::config::{McpConfig, McpServerConfig};

impl McpClientBuilder {
    /// The server `name` as `[mcp.servers.<name>]` describes it: a `command` (with `args` and
    /// `env`) or a `url`, under its `timeout`, else `default_timeout`.
    pub fn from_config(
        name: &str,
        server: &McpServerConfig,
        default_timeout: Option<std::time::Duration>,
    ) -> Result<Self, McpClientError> {
        let builder = match (&server.command, &server.url) {
            (Some(command), None) => server.env.iter().fold(
                McpClient::stdio(name, command, &server.args),
                |b, (k, v)| b.env(k, v),
            ),
            (None, Some(url)) => McpClient::http(name, url),
            (command, _) => {
                return Err(McpClientError::Config {
                    server: name.to_owned(),
                    reason: if command.is_some() {
                        "set either `command` or `url`, not both".to_owned()
                    } else {
                        "set `command` (a server started over stdio) or `url` (streamable HTTP)"
                            .to_owned()
                    },
                });
            }
        };
        let timeout = server
            .timeout
            .map(|t| t.0)
            .or(default_timeout)
            .unwrap_or(DEFAULT_TIMEOUT);
        Ok(builder.timeout(timeout))
    }
}

impl McpClient {
    /// Connects to every server of `[mcp]` (`Config::load()?.mcp`), in name order; the first
    /// that fails to connect is the error.
    pub async fn connect_configured(config: &McpConfig) -> Result<Vec<McpClient>, McpClientError> {
        let default_timeout = config.timeout.map(|t| t.0);
        let mut clients = Vec::with_capacity(config.servers.len());
        for (name, server) in &config.servers {
            let builder = McpClientBuilder::from_config(name, server, default_timeout)?;
            clients.push(builder.connect().await?);
        }
        Ok(clients)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn a_server_is_a_command_or_a_url() {
        let config = Config::parse(
            "[mcp]\ntimeout = \"5s\"\n\
             [mcp.servers.both]\ncommand = \"x\"\nurl = \"http://127.0.0.1:1/mcp\"\n\
             [mcp.servers.neither]\nargs = [\"y\"]\n\
             [mcp.servers.web]\nurl = \"http://127.0.0.1:1/mcp\"\ntimeout = \"2s\"\n",
        )
        .expect("parses");
        let servers = &config.mcp.servers;
        for bad in ["both", "neither"] {
            let error = McpClientBuilder::from_config(bad, &servers[bad], None)
                .expect_err("not one endpoint");
            assert!(error.to_string().contains(bad), "{error}");
        }
        let web = McpClientBuilder::from_config("web", &servers["web"], Some(DEFAULT_TIMEOUT))
            .expect("a URL");
        assert_eq!(web.timeout, std::time::Duration::from_secs(2));
    }
}
