//! The documents `searchDocs` searches: the bundled ones by hybrid retrieval with the local
//! embedding model all-MiniLM-L6-v2 (fetched by `scripts/fetch-test-models` into
//! `GENFLOW_MODELS_DIR` or `target/models`; without its files those tests are skipped with a
//! note, and fail when CI is set), and by keywords without it.

mod support;

use genflow_runtime::FlowContext;
use quickstart::library::{Library, Settings};

/// Shares no content word with the `errors` passage ("Errors carry a Genkit status such as
/// INVALID_ARGUMENT or DEADLINE_EXCEEDED; invalid input is reported with the JSON path of every
/// violation.").
const PARAPHRASE: &str = "What happens when a request is malformed?";

async fn ids(library: &Library, query: &str, limit: usize) -> Vec<String> {
    let found = library
        .search(&FlowContext::new(), query, limit)
        .await
        .expect("searches");
    found.into_iter().map(|p| p.id).collect()
}

#[tokio::test]
async fn keywords_alone_miss_a_paraphrase_and_find_shared_words() {
    let library = Library::open(&Settings::default()).await.expect("opens");
    assert!(
        library
            .description()
            .starts_with("keyword matching over 5 passages"),
        "{}",
        library.description()
    );
    // Only a stop word ("when") matches, in another passage.
    assert_eq!(ids(&library, PARAPHRASE, 3).await, ["tools"]);
    assert_eq!(ids(&library, "How do tools work?", 1).await, ["tools"]);
}

#[cfg(feature = "local")]
mod local {

    use genflow_runtime::model::EnvVars;
    use genflow_runtime::model::providers::LocalModels;

    use super::*;

    /// The models folder with all-MiniLM-L6-v2, or `None` (after a note) without it.
    pub fn models() -> Option<LocalModels> {
        let dir = support::models::models_dir_holding("all-MiniLM-L6-v2/model.safetensors")?;
        Some(LocalModels::from_env(&EnvVars::from_pairs([])).models_dir(dir))
    }

    #[tokio::test]
    async fn a_paraphrase_finds_its_passage_by_hybrid_retrieval() {
        let Some(models) = models() else { return };
        let settings = Settings {
            models: Some(models),
            ..Settings::default()
        };
        let library = Library::open(&settings).await.expect("opens");
        assert!(
            library.description().starts_with(
                "hybrid retrieval (local/all-MiniLM-L6-v2 vectors and BM25) over 5 passages"
            ),
            "{}",
            library.description()
        );
        assert_eq!(ids(&library, PARAPHRASE, 1).await, ["errors"]);
        assert_eq!(ids(&library, "How do tools work?", 1).await, ["tools"]);
    }
}
