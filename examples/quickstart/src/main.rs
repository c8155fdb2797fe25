//! The quickstart: a retrieval-augmented `ragQuery` flow (and its streaming twin
//! `ragQueryStream`) over a bundled document set, served over HTTP.
//!
//! Offline by default (the `local/test` model); `GENFLOW_MODEL=openai/gpt-4o-mini` with
//! `OPENAI_API_KEY` (and `OPENAI_BASE_URL` for compatible servers) uses a real model. `PORT`
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

#[tokio::main]
async fn main() -> Result<(), ServiceError> {
    run_service(Registry::builder(), |server| {
        // Index the documents now (the log says how they are searched), not on the first search.
        quickstart::library::start();
        server
    })
    .await
}
