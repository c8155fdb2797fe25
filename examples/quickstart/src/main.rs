//! The quickstart: a retrieval-augmented `ragQuery` flow (and its streaming twin
//! `ragQueryStream`) over a bundled document set, served over HTTP.
//!
//! Offline by default (the `local/test` model); `GENFLOW_MODEL=openai/gpt-4o-mini` with
//! `OPENAI_API_KEY` (and `OPENAI_BASE_URL` for compatible servers) uses a real model. `PORT`
//! sets the port; `genflow.toml` and `GENFLOW_*` variables configure the rest.

mod docs;
mod rag;

use genflow_runtime::config::Config;
use genflow_runtime::http::{FlowServer, serve};
use genflow_runtime::model::Models;
use genflow_runtime::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::load()?;
    let _telemetry = config.telemetry().init()?;
    let mut models = Models::from_env();
    if let Some(model) = &config.model.default {
        models = models.default_model(model);
    }
    let registry = Registry::builder().state(models).build()?;
    let server = FlowServer::new(registry).configure(&config)?;
    let mut service = serve(server).bind(config.bind());
    if let Some(grace) = config.server.shutdown_grace {
        service = service.grace(grace.0);
    }
    service.run().await?;
    Ok(())
}
