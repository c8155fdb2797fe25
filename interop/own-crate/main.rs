//! Serves the crate's flows. Flows are registered at link time: the binary must name the
//! library that defines them (`use word_service as _;`), which run.sh adds after checking that
//! a binary without it starts with no flows and says how to fix that.

use genflow_runtime::Registry;
use genflow_runtime::http::{ServiceError, run_service};

#[tokio::main]
async fn main() -> Result<(), ServiceError> {
    run_service(Registry::builder(), |server| server).await
}
