//! What the stores share: checking entries and queries against the store, the words of a
//! full-text query, and the hybrid ranking (both rankings' candidates fused by reciprocal rank), and documents
//! read back in a ranking's order.

use std::collections::HashMap;
use std::hash::Hash;

use super::{
    Document, Retrieved, StoreEntry, StoreError, StoreQuery, normalized, reciprocal_rank_fusion,
};

/// How many candidates each ranking contributes to a hybrid search, at least.
const HYBRID_CANDIDATES: usize = 50;

/// How many candidates each ranking contributes to a hybrid search for `k` results.
pub(crate) fn hybrid_candidates(k: usize) -> usize {
    k.saturating_mul(4).max(HYBRID_CANDIDATES)
}

/// The one embedding length of `entries` (`None` when there are none); entries of differing
/// lengths are [`StoreError::Dimensions`].
pub(crate) fn embedding_length(entries: &[StoreEntry]) -> Result<Option<usize>, StoreError> {
    let Some(first) = entries.first() else {
        return Ok(None);
    };
    let length = first.embedding.len();
    match entries.iter().find(|e| e.embedding.len() != length) {
        Some(other) => Err(StoreError::Dimensions {
            expected: length,
            got: other.embedding.len(),
        }),
        None => Ok(Some(length)),
    }
}

/// Checks `query` against a store whose embeddings have `expected` dimensions (`None`: the
/// store is empty): its filter and its embedding's length. Returns the embedding at unit
/// length.
pub(crate) fn checked_embedding(
    query: &StoreQuery,
    expected: Option<usize>,
) -> Result<Option<Vec<f32>>, StoreError> {
    if let Some(filter) = &query.filter {
        filter.check()?;
    }
    match (&query.embedding, expected) {
        (Some(e), Some(expected)) if e.len() != expected => Err(StoreError::Dimensions {
            expected,
            got: e.len(),
        }),
        (Some(e), _) => Ok(Some(normalized(e.clone()))),
        (None, _) => Ok(None),
    }
}

/// The error of a vector or hybrid search without the query's embedding.
pub(crate) fn missing_embedding() -> StoreError {
    StoreError::InvalidQuery("a vector or hybrid search needs the query's embedding".into())
}

/// The words of a full-text query: its runs of letters and digits, so nothing a user types is
/// read as the database's query syntax.
pub(crate) fn query_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// The hybrid ranking: the vector candidates (best first) and the full-text candidates
/// (best first, already limited to those passing the vector floor) fused by reciprocal rank,
/// the best `k`.
pub(crate) fn fuse_hybrid<K: Eq + Hash + Clone>(
    near: &[K],
    words: &[K],
    k: usize,
) -> Vec<(K, f32)> {
    let mut fused = reciprocal_rank_fusion(&[near, words]);
    fused.truncate(k);
    fused
}

/// A document's columns as a store writes them: its content and metadata as JSON text (read
/// back by [`stored_document`]) and its text, for the full-text index.
pub(crate) fn document_columns(document: &Document) -> Result<[String; 3], StoreError> {
    let json = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
    let content = serde_json::to_string(&document.content).map_err(json)?;
    let metadata = serde_json::to_string(&document.metadata).map_err(json)?;
    Ok([content, metadata, document.text_content()])
}

/// A document as a store holds it: its id, its content and metadata as JSON text.
pub(crate) fn stored_document(
    id: String,
    content: &str,
    metadata: &str,
) -> Result<Document, StoreError> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("'{id}': {e}"));
    let content = serde_json::from_str(content).map_err(corrupt)?;
    let metadata = serde_json::from_str(metadata).map_err(corrupt)?;
    Ok(Document {
        id,
        content,
        metadata,
    })
}

/// The results of a ranking (keys best first, with their scores) from the documents read for
/// them; a key whose document is gone (deleted meanwhile) is left out.
pub(crate) fn in_order<K: Eq + Hash>(
    ranked: Vec<(K, f32)>,
    mut documents: HashMap<K, Document>,
) -> Vec<Retrieved> {
    ranked
        .into_iter()
        .filter_map(|(key, score)| {
            let document = documents.remove(&key)?;
            Some(Retrieved { document, score })
        })
        .collect()
}
