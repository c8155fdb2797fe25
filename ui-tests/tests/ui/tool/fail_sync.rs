use genflow_runtime::prelude::*;

/// Not async.
#[tool]
fn search_db(query: String) -> Result<Vec<String>, ToolError> {
    Ok(vec![query])
}

fn main() {}
