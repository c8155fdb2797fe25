//! Serves `planTrip` (offline on the `local/test` model unless `GENFLOW_MODEL` names another).

use genflow_runtime::Registry;
use genflow_runtime::http::{ServiceError, run_service};
use tools_agent as _;

#[tokio::main]
async fn main() -> Result<(), ServiceError> {
    // The quickstart's flows are linked in too (for its `searchDocs` tool): serve only ours.
    run_service(Registry::builder(), |server| server.only(["planTrip"])).await
}
