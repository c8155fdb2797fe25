//! The vector index (feature `local`): passages embedded with a local model into the embedded
//! SQLite store, searched by hybrid retrieval (cosine similarity and BM25 fused by rank).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use genflow_runtime::FlowContext;
use genflow_runtime::retrieval::{
    Document, Embedder, Indexer, RetrieveOptions, Retriever, SqliteStore, StoreError, VectorStore,
};

use crate::rag::Passage;

/// The local embedding model looked for, as `local/<name>` finds it: in the models folder
/// (`GENFLOW_MODELS_DIR`), else in the Hugging Face cache.
pub const EMBEDDERS: [&str; 2] = ["all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"];

/// Passages embedded into a store.
pub struct VectorIndex {
    retriever: Retriever,
}

/// What building an index did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Indexed {
    /// Passages embedded: new, or changed since the last start.
    pub indexed: usize,
    /// Passages the store held unchanged: not embedded again.
    pub unchanged: usize,
    /// Passages of files changed or removed since the last start, deleted.
    pub removed: usize,
}

/// Why the index could not be built.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The store failed.
    #[error("the index store failed: {0}")]
    Store(#[from] StoreError),
    /// Embedding or indexing failed.
    #[error("indexing failed: {0}")]
    Indexing(#[from] genflow_runtime::FlowError),
    /// The list of indexed passages could not be read or written.
    #[error("cannot use {path}: {source}")]
    Manifest {
        /// The list's file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl VectorIndex {
    /// Indexes `documents` with `embedder` into the store file `path` (in memory when `None`).
    /// A store file keeps its passages across starts: only new and changed passages are
    /// embedded, and those no longer among `documents` are deleted (the ids indexed last time
    /// are listed beside the store, in `<path>.ids`).
    pub async fn build(
        documents: Vec<Document>,
        path: Option<&Path>,
        embedder: Embedder,
    ) -> Result<(Self, Indexed), IndexError> {
        let store: Arc<dyn VectorStore> = Arc::new(match path {
            Some(path) => SqliteStore::open(path)?,
            None => SqliteStore::in_memory()?,
        });
        let ids: BTreeSet<String> = documents.iter().map(|d| d.id.clone()).collect();
        let manifest = path.map(manifest_path);
        let stale: Vec<String> = match &manifest {
            Some(manifest) => read_ids(manifest)?.difference(&ids).cloned().collect(),
            None => Vec::new(),
        };
        let removed = if stale.is_empty() {
            0
        } else {
            store.delete(stale).await?
        };
        let indexer = Indexer::new("docs", Arc::clone(&store), embedder.clone());
        let report = indexer.index(&FlowContext::new(), documents).await?;
        if let Some(manifest) = &manifest {
            let listed: Vec<&str> = ids.iter().map(String::as_str).collect();
            std::fs::write(manifest, listed.join("\n")).map_err(|source| IndexError::Manifest {
                path: manifest.clone(),
                source,
            })?;
        }
        let index = VectorIndex {
            retriever: Retriever::new("docs", store, embedder),
        };
        let indexed = Indexed {
            indexed: report.indexed,
            unchanged: report.unchanged,
            removed,
        };
        Ok((index, indexed))
    }

    /// The best `limit` passages for `query` by hybrid retrieval, as a traced `retriever` step
    /// of `ctx`'s run. The score is the fused rank score.
    pub async fn search<C>(
        &self,
        ctx: &FlowContext<C>,
        query: &str,
        limit: usize,
    ) -> Result<Vec<Passage>, genflow_runtime::FlowError> {
        let found = self
            .retriever
            .retrieve(ctx, query, RetrieveOptions::k(limit))
            .await?;
        Ok(found
            .into_iter()
            .map(|hit| Passage {
                text: hit.document.text_content(),
                id: hit.document.id,
                score: f64::from(hit.score),
            })
            .collect())
    }
}

/// `<path>.ids`.
fn manifest_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".ids");
    PathBuf::from(name)
}

/// The ids listed in `manifest`, none when it does not exist.
fn read_ids(manifest: &Path) -> Result<BTreeSet<String>, IndexError> {
    match std::fs::read_to_string(manifest) {
        Ok(text) => Ok(text.lines().map(str::to_owned).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeSet::new()),
        Err(source) => Err(IndexError::Manifest {
            path: manifest.to_owned(),
            source,
        }),
    }
}
