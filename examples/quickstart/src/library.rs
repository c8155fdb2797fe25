//! Where `searchDocs` looks: the documents (the bundled ones, or `DOCS_DIR`'s files) and how
//! it searches them: hybrid retrieval over a local embedding model's vectors and BM25 when the
//! model's files are found (feature `local`), else keyword matching. Built once per process,
//! from the start-up on ([`start`]); the line `retrieval: ...` in the log says which.

use std::path::PathBuf;

use genflow_runtime::retrieval::Document;
use genflow_runtime::{FlowContext, FlowError};
use tokio::sync::OnceCell;

use crate::docs;
use crate::folder::{self, FolderError};
#[cfg(feature = "local")]
use crate::index::{EMBEDDERS, VectorIndex};
use crate::rag::Passage;

/// The index file's name in `DOCS_DIR` when `DOCS_INDEX` names none.
pub const INDEX_FILE: &str = ".genflow-index.sqlite";

/// Where the documents come from and where their index goes.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// `DOCS_DIR`: the folder to index instead of the bundled documents.
    pub docs_dir: Option<PathBuf>,
    /// `DOCS_INDEX`: the index file; by default `<DOCS_DIR>/.genflow-index.sqlite`, and in
    /// memory for the bundled documents.
    pub index: Option<PathBuf>,
    /// Where the embedding model is looked for; `None`: nowhere (keyword matching).
    #[cfg(feature = "local")]
    pub models: Option<genflow_runtime::model::providers::LocalModels>,
}

impl Settings {
    /// `DOCS_DIR`, `DOCS_INDEX`, and the models folder and Hugging Face cache of the
    /// environment (`GENFLOW_MODELS_DIR`, `HF_HOME`, ...).
    pub fn from_env() -> Self {
        let var = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Settings {
            docs_dir: var("DOCS_DIR"),
            index: var("DOCS_INDEX"),
            #[cfg(feature = "local")]
            models: Some(genflow_runtime::model::providers::LocalModels::from_env(
                &genflow_runtime::model::EnvVars::process(),
            )),
        }
    }
}

/// Why the documents could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// `DOCS_DIR` could not be read.
    #[error(transparent)]
    Folder(#[from] FolderError),
}

/// The documents and their search.
pub struct Library {
    search: Search,
    description: String,
}

enum Search {
    /// `(id, text)` of each passage.
    Keyword(Vec<(String, String)>),
    #[cfg(feature = "local")]
    Hybrid(VectorIndex),
}

/// The process's library, built on first use.
static SHARED: OnceCell<Result<Library, LibraryError>> = OnceCell::const_new();

impl Library {
    /// Loads the documents of `settings` and indexes them: with the local embedding model
    /// when it is found (an index that fails to build falls back to keywords, logged), else
    /// for keyword matching.
    pub async fn open(settings: &Settings) -> Result<Library, LibraryError> {
        let (documents, source) = match &settings.docs_dir {
            Some(dir) => (folder::documents(dir)?, dir.display().to_string()),
            None => (bundled(), "the bundled documents".to_owned()),
        };
        let count = documents.len();
        let fallback = |why: String| Library {
            search: Search::Keyword(
                documents
                    .iter()
                    .map(|d| (d.id.clone(), d.text_content()))
                    .collect(),
            ),
            description: format!("keyword matching over {count} passages of {source} ({why})"),
        };
        #[cfg(feature = "local")]
        {
            let Some(embedder) = settings
                .models
                .as_ref()
                .and_then(|models| EMBEDDERS.iter().find_map(|name| models.embedder(name).ok()))
            else {
                return Ok(fallback(format!(
                    "no embedding model: {} was not found in GENFLOW_MODELS_DIR or the Hugging \
                     Face cache; ./scripts/fetch-test-models fetches it",
                    EMBEDDERS[0]
                )));
            };
            let index = settings
                .index
                .clone()
                .or_else(|| settings.docs_dir.as_ref().map(|dir| dir.join(INDEX_FILE)));
            let name = embedder.info().name.clone();
            match VectorIndex::build(documents.clone(), index.as_deref(), embedder).await {
                Ok((vectors, done)) => Ok(Library {
                    search: Search::Hybrid(vectors),
                    description: format!(
                        "hybrid retrieval ({name} vectors and BM25) over {count} passages of \
                         {source}, in {}: {} embedded, {} unchanged, {} removed",
                        index.map_or("memory".to_owned(), |p| p.display().to_string()),
                        done.indexed,
                        done.unchanged,
                        done.removed
                    ),
                }),
                Err(e) => Ok(fallback(format!("the vector index failed: {e}"))),
            }
        }
        #[cfg(not(feature = "local"))]
        Ok(fallback("built without the feature `local`".to_owned()))
    }

    /// The process's library ([`Settings::from_env`]), built by the first caller; later
    /// callers wait for it. Logs what it is, or why it failed.
    pub async fn shared() -> Result<&'static Library, FlowError> {
        let built = SHARED
            .get_or_init(|| async {
                let built = Library::open(&Settings::from_env()).await;
                match &built {
                    Ok(library) => tracing::info!("retrieval: {}", library.description),
                    Err(e) => tracing::error!("retrieval: no documents: {e}"),
                }
                built
            })
            .await;
        built
            .as_ref()
            .map_err(|e| FlowError::unavailable(format!("no documents to search: {e}")))
    }

    /// What the library searches and how.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The best `limit` passages for `query`, best first; by hybrid retrieval, a traced
    /// `retriever` step of `ctx`'s run.
    #[cfg_attr(
        not(feature = "local"),
        expect(unused_variables, reason = "only the vector index traces its steps")
    )]
    pub async fn search<C>(
        &self,
        ctx: &FlowContext<C>,
        query: &str,
        limit: usize,
    ) -> Result<Vec<Passage>, FlowError> {
        match &self.search {
            Search::Keyword(passages) => Ok(docs::keyword_search(
                passages
                    .iter()
                    .map(|(id, text)| (id.as_str(), text.as_str())),
                query,
                limit,
            )),
            #[cfg(feature = "local")]
            Search::Hybrid(index) => index.search(ctx, query, limit).await,
        }
    }
}

/// The bundled documents, their ids kept.
fn bundled() -> Vec<Document> {
    docs::DOCS
        .iter()
        .map(|doc| Document::text(doc.text).with_id(doc.id))
        .collect()
}

/// Starts building the process's library in the background, so that its documents are
/// indexed at start-up rather than on the first search.
pub fn start() {
    tokio::spawn(async {
        // The outcome is logged; searches report a failure again.
        let _ = Library::shared().await;
    });
}
