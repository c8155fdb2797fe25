//! Serves `planTrip` (offline on the `local/test` model unless `GENFLOW_MODEL` names another).

use genflow_runtime::config::Config;
use genflow_runtime::http::{FlowServer, serve};
use genflow_runtime::model::Models;
use genflow_runtime::prelude::*;
use tools_agent as _;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::load()?;
    let _telemetry = config.telemetry().init()?;
    let models = Models::from_config(&config.model);
    let registry = Registry::builder().state(models).build()?;
    let server = FlowServer::new(registry)
        .only(["planTrip"])
        .configure(&config)?;
    serve(server).bind(config.bind()).run().await?;
    Ok(())
}
