//! The quickstart: a retrieval-augmented `ragQuery` flow (and its streaming twin
//! `ragQueryStream`) over a bundled document set, served over HTTP.
//!
//! Offline by default (the `local/test` model); `GENFLOW_MODEL=openai/gpt-4o-mini` with
//! `OPENAI_API_KEY` (and `OPENAI_BASE_URL` for compatible servers) uses a real model. `PORT`
//! sets the port; `genflow.toml` and `GENFLOW_*` variables configure the rest. The flows and
//! the `searchDocs` tool are also served over MCP at `/mcp`, or on stdio when started as
//! `quickstart mcp`.

use genflow_runtime::Registry;
use genflow_runtime::http::{ServiceError, run_service};
// The flows live in the library half of this package; naming it links them in.
use quickstart as _;

/// With the `jemalloc` feature, jemalloc allocates: its background threads return memory freed
/// after a burst of requests to the system, where glibc's malloc keeps most of it.
#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> Result<(), ServiceError> {
    run_service(Registry::builder(), |server| server).await
}
