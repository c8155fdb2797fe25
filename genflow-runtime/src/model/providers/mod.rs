//! Model providers: the [`Provider`] trait the [`Models`](super::Models) catalog resolves
//! `provider/<id>` references through, and the providers over HTTP: OpenAI-compatible chat
//! completions ([`OpenAi`]), Anthropic Messages ([`Anthropic`]) and the Gemini API
//! ([`GoogleAi`]); and their embedding models ([`OpenAi::embedder`], [`GoogleAi::embedder`]),
//! with the feature `local-models` also local ones (`LocalModels::embedder`).

mod anthropic;
mod client;
mod gemini;
mod http_embedder;
mod http_model;
mod lenient;
mod openai;
mod transport;

use std::sync::Arc;

pub use anthropic::Anthropic;
pub use gemini::GoogleAi;
pub use http_embedder::EmbeddingConfig;
pub use openai::OpenAi;

#[cfg(feature = "local-models")]
pub use super::local::LocalModels;

use super::Model;
use crate::FlowError;

/// A source of models: `provider/<id>` references resolve through it.
pub trait Provider: Send + Sync + 'static {
    /// The prefix of the references it serves, such as `"openai"`.
    fn name(&self) -> &str;

    /// The model `id`. A missing API key is a `FAILED_PRECONDITION` naming the variable.
    ///
    /// [`Models`](super::Models) calls it once per reference and reuses the model it returns (up to 256
    /// references), so a model is built once, not per call.
    fn model(&self, id: &str) -> Result<Arc<dyn Model>, FlowError>;
}
