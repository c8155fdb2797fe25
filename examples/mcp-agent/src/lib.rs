//! An agent over MCP tools: `askWithTools` offers the model every tool of the MCP servers
//! named in `genflow.toml` (`[mcp.servers.<name>]`), called through the same tool loop as
//! `#[tool]`s.

use std::sync::Arc;

use genflow_runtime::DynAction;
use genflow_runtime::model::GenerateExt;
use genflow_runtime::prelude::*;

/// The tools of the configured MCP servers, in the registry's state.
pub struct McpTools(pub Vec<Arc<dyn DynAction>>);

/// The most tool-calling turns the model gets.
pub const MAX_TURNS: u32 = 4;

/// Answer a question, calling the configured MCP servers' tools as needed.
#[flow(name = "askWithTools", timeout = "120s")]
pub async fn ask_with_tools(ctx: &FlowContext, question: String) -> Result<String, FlowError> {
    let tools = ctx
        .state::<McpTools>()
        .map(|tools| tools.0.clone())
        .unwrap_or_default();
    let generation = ctx
        .generate()
        .system("Answer briefly. Call the tools you are offered when they help.")
        .prompt(question)
        .tools(tools)
        .max_turns(MAX_TURNS)
        .run()
        .await?;
    Ok(generation.text())
}
