use genflow_runtime::prelude::*;

/// Tools do not stream.
#[tool(stream = String)]
async fn search(query: String) -> Result<Vec<String>, ToolError> {
    Ok(vec![query])
}

fn main() {}
