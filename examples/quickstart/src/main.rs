//! The quickstart: a retrieval-augmented `ragQuery` flow over a bundled document set.
//!
//! `cargo run -p quickstart -- "How do tools work?"` answers one question and prints the JSON.

mod docs;

use genflow_runtime::prelude::*;

/// What `ragQuery` takes.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub struct QueryInput {
    /// The question to answer.
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
    /// The document id.
    pub id: String,
    /// The passage text.
    pub text: String,
    /// How many query words it contains.
    pub score: usize,
}

/// Search the bundled documents for passages sharing words with the query.
#[tool(name = "searchDocs")]
pub async fn search_docs(
    /// Words to look for
    query: String,
    /// At most this many passages (default 3)
    limit: Option<u32>,
) -> Result<Vec<Passage>, ToolError> {
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
        .map(|w| {
            let w = w.to_lowercase();
            // A crude stem, so "tools" finds "tool".
            w.strip_suffix('s').map_or(w.clone(), str::to_owned)
        })
        .collect();
    let mut hits: Vec<Passage> = docs::DOCS
        .iter()
        .map(|doc| {
            let text = doc.text.to_lowercase();
            Passage {
                id: doc.id.to_owned(),
                text: doc.text.to_owned(),
                score: words.iter().filter(|w| text.contains(w.as_str())).count(),
            }
        })
        .filter(|p| p.score > 0)
        .collect();
    hits.sort_by(|a, b| b.score.cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    hits.truncate(limit.unwrap_or(3) as usize);
    Ok(hits)
}

/// Answer a question from the bundled documents.
#[flow(name = "ragQuery", timeout = "30s")]
pub async fn rag_query(ctx: &FlowContext, input: QueryInput) -> Result<QueryOutput, FlowError> {
    if input.question.trim().is_empty() {
        return Err(FlowError::invalid_argument("question must not be empty"));
    }
    let passages = ctx
        .call::<SearchDocs>(SearchDocsArgs {
            query: input.question.clone(),
            limit: None,
        })
        .await?;
    let best = passages.first();
    Ok(QueryOutput {
        answer: best.map_or_else(
            || "I found nothing about that in the documents.".to_owned(),
            |p| p.text.clone(),
        ),
        confidence: best.map_or(0.0, |p| (p.score as f64 / 4.0).min(1.0)),
        citations: passages.into_iter().map(|p| p.id).collect(),
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let registry = Registry::builder().build()?;
    let question = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "How do tools work?".to_owned());
    let output = registry
        .run("ragQuery", serde_json::json!({ "question": question }))
        .await?;
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}
