//! A real sentence-embedding model in-process (feature `local-models`): all-MiniLM-L6-v2,
//! fetched by `scripts/fetch-test-models` into `GENFLOW_MODELS_DIR` or `target/models`.
//! Without its files the tests are skipped with a note, and fail when CI is set.

#![cfg(feature = "local-models")]

mod common;

use genflow_runtime::Status;
use genflow_runtime::model::EnvVars;
use genflow_runtime::model::providers::LocalModels;
use genflow_runtime::prelude::*;
use genflow_runtime::retrieval::{EmbedPurpose, Embedder};

const NAME: &str = "all-MiniLM-L6-v2";

/// The embedder `local/all-MiniLM-L6-v2`, or `None` (after a note) when its files are missing.
fn embedder() -> Option<Embedder> {
    let dir = common::models::models_dir_holding(&format!("{NAME}/model.safetensors"))?;
    let embedder = LocalModels::from_env(&EnvVars::from_pairs([]))
        .models_dir(dir)
        .embedder(NAME)
        .expect("found");
    Some(embedder)
}

async fn embed(embedder: &Embedder, texts: &[&str]) -> Vec<Vec<f32>> {
    let texts = texts.iter().map(|t| (*t).to_owned()).collect();
    embedder
        .embed(&FlowContext::new(), texts, EmbedPurpose::Document)
        .await
        .expect("embeds")
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    dot / (norm(a) * norm(b))
}

fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

#[tokio::test]
async fn matches_the_sentence_transformers_reference() {
    let Some(embedder) = embedder() else { return };
    assert_eq!(embedder.info().name, "local/all-MiniLM-L6-v2");
    let vectors = embed(
        &embedder,
        &["A man is eating food.", "A man is eating a piece of bread."],
    )
    .await;
    for vector in &vectors {
        assert_eq!(vector.len(), 384);
        assert!((norm(vector) - 1.0).abs() < 1e-4, "{}", norm(vector));
    }
    // sentence-transformers' figure for this pair (its documentation's example).
    let similarity = cosine(&vectors[0], &vectors[1]);
    assert!((similarity - 0.755).abs() < 0.01, "{similarity}");
}

#[tokio::test]
async fn a_batch_embeds_as_single_texts_do() {
    let Some(embedder) = embedder() else { return };
    let texts = [
        "Short.",
        "A much longer sentence, so that the batch pads the shorter ones with several tokens.",
        "The quick brown fox jumps over the lazy dog.",
    ];
    let batch = embed(&embedder, &texts).await;
    assert_eq!(batch.len(), texts.len());
    for (text, batched) in texts.iter().zip(&batch) {
        let single = embed(&embedder, &[text]).await;
        assert!(cosine(&single[0], batched) > 0.9999, "{text}");
        let most = single[0]
            .iter()
            .zip(batched)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(most < 1e-4, "{text}: differs by {most}");
    }
}

#[tokio::test]
async fn a_paraphrase_ranks_above_an_unrelated_sentence() {
    let Some(embedder) = embedder() else { return };
    let vectors = embed(
        &embedder,
        &[
            "How do I reset my password?",
            "I forgot my login credentials and need new ones.",
            "The recipe calls for two cups of flour and an egg.",
        ],
    )
    .await;
    let paraphrase = cosine(&vectors[0], &vectors[1]);
    let unrelated = cosine(&vectors[0], &vectors[2]);
    assert!(paraphrase > unrelated + 0.2, "{paraphrase} vs {unrelated}");
}

#[tokio::test]
async fn long_texts_are_cut_to_the_models_length() {
    let Some(embedder) = embedder() else { return };
    let long = "word ".repeat(2000);
    let vectors = embed(&embedder, &[&long, ""]).await;
    assert!(vectors.iter().all(|v| v.len() == 384));
}

#[tokio::test]
async fn a_missing_model_is_not_found() {
    let err = LocalModels::from_env(&EnvVars::from_pairs([]))
        .models_dir(std::env::temp_dir())
        .embedder("no-such-embedder")
        .expect_err("missing");
    assert_eq!(err.status(), Status::NotFound);
    assert!(err.message().contains("config.json"), "{err}");
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn a_retriever_finds_a_paraphrased_passage() {
    use std::sync::Arc;

    use genflow_runtime::retrieval::{
        Document, Indexer, RetrieveOptions, Retriever, SearchMode, SqliteStore, VectorStore,
    };

    let Some(embedder) = embedder() else { return };
    let store: Arc<dyn VectorStore> = Arc::new(SqliteStore::in_memory().expect("store"));
    let indexer = Indexer::new("docs", Arc::clone(&store), embedder.clone());
    let documents = [
        (
            "billing",
            "Invoices are sent by email on the first day of each month.",
        ),
        (
            "outage",
            "The service was unavailable for two hours after a power failure.",
        ),
        ("pets", "Cats sleep for most of the day and hunt at dusk."),
    ]
    .map(|(id, text)| Document::text(text).with_id(id));
    let ctx = FlowContext::new();
    let report = indexer
        .index(&ctx, documents.to_vec())
        .await
        .expect("indexes");
    assert_eq!(report.indexed, 3);
    let retriever = Retriever::new("docs", store, embedder);
    // No content word in common with the passage.
    let question = "When do I get my bill?";
    for mode in [SearchMode::Vector, SearchMode::Hybrid] {
        let found = retriever
            .retrieve(&ctx, question, RetrieveOptions::k(1).mode(mode))
            .await
            .expect("retrieves");
        assert_eq!(found[0].document.id, "billing", "{mode:?}");
    }
}
