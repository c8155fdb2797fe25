//! The model layer.
#![doc = include_str!("../../../docs/models.md")]

mod catalog;
mod delta;
mod dialect;
mod generate;
mod local;
mod message;
mod middleware;
mod providers;
mod request;
mod response;
mod retry;
mod shared_schema;
mod stream;
mod structured;
mod tool_loop;

use futures::future::BoxFuture;

pub use catalog::{EnvVars, Models, OFFLINE_DEFAULT, Provider};
pub use delta::{Accumulator, ModelDelta, ModelStream, collect, replay};
pub use dialect::{DialectError, openai_strict};
pub use generate::{Generate, GenerateExt, Generated, Generation, Untyped};
pub use local::{EchoModel, Local, Scripted, ScriptedModel, TestModel, sample};
pub use message::{InlineData, Media, Message, Part, Role, ToolRequest, ToolResponse};
pub use middleware::{GenerateHook, Hook, Inner, Middleware, ModelCall, ModelHook, Next, ToolHook};
pub use providers::{Anthropic, GoogleAi, OpenAi};
pub use request::{GenerateRequest, GenerationConfig, OutputFormat, ToolChoice, ToolDefinition};
pub use response::{FinishReason, GenerateResponse, Usage};
pub use retry::{ProviderError, RetryPolicy};
pub use shared_schema::SharedSchema;
pub use stream::{GenerateChunk, GenerateStream};
pub use structured::{OutputError, OutputProblem, OutputSchema, parse_partial};
pub use tool_loop::DEFAULT_MAX_TURNS;

use crate::FlowError;

/// A model: takes one [`GenerateRequest`] and answers it whole or as a stream.
///
/// Object-safe (`Arc<dyn Model>`); the futures own what they need (`'static`), so dropping
/// them cancels the call. Implement [`Model::stream`]; [`Model::generate`] defaults to
/// collecting the stream.
pub trait Model: Send + Sync + 'static {
    /// Name, provider and whether it is local.
    fn info(&self) -> &ModelInfo;

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
