//! Retrieval quality on a test collection: its documents chunked and indexed into the embedded
//! store, each query run keyword-only, vector-only and hybrid, scored against the judgements.

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use genflow_runtime::FlowContext;
use genflow_runtime::retrieval::{
    ChunkSize, Document, EmbedPurpose, Embedder, SearchMode, SqliteStore, StoreEntry, StoreQuery,
    VectorStore, chunk_by_size, chunk_documents,
};

use crate::BoxError;
use crate::collection::Collection;
use crate::metrics::{DEPTH, Totals};

/// Passages of at most this many characters, overlapping by [`OVERLAP`].
const CHUNK_CHARS: usize = 1000;
/// The overlap of consecutive passages.
const OVERLAP: usize = 100;
/// Texts per embedding call.
const BATCH: usize = 64;
/// Passages fetched per query: enough to fill [`DEPTH`] distinct documents.
const FETCH: usize = 5 * DEPTH;

/// Indexes `collection` into an in-memory SQLite store and prints one table row per mode:
/// keyword always, vector and hybrid when `embedder` is given.
pub async fn run(collection: &Collection, embedder: Option<&Embedder>) -> Result<(), BoxError> {
    let mut documents = Vec::new();
    for doc in &collection.corpus {
        documents.extend(passages(&doc.id, &format!("{}\n{}", doc.title, doc.text))?);
    }
    println!(
        "{} documents as {} passages ({CHUNK_CHARS} characters, {OVERLAP} overlap); {} judged queries",
        collection.corpus.len(),
        documents.len(),
        collection.queries.len()
    );
    let store = SqliteStore::in_memory()?;
    let ctx = FlowContext::new();
    let started = Instant::now();
    for batch in documents.chunks(BATCH * 8) {
        let embeddings = match embedder {
            Some(embedder) => {
                let texts = batch.iter().map(|d| d.text_content()).collect();
                embed(embedder, &ctx, texts, EmbedPurpose::Document).await?
            }
            // Keyword search does not read the vectors; the store still wants one per entry.
            None => vec![vec![0.0]; batch.len()],
        };
        let entries = batch
            .iter()
            .zip(embeddings)
            .map(|(document, embedding)| StoreEntry {
                hash: document.content_hash(),
                document: document.clone(),
                embedding,
            })
            .collect();
        store.upsert(entries).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "indexed in {seconds:.1} s ({:.0} passages/s{})",
        documents.len() as f64 / seconds,
        if embedder.is_some() {
            ", embedding included"
        } else {
            ""
        }
    );

    let texts = collection.queries.iter().map(|q| q.text.clone()).collect();
    let query_vectors = match embedder {
        Some(embedder) => Some(embed(embedder, &ctx, texts, EmbedPurpose::Query).await?),
        None => None,
    };
    println!("\n| mode | recall@3 | MRR@10 | nDCG@10 |\n|---|---|---|---|");
    let modes: &[SearchMode] = if query_vectors.is_some() {
        &[SearchMode::Keyword, SearchMode::Vector, SearchMode::Hybrid]
    } else {
        &[SearchMode::Keyword]
    };
    for &mode in modes {
        let mut totals = Totals::default();
        for (n, query) in collection.queries.iter().enumerate() {
            let embedding = match (&query_vectors, mode) {
                (_, SearchMode::Keyword) | (None, _) => None,
                (Some(vectors), _) => Some(vectors[n].clone()),
            };
            let found = store
                .search(StoreQuery {
                    text: query.text.clone(),
                    embedding,
                    k: FETCH,
                    filter: None,
                    min_score: None,
                    mode,
                })
                .await?;
            let mut seen = HashSet::new();
            let ranked: Vec<String> = found
                .iter()
                .filter_map(|r| r.document.metadata.get("source")?.as_str())
                .filter(|source| seen.insert(*source))
                .map(str::to_owned)
                .collect();
            totals.add(&ranked, &collection.qrels[&query.id]);
        }
        let (recall, mrr, ndcg) = totals.means();
        println!("| {mode:?} | {recall:.3} | {mrr:.3} | {ndcg:.3} |");
    }
    Ok(())
}

/// The passages of the text of the source `source`, as the library chunks it.
fn passages(source: &str, text: &str) -> Result<Vec<Document>, BoxError> {
    let chunks: Vec<String> = chunk_by_size(text, ChunkSize::new(CHUNK_CHARS, OVERLAP)?)
        .into_iter()
        .map(str::to_owned)
        .collect();
    Ok(chunk_documents(source, chunks))
}

/// Prints how many passages per second `embedder` embeds, over the markdown files of `dir`.
pub async fn embedding_throughput(embedder: &Embedder, dir: &Path) -> Result<(), BoxError> {
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "md") {
            let text = std::fs::read_to_string(&path)?;
            let source = path.display().to_string();
            texts.extend(passages(&source, &text)?.iter().map(Document::text_content));
        }
    }
    let ctx = FlowContext::new();
    // The first call loads the model: not counted.
    let first = texts.first().ok_or("no markdown in the folder")?.clone();
    embed(embedder, &ctx, vec![first], EmbedPurpose::Document).await?;
    let started = Instant::now();
    embed(embedder, &ctx, texts.clone(), EmbedPurpose::Document).await?;
    let seconds = started.elapsed().as_secs_f64();
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    println!(
        "{}: {} passages (mean {} characters) in {seconds:.1} s: {:.1} passages/s, batches of {BATCH}",
        embedder.info().name,
        texts.len(),
        chars / texts.len().max(1),
        texts.len() as f64 / seconds
    );
    Ok(())
}

/// Embeds `texts` in batches of [`BATCH`].
async fn embed(
    embedder: &Embedder,
    ctx: &FlowContext,
    texts: Vec<String>,
    purpose: EmbedPurpose,
) -> Result<Vec<Vec<f32>>, BoxError> {
    let mut vectors = Vec::with_capacity(texts.len());
    for batch in texts.chunks(BATCH) {
        vectors.extend(embedder.embed(ctx, batch.to_vec(), purpose).await?);
    }
    Ok(vectors)
}
