//! A flow stays a plain function and runs the same through the registry.
use genflow_runtime::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct QueryInput {
    question: String,
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
#[flow(name = "ragQuery", timeout = "30s")]
async fn rag_query(ctx: &FlowContext, input: QueryInput) -> Result<QueryOutput, FlowError> {
    let citations = ctx.run("retrieve", async { Ok::<_, FlowError>(input.context) }).await?;
    Ok(QueryOutput { answer: input.question, citations, confidence: 1.0 })
}

#[tokio::main]
async fn main() {
    let direct = rag_query(&FlowContext::new(), QueryInput { question: "q".into(), context: vec![] })
        .await
        .unwrap();
    assert_eq!(direct.answer, "q");
    assert_eq!(<RagQueryFlow as Action>::META.name, "ragQuery");
    assert_eq!(RagQueryFlow::META.timeout, Some(std::time::Duration::from_secs(30)));
    let registry = Registry::builder().build().unwrap();
    let out = registry.run("ragQuery", serde_json::json!({"question": "q"})).await.unwrap();
    assert_eq!(out["answer"], "q");
}
