use genflow_runtime::prelude::*;

#[derive(Deserialize)]
struct Filter {
    field: String,
}

/// A parameter type without a schema.
#[tool]
async fn search_db(query: String, filter: Filter) -> Result<Vec<String>, ToolError> {
    Ok(vec![query, filter.field])
}

fn main() {}
