//! Hooks around a whole `generate`, each model call and each tool call.
//!
//! A [`Middleware`] overrides the hooks it cares about; each gets the request and a [`Next`]
//! to call the rest of the chain (or not, to short-circuit). Middleware registered on the
//! [`Models`](super::Models) catalog runs first, then middleware added to one call.
//!
//! ```
//! use genflow_runtime::model::{Middleware, ModelCall, ModelHook, Next, GenerateResponse};
//! use genflow_runtime::FlowError;
//! use futures::future::BoxFuture;
//!
//! /// Logs the model of every call.
//! struct LogModel;
//!
//! impl Middleware for LogModel {
//!     fn model<'a>(
//!         &'a self,
//!         call: ModelCall,
//!         next: Next<'a, ModelHook>,
//!     ) -> BoxFuture<'a, Result<GenerateResponse, FlowError>> {
//!         Box::pin(async move {
//!             tracing::info!(model = %call.model, "calling");
//!             next.run(call).await
//!         })
//!     }
//! }
//! ```

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;

use super::generate::Generation;
use super::message::ToolRequest;
use super::request::GenerateRequest;
use super::response::GenerateResponse;
use crate::FlowError;

/// Code that runs around generate, model and tool calls. Every hook defaults to calling
/// `next`.
pub trait Middleware: Send + Sync + 'static {
    /// Around one whole `generate` (every turn of the tool loop and any repair).
    fn generate<'a>(
        &'a self,
        request: GenerateRequest,
        next: Next<'a, GenerateHook>,
    ) -> BoxFuture<'a, Result<Generation, FlowError>> {
        next.run(request)
    }

    /// Around one model call (one turn), retries and fallback included.
    fn model<'a>(
        &'a self,
        call: ModelCall,
        next: Next<'a, ModelHook>,
    ) -> BoxFuture<'a, Result<GenerateResponse, FlowError>> {
        next.run(call)
    }

    /// Around one tool run. `Ok` is the tool's output; an error goes back to the model.
    fn tool<'a>(
        &'a self,
        request: ToolRequest,
        next: Next<'a, ToolHook>,
    ) -> BoxFuture<'a, Result<Value, FlowError>> {
        next.run(request)
    }
}

/// One model call as middleware sees it.
#[derive(Clone, Debug)]
pub struct ModelCall {
    /// The model reference (informational: changing it does not change the model).
    pub model: String,
    /// The request.
    pub request: GenerateRequest,
}

/// Which hook a [`Next`] continues: ties a request type to a response type and a method.
pub trait Hook: Sized + 'static {
    /// What the hook receives.
    type Request: Send + 'static;
    /// What it returns.
    type Response: Send + 'static;
    /// Calls this hook of `middleware`.
    fn call<'a>(
        middleware: &'a dyn Middleware,
        request: Self::Request,
        next: Next<'a, Self>,
    ) -> BoxFuture<'a, Result<Self::Response, FlowError>>;
}

/// The [`Middleware::generate`] hook.
pub struct GenerateHook;
/// The [`Middleware::model`] hook.
pub struct ModelHook;
/// The [`Middleware::tool`] hook.
pub struct ToolHook;

impl Hook for GenerateHook {
    type Request = GenerateRequest;
    type Response = Generation;
    fn call<'a>(
        m: &'a dyn Middleware,
        r: GenerateRequest,
        n: Next<'a, Self>,
    ) -> BoxFuture<'a, Result<Generation, FlowError>> {
        m.generate(r, n)
    }
}

impl Hook for ModelHook {
    type Request = ModelCall;
    type Response = GenerateResponse;
    fn call<'a>(
        m: &'a dyn Middleware,
        r: ModelCall,
        n: Next<'a, Self>,
    ) -> BoxFuture<'a, Result<GenerateResponse, FlowError>> {
        m.model(r, n)
    }
}

impl Hook for ToolHook {
    type Request = ToolRequest;
    type Response = Value;
    fn call<'a>(
        m: &'a dyn Middleware,
        r: ToolRequest,
        n: Next<'a, Self>,
    ) -> BoxFuture<'a, Result<Value, FlowError>> {
        m.tool(r, n)
    }
}

/// The innermost step of a chain: the real generate, model call or tool run.
pub type Inner<'a, H> = dyn Fn(<H as Hook>::Request) -> BoxFuture<'a, Result<<H as Hook>::Response, FlowError>>
    + Send
    + Sync
    + 'a;

/// The rest of a middleware chain.
pub struct Next<'a, H: Hook> {
    rest: &'a [Arc<dyn Middleware>],
    inner: &'a Inner<'a, H>,
}

impl<'a, H: Hook> Next<'a, H> {
    /// A chain of `middleware` ending in `inner`.
    pub fn new(middleware: &'a [Arc<dyn Middleware>], inner: &'a Inner<'a, H>) -> Self {
        Next {
            rest: middleware,
            inner,
        }
    }

    /// Runs the rest of the chain.
    pub fn run(self, request: H::Request) -> BoxFuture<'a, Result<H::Response, FlowError>> {
        match self.rest.split_first() {
            Some((first, rest)) => H::call(
                first.as_ref(),
                request,
                Next {
                    rest,
                    inner: self.inner,
                },
            ),
            None => (self.inner)(request),
        }
    }
}
