//! The `generate` builder: what a flow writes to call a model.
//!
//! ```
//! use genflow_runtime::prelude::*;
//! use genflow_runtime::model::{GenerateExt, Models};
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Verdict { approved: bool, reason: String }
//!
//! /// Rate a review.
//! #[flow]
//! async fn rate(ctx: &FlowContext, review: String) -> Result<bool, FlowError> {
//!     let verdict: Verdict = ctx
//!         .generate()
//!         .system("You approve polite reviews.")
//!         .prompt(review)
//!         .generate_data()
//!         .await?;
//!     Ok(verdict.approved)
//! }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), FlowError> {
//! // No model configured: the offline `local/test` model answers with schema-valid data.
//! let ctx = FlowContext::new().with_state(Models::new());
//! assert!(rate(&ctx, "Nice!".into()).await?);
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc;

use super::catalog::Models;
use super::generation::{Generated, Generation};
use super::message::{Media, Message, Part, Role};
use super::middleware::Middleware;
use super::request::{GenerateRequest, GenerationConfig, ToolChoice, ToolDefinition};
use super::retry::RetryPolicy;
use super::stream::{CHUNK_BUFFER, GenerateChunk, GenerateStream};
use super::structured::OutputSchema;
use super::tool_loop::{LoopOptions, ToolLoop};
use crate::schema::decode_ref;
use crate::{DynAction, FlowContext, FlowError, Tool};

/// The output-type marker of a `generate` without structured output.
#[derive(Debug, Clone, Copy)]
pub struct Untyped;

/// A `generate` call being built. Start one with [`GenerateExt::generate`] (in a flow) or
/// [`Models::generate`]; finish with `run()`, `stream()` or `generate_data()`.
///
/// `O` is the structured output type chosen with [`Generate::output`].
#[must_use = "a generate call does nothing until `.run()`, `.stream()` or `.generate_data()`"]
pub struct Generate<O = Untyped> {
    ctx: FlowContext,
    models: Models,
    model: Option<String>,
    request: GenerateRequest,
    tools: HashMap<String, Arc<dyn DynAction>>,
    options: LoopOptions,
    output: Option<Result<Arc<OutputSchema>, FlowError>>,
    middleware: Vec<Arc<dyn Middleware>>,
    _output: PhantomData<fn() -> O>,
}

/// `ctx.generate()` on a flow's context.
pub trait GenerateExt {
    /// A `generate` using the application's [`Models`] (or, when none was provided,
    /// [`Models::from_env`], made once per registry) whose tools run with this context's state
    /// and auth.
    fn generate(&self) -> Generate;
}

impl<C> GenerateExt for FlowContext<C> {
    fn generate(&self) -> Generate {
        let models = Models::clone(&self.state_or_init(Models::from_env));
        Generate::new(models, self.without_stream())
    }
}

impl Models {
    /// A `generate` outside any flow (tools run with an empty context).
    pub fn generate(&self) -> Generate {
        Generate::new(self.clone(), FlowContext::new())
    }
}

impl Generate<Untyped> {
    fn new(models: Models, ctx: FlowContext) -> Self {
        Generate {
            ctx,
            models,
            model: None,
            request: GenerateRequest::default(),
            tools: HashMap::new(),
            options: LoopOptions::default(),
            output: None,
            middleware: Vec::new(),
            _output: PhantomData,
        }
    }

    /// Asks for structured output of type `T`: the model is held to `T`'s JSON Schema with the
    /// provider's native mode, and the reply is validated and decoded.
    pub fn output<T: DeserializeOwned + JsonSchema + 'static>(self) -> Generate<T> {
        let output = Some(OutputSchema::of::<T>());
        self.retype(output)
    }

    /// Asks for structured output following a JSON Schema given at run time.
    pub fn output_schema(self, name: &str, schema: Value) -> Self {
        let output = Some(OutputSchema::new(name, schema).map(Arc::new));
        self.retype(output)
    }

    /// Runs the generate (and its tool loop) to the end.
    pub fn run(self) -> impl Future<Output = Result<Generation, FlowError>> {
        self.into_loop(None).run()
    }

    /// Runs the generate, streaming chunks as they come.
    pub fn stream(self) -> GenerateStream<Generation> {
        let (tx, rx) = mpsc::channel(CHUNK_BUFFER);
        let tool_loop = self.into_loop(Some(tx));
        GenerateStream::new(rx, tool_loop.run().boxed())
    }

    /// Structured output of type `T`, validated and decoded.
    pub fn generate_data<T: DeserializeOwned + JsonSchema + Send + 'static>(
        self,
    ) -> impl Future<Output = Result<T, FlowError>> {
        self.output::<T>()
            .run()
            .map(|generated| generated.map(|g| g.output))
    }
}

impl<T: DeserializeOwned + JsonSchema + Send + 'static> Generate<T> {
    /// Runs the generate and decodes the structured output.
    pub fn run(self) -> impl Future<Output = Result<Generated<T>, FlowError>> {
        self.into_loop(None)
            .run()
            .map(|generation| decode_output(generation?))
    }

    /// Runs the generate, streaming chunks (partial output included) as they come.
    pub fn stream(self) -> GenerateStream<Generated<T>> {
        let (tx, rx) = mpsc::channel(CHUNK_BUFFER);
        let tool_loop = self.into_loop(Some(tx));
        GenerateStream::new(
            rx,
            async move { decode_output(tool_loop.run().await?) }.boxed(),
        )
    }
}

fn decode_output<T: DeserializeOwned>(generation: Generation) -> Result<Generated<T>, FlowError> {
    let value = generation
        .output
        .as_ref()
        .ok_or_else(|| FlowError::internal("the generation ended without structured output"))?;
    Ok(Generated {
        output: decode_ref(value)?,
        generation,
    })
}

impl<O> Generate<O> {
    fn retype<P>(self, output: Option<Result<Arc<OutputSchema>, FlowError>>) -> Generate<P> {
        Generate {
            ctx: self.ctx,
            models: self.models,
            model: self.model,
            request: self.request,
            tools: self.tools,
            options: self.options,
            output,
            middleware: self.middleware,
            _output: PhantomData,
        }
    }

    fn into_loop(mut self, chunks: Option<mpsc::Sender<GenerateChunk>>) -> ToolLoop {
        let output = self.output.take().transpose();
        let mut tools: Vec<ToolDefinition> = self
            .tools
            .values()
            .map(|t| ToolDefinition {
                name: t.meta().name.to_owned(),
                description: t.meta().description.to_owned(),
                input_schema: t.schemas().shared_input().clone(),
            })
            .collect();
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        self.request.tools = tools;
        let mut middleware = self.models.middleware_list().to_vec();
        middleware.extend(self.middleware);
        ToolLoop {
            ctx: self.ctx,
            models: self.models,
            model: self.model,
            request: self.request,
            tools: self.tools,
            options: self.options,
            output,
            middleware,
            chunks,
            structured: false,
        }
    }

    /// Uses the model `reference` (such as `"openai/gpt-4o-mini"`) instead of the default.
    pub fn model(mut self, reference: &str) -> Self {
        self.model = Some(reference.to_owned());
        self
    }

    /// Sets the system instructions.
    pub fn system(mut self, text: impl Into<String>) -> Self {
        self.request.system = Some(text.into());
        self
    }

    /// Adds a user message with `text`.
    pub fn prompt(mut self, text: impl Into<String>) -> Self {
        self.request.messages.push(Message::user(text));
        self
    }

    /// Adds media (an image URL or [`Media::base64`]) to the last user message, or to a new one.
    pub fn media(mut self, media: Media) -> Self {
        match self.request.messages.last_mut() {
            Some(last) if last.role == Role::User => last.content.push(Part::Media(media)),
            _ => self
                .request
                .messages
                .push(Message::new(Role::User, vec![Part::Media(media)])),
        }
        self
    }

    /// Adds one message (history, or a hand-built multi-part message).
    pub fn message(mut self, message: Message) -> Self {
        self.request.messages.push(message);
        self
    }

    /// Adds several messages.
    pub fn messages(mut self, messages: impl IntoIterator<Item = Message>) -> Self {
        self.request.messages.extend(messages);
        self
    }

    /// Replaces the whole generation config.
    pub fn config(mut self, config: GenerationConfig) -> Self {
        self.request.config = config;
        self
    }

    /// Sets the sampling temperature.
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.request.config.temperature = Some(temperature);
        self
    }

    /// Sets the most output tokens.
    pub fn max_output_tokens(mut self, tokens: u32) -> Self {
        self.request.config.max_output_tokens = Some(tokens);
        self
    }

    /// Adds a stop sequence.
    pub fn stop(mut self, sequence: impl Into<String>) -> Self {
        self.request.config.stop.push(sequence.into());
        self
    }

    /// Offers the tool `T` (any `#[tool]` handle) to the model. Its name, description and
    /// input schema come from `T`; calls are validated against that schema before it runs.
    pub fn tool<T: Tool + Default>(self) -> Self {
        self.tool_action(Arc::new(T::default()))
    }

    /// Offers a type-erased action (for example one from the registry) as a tool.
    pub fn tool_action(mut self, tool: Arc<dyn DynAction>) -> Self {
        self.tools.insert(tool.meta().name.to_owned(), tool);
        self
    }

    /// Offers several type-erased actions as tools, such as an MCP server's
    /// (`McpClient::tools`, feature `mcp`).
    pub fn tools(self, tools: impl IntoIterator<Item = Arc<dyn DynAction>>) -> Self {
        tools.into_iter().fold(self, Self::tool_action)
    }

    /// Sets whether and which tool the model must call.
    pub fn tool_choice(mut self, choice: ToolChoice) -> Self {
        self.request.tool_choice = choice;
        self
    }

    /// Sets how many rounds of tool calls may run (default 5); a model asking for more fails
    /// the generate with `ABORTED`.
    pub fn max_turns(mut self, turns: u32) -> Self {
        self.options.max_turns = turns;
        self
    }

    /// Returns the model's tool requests to the caller instead of running them.
    pub fn return_tool_requests(mut self, yes: bool) -> Self {
        self.options.return_tool_requests = yes;
        self
    }

    /// Sets how many times an invalid structured reply is sent back for repair (default 1).
    pub fn repair_attempts(mut self, attempts: u32) -> Self {
        self.options.repair_attempts = attempts;
        self
    }

    /// Overrides the catalog's retry policy for this call.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.options.retry = Some(policy);
        self
    }

    /// Overrides the catalog's per-model-call timeout for this call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// Overrides the catalog's fallback model for this call.
    pub fn fallback(mut self, reference: &str) -> Self {
        self.options.fallback = Some(reference.to_owned());
        self
    }

    /// Adds middleware for this call (it runs inside the catalog's middleware).
    pub fn middleware(mut self, middleware: impl Middleware) -> Self {
        self.middleware.push(Arc::new(middleware));
        self
    }
}
