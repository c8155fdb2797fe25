use genflow_runtime::prelude::*;

/// Takes untyped JSON.
#[tool]
async fn search_db(query: String, filters: serde_json::Value) -> Result<Vec<String>, ToolError> {
    let _ = filters;
    Ok(vec![query])
}

fn main() {}
