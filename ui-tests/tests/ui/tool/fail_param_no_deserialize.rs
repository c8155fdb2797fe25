use genflow_runtime::prelude::*;

#[derive(JsonSchema)]
struct Filter {
    field: String,
}

/// A parameter type that cannot be deserialized.
#[tool]
async fn search_db(query: String, filter: Filter) -> Result<Vec<String>, ToolError> {
    Ok(vec![query, filter.field])
}

fn main() {}
