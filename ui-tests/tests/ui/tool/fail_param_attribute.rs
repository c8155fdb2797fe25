use genflow_runtime::prelude::*;

/// Renames a parameter with a serde attribute.
#[tool]
async fn search_db(#[serde(rename = "q")] query: String, limit: u32) -> Result<Vec<String>, ToolError> {
    let _ = limit;
    Ok(vec![query])
}

fn main() {}
