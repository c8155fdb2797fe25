//! The model layer.
#![doc = include_str!("../../../docs/models.md")]

mod catalog;
mod dialect;
mod env_vars;
mod generate;
mod generation;
#[cfg(feature = "local-models")]
mod local;
mod message;
pub mod middleware;
pub mod providers;
mod request;
mod response;
mod retry;
mod schema_dialects;
mod secrets;
pub mod stream;
mod structured;
pub mod testing;
mod tool_loop;

use futures::future::BoxFuture;

pub use catalog::Models;
pub use dialect::DialectError;
pub use env_vars::EnvVars;
pub use generate::{Generate, GenerateExt, Untyped};
pub use generation::{Generated, Generation};
pub use message::{InlineData, Media, Message, Part, Role, ToolRequest, ToolResponse};
pub use request::{GenerateRequest, GenerationConfig, OutputFormat, ToolChoice, ToolDefinition};
pub use response::{FinishReason, GenerateResponse, Usage};
pub use retry::{ProviderError, RetryPolicy};
pub use schema_dialects::SchemaDialects;
pub use structured::{OutputError, OutputProblem};

use self::stream::{ModelStream, collect};
use crate::FlowError;

/// A model: takes one [`GenerateRequest`] and answers it whole or as a stream.
///
/// Object-safe (`Arc<dyn Model>`); the futures own what they need (`'static`), so dropping
/// them cancels the call. Implement [`Model::stream`]; [`Model::generate`] defaults to
/// collecting the stream.
pub trait Model: Send + Sync + 'static {
    /// Name, provider and whether it is local.
    fn info(&self) -> &ModelInfo;

    /// Readies the model before its first call, such as a local model downloading its
    /// weights; by default nothing. Services call it at start-up for their default model.
    fn prepare(&self) -> BoxFuture<'static, Result<(), FlowError>> {
        Box::pin(futures::future::ready(Ok(())))
    }

    /// Answers `request` as a stream of deltas ending with a finish reason. The future
    /// resolves once the stream is open (for HTTP providers: the status is known), so retries
    /// cover connection and status errors.
    fn stream(
        &self,
        request: GenerateRequest,
    ) -> BoxFuture<'static, Result<ModelStream, FlowError>>;

    /// Answers `request` whole.
    fn generate(
        &self,
        request: GenerateRequest,
    ) -> BoxFuture<'static, Result<GenerateResponse, FlowError>> {
        let name = self.info().name.clone();
        let opening = self.stream(request);
        Box::pin(async move { collect(opening.await?, &name).await })
    }
}

/// What a model is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelInfo {
    /// The catalog reference, such as `"openai/gpt-4o-mini"` or `"local/test"`.
    pub name: String,
    /// The provider, such as `"openai"` or `"local"`.
    pub provider: String,
    /// Whether it runs in-process without network (logged and traced as local).
    pub local: bool,
}

impl ModelInfo {
    /// The info of the offline model `local/<id>`.
    pub(crate) fn local(id: &str) -> Self {
        ModelInfo {
            name: format!("local/{id}"),
            provider: "local".to_owned(),
            local: true,
        }
    }
}
