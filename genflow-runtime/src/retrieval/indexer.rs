//! Indexers: embed documents and put them in a store, skipping those unchanged since they
//! were last indexed, behind an action of kind `indexer`.

use std::collections::HashSet;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Document, EmbedPurpose, Embedder, StoreEntry, VectorStore};
use crate::run::{DynamicAction, run_in_process};
use crate::{ActionKind, DynAction, FlowContext, FlowError};

/// The input of an indexer action: `{"documents": [...]}`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct IndexRequest {
    /// The documents to index; one without an id gets its content hash as id.
    pub documents: Vec<Document>,
}

/// What an indexing did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IndexReport {
    /// Documents embedded and stored: new, or changed since they were indexed.
    pub indexed: usize,
    /// Documents the store already held with the same content hash: not embedded again.
    pub unchanged: usize,
}

/// An indexer: embeds documents with an [`Embedder`] into a [`VectorStore`], as the action
/// `/indexer/<name>`. Register [`Indexer::action`]; call [`Indexer::index`] from a flow or at
/// start-up. Cheap to clone.
#[derive(Clone)]
pub struct Indexer {
    action: DynamicAction,
    target: Arc<Target>,
}

/// Where documents go.
struct Target {
    store: Arc<dyn VectorStore>,
    embedder: Embedder,
}

impl Indexer {
    /// The indexer `name` into `store`, embedding with `embedder`.
    #[track_caller]
    pub fn new(name: &str, store: Arc<dyn VectorStore>, embedder: Embedder) -> Self {
        let description = format!("Indexes documents into {}", store.describe());
        let target = Arc::new(Target { store, embedder });
        let for_action = Arc::clone(&target);
        let action = DynamicAction::typed(
            ActionKind::Indexer,
            name,
            move |ctx, request: IndexRequest| {
                let target = Arc::clone(&for_action);
                async move { target.index(&ctx, request.documents).await }
            },
        )
        .description(&description);
        Indexer { action, target }
    }

    /// The action to register.
    pub fn action(&self) -> DynamicAction {
        self.action.clone()
    }

    /// Indexes `documents` as a traced step (an `indexer` span, with an `embedder` span for
    /// what changed): documents the store holds with the same content hash are skipped.
    pub async fn index<C>(
        &self,
        ctx: &FlowContext<C>,
        documents: Vec<Document>,
    ) -> Result<IndexReport, FlowError> {
        let target = &self.target;
        run_in_process(self.action.meta(), ctx.without_stream(), |ctx| async move {
            target.index(&ctx, documents).await
        })
        .await
    }
}

impl Target {
    async fn index(
        &self,
        ctx: &FlowContext,
        documents: Vec<Document>,
    ) -> Result<IndexReport, FlowError> {
        let mut seen = HashSet::new();
        let mut hashed = Vec::with_capacity(documents.len());
        for mut document in documents {
            let hash = document.content_hash();
            if document.id.is_empty() {
                document.id.clone_from(&hash);
            }
            if !seen.insert(document.id.clone()) {
                return Err(FlowError::invalid_argument(format!(
                    "the document id '{}' occurs twice in one indexing",
                    document.id
                )));
            }
            hashed.push((document, hash));
        }
        let ids = hashed.iter().map(|(d, _)| d.id.clone()).collect();
        let stored = self.store.hashes(ids).await?;
        let total = hashed.len();
        let changed: Vec<(Document, String)> = hashed
            .into_iter()
            .filter(|(d, hash)| stored.get(&d.id) != Some(hash))
            .collect();
        let report = IndexReport {
            indexed: changed.len(),
            unchanged: total - changed.len(),
        };
        if changed.is_empty() {
            return Ok(report);
        }
        let texts = changed.iter().map(|(d, _)| d.text_content()).collect();
        let vectors = self
            .embedder
            .embed(ctx, texts, EmbedPurpose::Document)
            .await?;
        let entries = changed
            .into_iter()
            .zip(vectors)
            .map(|((document, hash), embedding)| StoreEntry {
                document,
                hash,
                embedding,
            })
            .collect();
        self.store.upsert(entries).await?;
        Ok(report)
    }
}

impl std::fmt::Debug for Indexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Indexer")
            .field(&self.action.meta().name)
            .finish()
    }
}
