//! Offline models for tests and for running without a key: [`TestModel`] (`local/test`, the
//! default model when none is configured), [`EchoModel`] (`local/echo`) and
//! [`ScriptedModel`]. No network; their names start with `local/` and they log as local.

mod echo;
mod sample;
mod scripted;
mod test_model;

use std::sync::Arc;

pub use echo::EchoModel;
pub use scripted::{ScriptedModel, ScriptedTurn};
pub use test_model::TestModel;

use super::message::Message;
use super::providers::Provider;
use super::request::GenerateRequest;
use super::response::{FinishReason, GenerateResponse, Usage};
use super::{Model, ModelInfo};
use crate::FlowError;

/// The `local` provider: `local/echo` and `local/test`, and with the feature `local-models`
/// the GGUF models of [`ModelFiles`](crate::model::local::ModelFiles).
#[derive(Clone, Debug, Default)]
pub(crate) struct LocalProvider {
    /// Where `local/<name>` GGUF files are found.
    #[cfg(feature = "local-models")]
    pub(crate) files: crate::model::local::ModelFiles,
}

impl Provider for LocalProvider {
    fn name(&self) -> &str {
        "local"
    }

    fn model(&self, id: &str) -> Result<Arc<dyn Model>, FlowError> {
        match id {
            "echo" => Ok(Arc::new(EchoModel::default())),
            "test" => Ok(Arc::new(TestModel::default())),
            #[cfg(feature = "local-models")]
            other => Ok(Arc::new(crate::model::local::GgufModel::open(
                &self.files,
                other,
            )?)),
            #[cfg(not(feature = "local-models"))]
            other => Err(FlowError::not_found(format!(
                "no local model '{other}': the local models are 'local/echo' and 'local/test' \
                 (GGUF models need the feature `local-models`)"
            ))),
        }
    }
}

/// A plain text answer, with usage counted in words.
fn answer(info: &ModelInfo, request: &GenerateRequest, text: String) -> GenerateResponse {
    let words = |s: &str| s.split_whitespace().count() as u64;
    let input = request
        .messages
        .iter()
        .map(|m| words(&m.text()))
        .sum::<u64>()
        + request.system.as_deref().map_or(0, words);
    GenerateResponse {
        usage: Usage {
            input_tokens: input,
            output_tokens: words(&text),
        },
        message: Message::model(text),
        finish_reason: FinishReason::Stop,
        model: info.name.clone(),
    }
}
