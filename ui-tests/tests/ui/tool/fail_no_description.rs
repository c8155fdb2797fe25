use genflow_runtime::prelude::*;

#[tool]
async fn search_db(query: String) -> Result<Vec<String>, ToolError> {
    Ok(vec![query])
}

fn main() {}
