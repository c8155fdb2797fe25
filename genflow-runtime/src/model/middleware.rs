//! Hooks around a whole `generate`, each model call and each tool call.
//!
//! A [`Middleware`] overrides the hooks it cares about; each gets the request and a [`Next`]
//! to call the rest of the chain (or not, to short-circuit). Middleware registered on the
//! [`Models`](super::Models) catalog runs first, then middleware added to one call.
//!
//! ```
//! use genflow_runtime::model::GenerateResponse;
//! use genflow_runtime::model::middleware::{Middleware, ModelHook, ModelRequest, Next};
//! use genflow_runtime::FlowError;
//! use futures::future::BoxFuture;
//!
//! /// Logs the model of every call.
//! struct LogModel;
//!
//! impl Middleware for LogModel {
//!     fn model<'a>(
//!         &'a self,
//!         request: ModelRequest,
//!         next: Next<'a, ModelHook>,
//!     ) -> BoxFuture<'a, Result<GenerateResponse, FlowError>> {
//!         Box::pin(async move {
//!             tracing::info!(model = %request.model, "calling");
//!             next.run(request).await
//!         })
//!     }
//! }
//! ```

use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;

use super::generation::Generation;
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
        request: ModelRequest,
        next: Next<'a, ModelHook>,
    ) -> BoxFuture<'a, Result<GenerateResponse, FlowError>> {
        next.run(request)
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

/// One model call's request as middleware sees it: the request and the model it goes to.
#[derive(Clone, Debug)]
pub struct ModelRequest {
    /// The model reference (informational: changing it does not change the model).
    pub model: String,
    /// The request.
    pub request: GenerateRequest,
}

/// Which hook a [`Next`] continues: ties a request type to a response type and a method of
/// [`Middleware`]. Sealed: the hooks are [`GenerateHook`], [`ModelHook`] and [`ToolHook`].
pub trait Hook: sealed::Sealed + Sized + 'static {
    /// What the hook receives.
    type Request: Send + 'static;
    /// What it returns.
    type Response: Send + 'static;
    /// Runs this hook of `middleware`.
    fn dispatch<'a>(
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

mod sealed {
    /// Keeps [`Hook`](super::Hook) implemented by the three hooks alone.
    pub trait Sealed {}
    impl Sealed for super::GenerateHook {}
    impl Sealed for super::ModelHook {}
    impl Sealed for super::ToolHook {}
}

impl Hook for GenerateHook {
    type Request = GenerateRequest;
    type Response = Generation;
    fn dispatch<'a>(
        m: &'a dyn Middleware,
        r: GenerateRequest,
        n: Next<'a, Self>,
    ) -> BoxFuture<'a, Result<Generation, FlowError>> {
        m.generate(r, n)
    }
}

impl Hook for ModelHook {
    type Request = ModelRequest;
    type Response = GenerateResponse;
    fn dispatch<'a>(
        m: &'a dyn Middleware,
        r: ModelRequest,
        n: Next<'a, Self>,
    ) -> BoxFuture<'a, Result<GenerateResponse, FlowError>> {
        m.model(r, n)
    }
}

impl Hook for ToolHook {
    type Request = ToolRequest;
    type Response = Value;
    fn dispatch<'a>(
        m: &'a dyn Middleware,
        r: ToolRequest,
        n: Next<'a, Self>,
    ) -> BoxFuture<'a, Result<Value, FlowError>> {
        m.tool(r, n)
    }
}

/// The innermost step of a chain: the real generate, model call or tool run.
pub(crate) type Innermost<'a, H> = dyn Fn(<H as Hook>::Request) -> BoxFuture<'a, Result<<H as Hook>::Response, FlowError>>
    + Send
    + Sync
    + 'a;

/// The rest of a middleware chain.
pub struct Next<'a, H: Hook> {
    rest: &'a [Arc<dyn Middleware>],
    innermost: &'a Innermost<'a, H>,
}

impl<'a, H: Hook> Next<'a, H> {
    /// A chain of `middleware` ending in `innermost`.
    pub(crate) fn new(
        middleware: &'a [Arc<dyn Middleware>],
        innermost: &'a Innermost<'a, H>,
    ) -> Self {
        Next {
            rest: middleware,
            innermost,
        }
    }

    /// Runs the rest of the chain.
    pub fn run(self, request: H::Request) -> BoxFuture<'a, Result<H::Response, FlowError>> {
        match self.rest.split_first() {
            Some((first, rest)) => H::dispatch(
                first.as_ref(),
                request,
                Next {
                    rest,
                    innermost: self.innermost,
                },
            ),
            None => (self.innermost)(request),
        }
    }
}
