use genflow_runtime::prelude::*;

/// Destructures a tuple parameter.
#[tool]
async fn search_db((query, limit): (String, u32), page: u32) -> Result<Vec<String>, ToolError> {
    let _ = (limit, page);
    Ok(vec![query])
}

fn main() {}
