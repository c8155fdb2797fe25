//! Tools: one input struct, named parameters, a context parameter.
use genflow_runtime::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct SearchQuery {
    words: String,
}

/// Search by a query struct.
#[tool]
async fn search(query: SearchQuery) -> Result<Vec<String>, ToolError> {
    Ok(vec![query.words])
}

/// Search the product database by keyword.
#[tool(name = "searchDb")]
async fn search_db(
    ctx: &FlowContext,
    /// Words to look for
    query: String,
    /// At most this many rows
    limit: Option<u32>,
) -> Result<Vec<String>, ToolError> {
    let _ = ctx;
    Ok(vec![query; limit.unwrap_or(1) as usize])
}

/// The current time, no arguments.
#[tool]
async fn now() -> Result<u64, ToolError> {
    Ok(0)
}

fn main() {
    let _: fn() -> _ = || <SearchTool as Action>::schemas();
    let args = SearchDbArgs { query: "x".into(), limit: Some(2) };
    let _ = args;
    let _ = NowArgs {};
    assert_eq!(<SearchDbTool as Action>::META.name, "searchDb");
    assert_eq!(<SearchDbTool as Action>::META.description, "Search the product database by keyword.");
    let _ = (search, search_db, now);
}
