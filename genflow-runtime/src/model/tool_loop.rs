//! Running a `generate`: model turns, concurrent tool calls, structured-output repair, and
//! each model call's retries, timeout and fallback.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::{BoxFuture, Either, join_all};
use futures::{FutureExt, StreamExt};
use serde_json::Value;
use tokio::sync::mpsc;
use tracing::Instrument;

use super::Model;
use super::catalog::Models;
use super::generation::Generation;
use super::message::{Message, ToolRequest, ToolResponse};
use super::middleware::{GenerateHook, Middleware, ModelHook, ModelRequest, Next, ToolHook};
use super::request::GenerateRequest;
use super::response::{FinishReason, GenerateResponse, Usage};
use super::retry::RetryPolicy;
use super::stream::{Accumulator, GenerateChunk, ModelDelta, ModelStream};
use super::structured::{OutputSchema, parse_partial, repair_prompt};
use crate::telemetry::{self, ActionSpan};
use crate::{DynAction, FlowContext, FlowError, Status};

/// How many rounds of tool calls a generate may run by default.
pub(crate) const DEFAULT_MAX_TURNS: u32 = 5;

/// Per-call options of the loop.
#[derive(Clone, Debug)]
pub(crate) struct LoopOptions {
    pub max_turns: u32,
    pub return_tool_requests: bool,
    pub repair_attempts: u32,
    pub retry: Option<RetryPolicy>,
    pub timeout: Option<Duration>,
    pub fallback: Option<String>,
}

impl Default for LoopOptions {
    fn default() -> Self {
        LoopOptions {
            max_turns: DEFAULT_MAX_TURNS,
            return_tool_requests: false,
            repair_attempts: 1,
            retry: None,
            timeout: None,
            fallback: None,
        }
    }
}

/// One generate's tool loop, with everything it needs owned, so the run is a `'static`
/// future.
pub(crate) struct ToolLoop {
    pub ctx: FlowContext,
    pub models: Models,
    pub model: Option<String>,
    pub request: GenerateRequest,
    pub tools: HashMap<String, Arc<dyn DynAction>>,
    pub options: LoopOptions,
    pub output: Result<Option<Arc<OutputSchema>>, FlowError>,
    pub middleware: Vec<Arc<dyn Middleware>>,
    pub chunks: Option<mpsc::Sender<GenerateChunk>>,
    /// Whether structured output is wanted (for partial-output chunks); set by `run`.
    pub structured: bool,
}

impl ToolLoop {
    /// Runs the whole generate through the generate middleware.
    pub async fn run(mut self) -> Result<Generation, FlowError> {
        let output = std::mem::replace(&mut self.output, Ok(None))?;
        let mut request = std::mem::take(&mut self.request);
        request.output = output.as_ref().map(|o| o.format().clone());
        self.structured = output.is_some();
        let this = &self;
        let output = &output;
        let innermost =
            move |request: GenerateRequest| -> BoxFuture<'_, Result<Generation, FlowError>> {
                Box::pin(this.turns(request, output.as_deref()))
            };
        Next::<GenerateHook>::new(&self.middleware, &innermost)
            .run(request)
            .await
    }

    /// Calls the model turn by turn, running the tools it asks for and repairing invalid
    /// structured replies, until it answers.
    async fn turns(
        &self,
        mut request: GenerateRequest,
        output: Option<&OutputSchema>,
    ) -> Result<Generation, FlowError> {
        let model = self.models.resolve(self.model.as_deref())?;
        // Each turn sends the conversation so far with the rest of the request.
        let mut messages = std::mem::take(&mut request.messages);
        let mut usage = Usage::default();
        let mut turns = 0;
        let mut tool_rounds = 0;
        let mut repairs = 0;
        loop {
            turns += 1;
            let turn_request = GenerateRequest {
                messages: messages.clone(),
                ..request.clone()
            };
            let response = self.call_model(&model, turn_request, turns).await?;
            usage += response.usage;
            messages.push(response.message.clone());
            let tool_requests: Vec<ToolRequest> =
                response.message.tool_requests().cloned().collect();
            let done = |response: GenerateResponse, messages: Vec<Message>, output| Generation {
                response,
                messages,
                usage,
                turns,
                output,
            };
            self.send_all(
                tool_requests
                    .iter()
                    .map(|request| GenerateChunk::ToolRequest {
                        turn: turns,
                        request: request.clone(),
                    }),
            )
            .await;
            if !tool_requests.is_empty() && !self.options.return_tool_requests {
                if tool_rounds == self.options.max_turns {
                    return Err(FlowError::aborted(format!(
                        "the model still asked for tools after {} rounds of tool calls (max_turns)",
                        self.options.max_turns
                    )));
                }
                tool_rounds += 1;
                let results = self.run_tools(&tool_requests, turns).await;
                messages.push(Message::tool(results));
                continue;
            }
            let Some(schema) = output.filter(|_| tool_requests.is_empty()) else {
                return Ok(done(response, messages, None));
            };
            match schema.parse(&response.text()) {
                Ok(value) => return Ok(done(response, messages, Some(value))),
                // A cut-off or refused reply would come back the same: no repair for those.
                Err(error)
                    if matches!(
                        response.finish_reason,
                        FinishReason::Length | FinishReason::Blocked
                    ) =>
                {
                    return Err(FlowError::from(error).context(format!(
                        "the model stopped early ({:?})",
                        response.finish_reason
                    )));
                }
                Err(error) if repairs < self.options.repair_attempts => {
                    repairs += 1;
                    tracing::warn!(%error, repairs, "structured reply is invalid; asking the model to repair it");
                    messages.push(Message::user(repair_prompt(&error)));
                }
                Err(error) => return Err(error.into()),
            }
        }
    }

    /// One model call through the model middleware, with fallback.
    async fn call_model(
        &self,
        model: &Arc<dyn Model>,
        request: GenerateRequest,
        turn: u32,
    ) -> Result<GenerateResponse, FlowError> {
        let innermost =
            |request: ModelRequest| -> BoxFuture<'_, Result<GenerateResponse, FlowError>> {
                Box::pin(self.with_fallback(model, request.request, turn))
            };
        let request = ModelRequest {
            model: model.info().name.clone(),
            request,
        };
        Next::<ModelHook>::new(&self.middleware, &innermost)
            .run(request)
            .await
    }

    async fn with_fallback(
        &self,
        model: &Arc<dyn Model>,
        request: GenerateRequest,
        turn: u32,
    ) -> Result<GenerateResponse, FlowError> {
        let fallback = self
            .options
            .fallback
            .as_deref()
            .or_else(|| self.models.fallback_name());
        // The request is kept for a second attempt only when a fallback model exists.
        let second = fallback.map(|name| (name, request.clone()));
        let result = self.attempt(model, request, turn).await;
        let Some((fallback, request)) = second else {
            return result;
        };
        match result {
            Err(e) if falls_back(e.status()) => {
                let fallback_model = self.models.resolve(Some(fallback))?;
                tracing::warn!(
                    error = %e,
                    from = %model.info().name,
                    to = %fallback_model.info().name,
                    "model failed; using the fallback model"
                );
                // Boxed: a second inline attempt would double the size of this future.
                Box::pin(self.attempt(&fallback_model, request, turn)).await
            }
            other => other,
        }
    }

    /// One model call with retries, under the per-call timeout, in its own span.
    async fn attempt(
        &self,
        model: &Arc<dyn Model>,
        request: GenerateRequest,
        turn: u32,
    ) -> Result<GenerateResponse, FlowError> {
        let info = model.info();
        let model_span = ActionSpan::model(&info.name, &info.provider, info.local);
        model_span.record_input(&request);
        let span = model_span.span.clone();
        if info.local {
            tracing::debug!(model = %info.name, "calling a local (offline) model");
        }
        let policy = self
            .options
            .retry
            .as_ref()
            .unwrap_or_else(|| self.models.retry_policy());
        let started = std::time::Instant::now();
        let limit = self.options.timeout.or_else(|| self.models.call_timeout());
        // Built and awaited in one expression, so the call's future is stored once in this
        // function's state (a local moved into the timeout would be kept as well).
        let result = {
            let call = model_span.scope.clone().run(async {
                if self.chunks.is_some() {
                    let stream = policy.run(|| model.stream(request.clone())).await?;
                    self.forward(stream, &info.name, turn).await
                } else {
                    policy.run(|| model.generate(request.clone())).await
                }
            });
            match limit {
                Some(limit) => {
                    Either::Left(tokio::time::timeout(limit, call).map(move |outcome| {
                        outcome.unwrap_or_else(|_| {
                            Err(FlowError::deadline_exceeded(format!(
                                "model '{}' did not answer within {limit:?}",
                                info.name
                            )))
                        })
                    }))
                }
                None => Either::Right(call),
            }
        }
        .instrument(span.clone())
        .await;
        let (status, usage) = match &result {
            Ok(response) => (Status::Ok, response.usage),
            Err(e) => (e.status(), Usage::default()),
        };
        model_span.record_usage(usage.input_tokens, usage.output_tokens);
        model_span.record_result(&result);
        telemetry::record_generate(
            &info.name,
            status,
            started.elapsed(),
            usage.input_tokens,
            usage.output_tokens,
        );
        result
    }

    /// Reads a model stream, sending text (and partial structured output) on as chunks.
    async fn forward(
        &self,
        mut stream: ModelStream,
        model: &str,
        turn: u32,
    ) -> Result<GenerateResponse, FlowError> {
        let mut acc = Accumulator::default();
        let mut text = String::new();
        let mut partial: Option<Value> = None;
        while let Some(delta) = stream.next().await {
            let delta = delta?;
            if let ModelDelta::Text(t) = &delta {
                let mut chunks = vec![GenerateChunk::Text {
                    turn,
                    text: t.clone(),
                }];
                if self.structured {
                    text.push_str(t);
                    let now = parse_partial(&text);
                    if now.is_some() && now != partial {
                        partial.clone_from(&now);
                        chunks.extend(
                            now.map(|output| GenerateChunk::PartialOutput { turn, output }),
                        );
                    }
                }
                self.send_all(chunks.into_iter()).await;
            }
            acc.push(delta);
        }
        acc.finish(model)
    }

    /// Runs the turn's tool calls concurrently; failures become error results for the model.
    async fn run_tools(&self, requests: &[ToolRequest], turn: u32) -> Vec<ToolResponse> {
        let results = join_all(requests.iter().map(|request| self.run_tool(request))).await;
        self.send_all(results.iter().map(|response| GenerateChunk::ToolResponse {
            turn,
            response: response.clone(),
        }))
        .await;
        results
    }

    /// Sends chunks to a streaming caller, if there is one. A closed receiver means the
    /// stream was dropped and generation is being cancelled, so send errors are ignored.
    async fn send_all(&self, chunks: impl Iterator<Item = GenerateChunk>) {
        if let Some(sink) = &self.chunks {
            for chunk in chunks {
                let _ = sink.send(chunk).await;
            }
        }
    }

    async fn run_tool(&self, tool_request: &ToolRequest) -> ToolResponse {
        let innermost = |request: ToolRequest| -> BoxFuture<'_, Result<Value, FlowError>> {
            match self.tools.get(&request.name) {
                Some(tool) => tool.invoke(self.ctx.clone(), request.input, None),
                None => {
                    let mut names: Vec<&str> = self.tools.keys().map(String::as_str).collect();
                    names.sort_unstable();
                    let message = format!(
                        "there is no tool named '{}'; the tools are: {}",
                        request.name,
                        names.join(", ")
                    );
                    Box::pin(async move { Err(FlowError::not_found(message)) })
                }
            }
        };
        let span = telemetry::tool_span(&tool_request.name);
        let result = Next::<ToolHook>::new(&self.middleware, &innermost)
            .run(tool_request.clone())
            .instrument(span)
            .await;
        match result {
            Ok(output) => ToolResponse::ok(tool_request, output),
            Err(error) => {
                tracing::warn!(tool = %tool_request.name, %error, "tool call failed; telling the model");
                // Internal errors reach the model as "internal", like any other caller.
                let body = error.to_body(false);
                ToolResponse::error(
                    tool_request,
                    &format!("{}: {}", body.status, body.message),
                    body.details.as_ref(),
                )
            }
        }
    }
}

/// The statuses after which the fallback model is tried.
fn falls_back(status: Status) -> bool {
    matches!(
        status,
        Status::Unavailable
            | Status::ResourceExhausted
            | Status::DeadlineExceeded
            | Status::Internal
            | Status::NotFound
            | Status::Unimplemented
    )
}
