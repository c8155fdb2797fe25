//! Snapshots of the JSON Schemas users and models consume.

use genflow_runtime::prelude::*;

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct QueryInput {
    /// The question to answer.
    question: String,
    /// Extra passages to consider.
    #[serde(default)]
    context: Vec<String>,
}

#[derive(Serialize, JsonSchema)]
struct QueryOutput {
    answer: String,
    citations: Vec<String>,
    confidence: f64,
}

/// Answer a question from the indexed documents.
#[flow(name = "ragQuery")]
async fn rag_query(input: QueryInput) -> Result<QueryOutput, FlowError> {
    Ok(QueryOutput {
        answer: input.question,
        citations: input.context,
        confidence: 1.0,
    })
}

/// Search the product database by keyword.
#[tool]
async fn search_db(
    /// Words to look for
    query: String,
    /// At most this many rows
    limit: Option<u32>,
) -> Result<Vec<String>, ToolError> {
    Ok(vec![query; limit.unwrap_or(1) as usize])
}

/// Snapshots with keys sorted: serde_json keeps insertion order instead once a dependency
/// turns on its `preserve_order` (llguidance, with the quickstart's default feature `local`
/// in a workspace build), and key order means nothing in JSON.
fn sorted(assert: impl FnOnce()) {
    insta::with_settings!({ sort_maps => true }, { assert() });
}

#[test]
fn flow_schemas() {
    let schemas = <RagQueryFlow as Action>::schemas();
    sorted(|| {
        insta::assert_json_snapshot!("rag_query_input", schemas.input());
        insta::assert_json_snapshot!("rag_query_output", schemas.output());
    });
    assert!(schemas.chunk().is_none());
    let _ = rag_query;
}

#[test]
fn tool_schema() {
    sorted(|| {
        insta::assert_json_snapshot!(
            "search_db_input",
            <SearchDbTool as Action>::schemas().input()
        );
    });
    let _ = search_db;
}

#[test]
fn schemas_are_generated_once() {
    let first: *const _ = <SearchDbTool as Action>::schemas();
    let second: *const _ = <SearchDbTool as Action>::schemas();
    assert_eq!(first, second);
}
