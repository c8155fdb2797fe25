//! The store trait every vector store implements, and what goes in and out of it.

use std::collections::HashMap;

use futures::future::BoxFuture;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Document, Filter};
use crate::{FlowError, Status};

/// A store of embedded documents: the embedded SQLite store, Postgres with pgvector, or a
/// user's own. Object-safe (`Arc<dyn VectorStore>`); the futures own what they need.
///
/// Every store passes the same suite, [`conformance`](super::testing::conformance).
pub trait VectorStore: Send + Sync + 'static {
    /// What the store is, for logs (such as `sqlite:docs.db`).
    fn describe(&self) -> String;

    /// The content hashes of those of `ids` the store holds: what indexing compares to skip
    /// unchanged documents.
    fn hashes(
        &self,
        ids: Vec<String>,
    ) -> BoxFuture<'static, Result<HashMap<String, String>, StoreError>>;

    /// Inserts the entries, replacing those with the same id. All embeddings of a store have
    /// one length; another length is [`StoreError::Dimensions`].
    fn upsert(&self, entries: Vec<StoreEntry>) -> BoxFuture<'static, Result<(), StoreError>>;

    /// Removes the entries with these ids; returns how many there were.
    fn delete(&self, ids: Vec<String>) -> BoxFuture<'static, Result<usize, StoreError>>;

    /// The best `query.k` matches of the query, best first.
    fn search(&self, query: StoreQuery) -> BoxFuture<'static, Result<Vec<Retrieved>, StoreError>>;
}

/// One embedded document to store.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreEntry {
    /// The document; its `id` is the key (never empty here).
    pub document: Document,
    /// Its [content hash](Document::content_hash).
    pub hash: String,
    /// Its embedding.
    pub embedding: Vec<f32>,
}

/// How a search ranks documents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// By cosine similarity of the embeddings; the score is the similarity (-1 to 1).
    Vector,
    /// By full-text relevance (BM25); the score is the BM25 relevance (higher is better).
    Keyword,
    /// Both rankings fused by reciprocal rank; the score is the fused score.
    #[default]
    Hybrid,
}

/// A search as a store receives it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoreQuery {
    /// The query text (full-text search).
    pub text: String,
    /// The query's embedding (`None` in keyword mode).
    pub embedding: Option<Vec<f32>>,
    /// How many results at most.
    pub k: usize,
    /// Which documents may match.
    pub filter: Option<Filter>,
    /// The lowest cosine similarity (vector and hybrid modes) or BM25 relevance (keyword mode)
    /// a result may have.
    pub min_score: Option<f32>,
    /// How to rank.
    pub mode: SearchMode,
}

/// One search result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Retrieved {
    /// The document, with its id and metadata.
    pub document: Document,
    /// Its score in the search's [mode](SearchMode); higher is better.
    pub score: f32,
}

/// Why a store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed (I/O, a locked or corrupt file, a lost connection).
    #[error("{store}: {source}")]
    Database {
        /// The store, as [`VectorStore::describe`] says.
        store: String,
        /// The database's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An embedding's length differs from the store's.
    #[error(
        "the store holds embeddings of {expected} dimensions, not {got}: use the embedder it was indexed with, or a new store"
    )]
    Dimensions {
        /// The store's length.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A query the store cannot run (a bad filter, a vector search without an embedding).
    #[error("invalid query: {0}")]
    InvalidQuery(String),
    /// The store's configuration is unusable (a malformed connection URL, a table name that is
    /// not a plain SQL identifier).
    #[error("store configuration: {0}")]
    Config(String),
    /// Data in the store that cannot be read back.
    #[error("unreadable entry in the store: {0}")]
    Corrupt(String),
}

impl From<StoreError> for FlowError {
    fn from(e: StoreError) -> Self {
        let status = match &e {
            StoreError::Database { .. } => Status::Unavailable,
            StoreError::Dimensions { .. } => Status::FailedPrecondition,
            StoreError::InvalidQuery(_) => Status::InvalidArgument,
            StoreError::Config(_) => Status::FailedPrecondition,
            StoreError::Corrupt(_) => Status::Internal,
        };
        FlowError::new(status, e.to_string()).with_source(e)
    }
}

/// `vector` scaled to length 1 (a zero vector stays zero): stores keep unit vectors, so a dot
/// product is the cosine similarity.
pub fn normalized(mut vector: Vec<f32>) -> Vec<f32> {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}
