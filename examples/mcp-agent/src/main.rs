//! Connects to the MCP servers of `genflow.toml` (`[mcp.servers.<name>]`), then serves
//! `askWithTools` (offline on the `local/test` model unless `GENFLOW_MODEL` names another).

use genflow_runtime::Registry;
use genflow_runtime::config::Config;
use genflow_runtime::http::run_service;
use genflow_runtime::mcp::McpClient;
use mcp_agent::McpTools;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::load()?;
    let servers = McpClient::connect_configured(&config.mcp).await?;
    let tools = servers.iter().flat_map(McpClient::tools).collect();
    run_service(Registry::builder().state(McpTools(tools)), |server| {
        server.only(["askWithTools"])
    })
    .await?;
    Ok(())
}
