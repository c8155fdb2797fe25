//! Retrieval: documents, chunking, embedders, vector stores, retrievers and indexers.
#![doc = include_str!("../../../docs/retrieval.md")]

mod chunk;
mod document;
mod embedder;
mod filter;
mod fusion;
mod html;
mod indexer;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod ranking;
mod retriever;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;
pub mod testing;

pub use chunk::{ChunkSize, MarkdownChunk, chunk_by_size, chunk_documents, chunk_markdown};
pub use document::{Document, DocumentPart, MediaRef};
pub use embedder::{
    EmbedOptions, EmbedPurpose, EmbedRequest, EmbedResponse, Embedder, EmbedderInfo, Embedding,
    EmbeddingModel,
};
pub use filter::Filter;
pub use fusion::{RRF_K, reciprocal_rank_fusion};
pub use html::html_to_text;
pub use indexer::{IndexReport, IndexRequest, Indexer};
#[cfg(feature = "postgres")]
pub use postgres::{PgConfig, PgVectorStore};
pub use retriever::{DEFAULT_K, RetrieveOptions, Retriever, RetrieverRequest, RetrieverResponse};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
pub use store::{
    Retrieved, SearchMode, StoreEntry, StoreError, StoreQuery, VectorStore, normalized,
};
