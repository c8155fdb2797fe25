//! Retrievers: a store and an embedder behind an action of kind `retriever`.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    Document, EmbedPurpose, Embedder, Filter, Retrieved, SearchMode, StoreQuery, VectorStore,
};
use crate::run::{DynamicAction, run_in_process};
use crate::{ActionKind, DynAction, FlowContext, FlowError};

/// How many documents a retriever returns unless told otherwise.
pub const DEFAULT_K: usize = 4;

/// The options of one retrieval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetrieveOptions {
    /// How many documents at most (default 4).
    #[serde(default = "default_k")]
    pub k: usize,
    /// Which documents may match, by metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Filter>,
    /// The lowest cosine similarity (vector and hybrid modes) or BM25 relevance (keyword mode)
    /// of a result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_score: Option<f32>,
    /// How to rank (default hybrid).
    #[serde(default)]
    pub mode: SearchMode,
}

fn default_k() -> usize {
    DEFAULT_K
}

impl Default for RetrieveOptions {
    fn default() -> Self {
        RetrieveOptions {
            k: DEFAULT_K,
            filter: None,
            min_score: None,
            mode: SearchMode::default(),
        }
    }
}

impl RetrieveOptions {
    /// The best `k` documents, hybrid ranking, no filter.
    pub fn k(k: usize) -> Self {
        RetrieveOptions {
            k,
            ..RetrieveOptions::default()
        }
    }

    /// Only documents whose metadata match `filter`.
    #[must_use]
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Only results scoring at least `score`.
    #[must_use]
    pub fn min_score(mut self, score: f32) -> Self {
        self.min_score = Some(score);
        self
    }

    /// Ranks by `mode`.
    #[must_use]
    pub fn mode(mut self, mode: SearchMode) -> Self {
        self.mode = mode;
        self
    }
}

/// The input of a retriever action, in Genkit's shape: `{"query": document, "options"}`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct RetrieverRequest {
    /// The query (its text parts).
    pub query: Document,
    /// Options.
    #[serde(default)]
    pub options: RetrieveOptions,
}

/// The output of a retriever action: `{"documents": [{"document", "score"}]}`, best first.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub struct RetrieverResponse {
    /// The results, best first.
    pub documents: Vec<Retrieved>,
}

/// A retriever: searches a [`VectorStore`], embedding the query with an [`Embedder`], as the
/// action `/retriever/<name>`. Register [`Retriever::action`]; call [`Retriever::retrieve`]
/// from a flow. Cheap to clone.
#[derive(Clone)]
pub struct Retriever {
    action: DynamicAction,
    search: Arc<Search>,
}

/// What a retrieval needs.
struct Search {
    store: Arc<dyn VectorStore>,
    embedder: Embedder,
}

impl Retriever {
    /// The retriever `name` over `store`, embedding queries with `embedder` (the one the store
    /// was indexed with).
    #[track_caller]
    pub fn new(name: &str, store: Arc<dyn VectorStore>, embedder: Embedder) -> Self {
        let description = format!("Retrieves documents from {}", store.describe());
        let search = Arc::new(Search { store, embedder });
        let for_action = Arc::clone(&search);
        let action = DynamicAction::typed(
            ActionKind::Retriever,
            name,
            move |ctx, request: RetrieverRequest| {
                let search = Arc::clone(&for_action);
                async move {
                    let documents = search.run(&ctx, &request.query, request.options).await?;
                    Ok(RetrieverResponse { documents })
                }
            },
        )
        .description(&description);
        Retriever { action, search }
    }

    /// The action to register.
    pub fn action(&self) -> DynamicAction {
        self.action.clone()
    }

    /// Retrieves the documents best matching `query` as a traced step of the flow `ctx`
    /// belongs to (a `retriever` span, with the query's `embedder` span below it).
    pub async fn retrieve<C>(
        &self,
        ctx: &FlowContext<C>,
        query: impl Into<Document>,
        options: RetrieveOptions,
    ) -> Result<Vec<Retrieved>, FlowError> {
        let query = query.into();
        let search = &self.search;
        run_in_process(self.action.meta(), ctx.without_stream(), |ctx| async move {
            search.run(&ctx, &query, options).await
        })
        .await
    }
}

impl Search {
    async fn run(
        &self,
        ctx: &FlowContext,
        query: &Document,
        options: RetrieveOptions,
    ) -> Result<Vec<Retrieved>, FlowError> {
        let text = query.text_content();
        let embedding = match options.mode {
            SearchMode::Keyword => None,
            SearchMode::Vector | SearchMode::Hybrid => {
                let vectors = self
                    .embedder
                    .embed(ctx, vec![text.clone()], EmbedPurpose::Query)
                    .await?;
                vectors.into_iter().next()
            }
        };
        let query = StoreQuery {
            text,
            embedding,
            k: options.k,
            filter: options.filter,
            min_score: options.min_score,
            mode: options.mode,
        };
        Ok(self.store.search(query).await?)
    }
}

impl std::fmt::Debug for Retriever {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Retriever")
            .field(&self.action.meta().name)
            .finish()
    }
}
