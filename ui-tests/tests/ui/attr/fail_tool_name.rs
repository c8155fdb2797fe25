use genflow_runtime::prelude::*;

/// A tool name model APIs reject.
#[tool(name = "search.db")]
async fn search(query: String) -> Result<Vec<String>, ToolError> {
    Ok(vec![query])
}

fn main() {}
