//! The RAG flows: retrieve with the `searchDocs` tool, then one model call with structured
//! output.

use futures::StreamExt;
use genflow_runtime::model::GenerateExt;
use genflow_runtime::model::stream::GenerateChunk;
use genflow_runtime::prelude::*;

use crate::library::Library;

/// What `ragQuery` takes.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct QueryInput {
    /// The question to answer: not blank.
    #[schemars(pattern(r"\S"))]
    pub question: String,
    /// Extra passages to consider besides the bundled documents.
    #[serde(default)]
    pub context: Vec<String>,
}

/// What `ragQuery` returns.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct QueryOutput {
    /// The answer.
    pub answer: String,
    /// Ids of the documents the answer draws on.
    pub citations: Vec<String>,
    /// How sure the answer is, from 0 to 1.
    pub confidence: f64,
}

/// A passage found by `searchDocs`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Passage {
    /// The passage id: a bundled document's id, or for `DOCS_DIR` the file's path relative to
    /// the folder and the passage's number in it (`guide/setup.md#2`).
    pub id: String,
    /// The passage text.
    pub text: String,
    /// How well it matches, higher is better: the fused rank score of hybrid retrieval, or
    /// the number of query words it contains.
    pub score: f64,
}

const SYSTEM: &str = "You answer questions about genflow using only the numbered passages given. \
Cite the ids of the passages you used. If they do not answer the question, say so and give a low confidence.";

/// Search the documents for the passages that best match the query.
#[tool(name = "searchDocs")]
pub async fn search_docs(
    ctx: &FlowContext,
    /// What to look for
    query: String,
    /// At most this many passages (default 3)
    limit: Option<u32>,
) -> Result<Vec<Passage>, ToolError> {
    Library::shared()
        .await?
        .search(ctx, &query, limit.unwrap_or(3) as usize)
        .await
}

/// Answer a question from the bundled documents.
// Generous: the default model is a small one on the CPU, whose replies take tens of seconds.
#[flow(name = "ragQuery", timeout = "120s")]
pub async fn rag_query(ctx: &FlowContext, input: QueryInput) -> Result<QueryOutput, FlowError> {
    let passages = retrieve(ctx, &input).await?;
    let answer = ctx
        .generate()
        .system(SYSTEM)
        .prompt(prompt(&input, &passages))
        .generate_data::<QueryOutput>()
        .await?;
    Ok(grounded(answer, &passages))
}

/// Answer a question from the bundled documents, streaming the answer's text as the model
/// writes it: the chunks add up to the result's `answer`.
#[flow(name = "ragQueryStream", stream = String, timeout = "180s")]
pub async fn rag_query_stream(
    ctx: &FlowContext<String>,
    input: QueryInput,
) -> Result<QueryOutput, FlowError> {
    let passages = retrieve(ctx, &input).await?;
    let mut stream = ctx
        .generate()
        .system(SYSTEM)
        .prompt(prompt(&input, &passages))
        .output::<QueryOutput>()
        .stream();
    // The model writes JSON: its `answer` grows in the partial outputs, and only that goes out
    // (the citations are grounded after the reply, so streaming them would disagree).
    let mut sent = String::new();
    while let Some(chunk) = stream.next().await {
        if let GenerateChunk::PartialOutput { output, .. } = chunk
            && let Some(answer) = output.get("answer").and_then(|a| a.as_str())
            && let Some(more) = answer.strip_prefix(sent.as_str())
            && !more.is_empty()
        {
            ctx.send_chunk(more.to_owned()).await?;
            sent.push_str(more);
        }
    }
    let generated = stream.response().await?;
    let output = grounded(generated.output, &passages);
    if let Some(rest) = output.answer.strip_prefix(sent.as_str())
        && !rest.is_empty()
    {
        ctx.send_chunk(rest.to_owned()).await?;
    }
    Ok(output)
}

/// The passages for a question: the bundled documents found by `searchDocs` (a traced tool
/// call), then the caller's own context.
async fn retrieve<C>(ctx: &FlowContext<C>, input: &QueryInput) -> Result<Vec<Passage>, FlowError> {
    if input.question.trim().is_empty() {
        return Err(FlowError::invalid_argument("question must not be empty"));
    }
    let mut passages = ctx
        .call::<SearchDocsTool>(SearchDocsArgs {
            query: input.question.clone(),
            limit: None,
        })
        .await?;
    passages.extend(input.context.iter().enumerate().map(|(i, text)| Passage {
        id: format!("context-{i}"),
        text: text.clone(),
        score: 0.0,
    }));
    Ok(passages)
}

fn prompt(input: &QueryInput, passages: &[Passage]) -> String {
    let listed: Vec<String> = passages
        .iter()
        .map(|p| format!("[{}] {}", p.id, p.text))
        .collect();
    format!(
        "Passages:\n{}\n\nQuestion: {}",
        listed.join("\n"),
        input.question
    )
}

/// Keeps only citations of passages that were actually retrieved (falling back to the
/// retrieved ids), and bounds the confidence: a model must not cite what it was not given.
fn grounded(mut answer: QueryOutput, passages: &[Passage]) -> QueryOutput {
    answer
        .citations
        .retain(|c| passages.iter().any(|p| &p.id == c));
    if answer.citations.is_empty() {
        answer.citations = passages.iter().map(|p| p.id.clone()).collect();
    }
    answer.confidence = answer.confidence.clamp(0.0, 1.0);
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use genflow_runtime::model::Models;
    use genflow_runtime::model::testing::ScriptedModel;

    #[tokio::test]
    async fn search_finds_the_tools_document() {
        let hits = search_docs(&FlowContext::new(), "How do tools work?".into(), None)
            .await
            .expect("search");
        assert_eq!(hits.first().map(|p| p.id.as_str()), Some("tools"));
    }

    #[tokio::test]
    async fn rag_query_grounds_the_models_citations() {
        let reply = r#"{"answer": "Tools are async fns.", "citations": ["tools", "made-up"], "confidence": 1.5}"#;
        let model = ScriptedModel::new("scripted").text(reply);
        let models = Models::new()
            .model(model.clone())
            .default_model("local/scripted");
        let ctx = FlowContext::new().with_state(models);
        let out = rag_query(
            &ctx,
            QueryInput {
                question: "How do tools work?".into(),
                context: vec![],
            },
        )
        .await
        .expect("answers");
        assert_eq!(out.answer, "Tools are async fns.");
        assert_eq!(out.citations, ["tools"]);
        assert_eq!(out.confidence, 1.0);
        let prompt = model.requests()[0]
            .messages
            .last()
            .map(|m| m.text())
            .unwrap_or_default();
        assert!(prompt.contains("[tools] A tool is"), "{prompt}");
    }

    #[tokio::test]
    async fn rag_query_stream_chunks_add_up_to_the_answer() {
        let reply = r#"{"answer": "Chunks go out as the model writes them.", "citations": ["made-up"], "confidence": 0.5}"#;
        let models = Models::new()
            .model(ScriptedModel::new("scripted").text(reply))
            .default_model("local/scripted");
        let (ctx, mut chunks) = FlowContext::streaming(64);
        let ctx = ctx.with_state(models);
        let out = rag_query_stream(
            &ctx,
            QueryInput {
                question: "How does streaming work?".into(),
                context: vec![],
            },
        )
        .await
        .expect("answers");
        drop(ctx);
        let mut streamed = Vec::new();
        while let Some(chunk) = chunks.recv().await {
            streamed.push(chunk);
        }
        assert!(streamed.len() > 1, "{streamed:?}");
        assert_eq!(streamed.concat(), out.answer);
        assert!(!streamed.concat().contains("made-up"), "{streamed:?}");
    }
}
