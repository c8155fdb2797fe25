//! The run pipeline: every run of an action, whoever asks for it (the registry, the HTTP
//! server, in-process calls), goes through here: validate → decode → guard → encode.
//!
//! The registry resolves a name to a [`DynAction`]; [`DynAction::start`] opens the run's span
//! and returns the [`Run`]; the run validates the JSON input against the input schema, decodes
//! it (errors name the JSON path), runs the action under its guard (deadline, panic,
//! cancellation, metrics, span path) and encodes the output. [`FlowEvents`] is the same run
//! seen as a stream of chunks and one result.

mod dynamic;
mod events;
mod guard;

use std::any::{Any, TypeId};
use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::schema::decode;
use crate::telemetry::{ActionSpan, SpanIds, TraceParent};
use crate::{Action, ActionMeta, ActionSchemas, FlowContext, FlowError};

pub use dynamic::{DynamicAction, JsonHandler};
pub use events::{FlowEvent, FlowEvents};
pub(crate) use guard::{run_in_process, run_typed};
/// The token a [`Cancellation`] watches (re-exported from `tokio-util`).
pub use tokio_util::sync::CancellationToken;

/// How one run is started: who asks, under which deadline, and what may end it early.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// The auth context an auth provider produced, read by flows with `ctx.auth::<T>()`.
    pub auth: Option<Arc<dyn Any + Send + Sync>>,
    /// The caller's span in another service, joined as the parent of the run's span.
    pub parent: Option<TraceParent>,
    /// A deadline for an action without a `timeout` of its own (a server-wide default).
    pub default_timeout: Option<Duration>,
    /// Ends the run early from outside (a cancelled request, a server's end of grace).
    pub cancel: Option<Cancellation>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("authenticated", &self.auth.is_some())
            .field("parent", &self.parent)
            .field("default_timeout", &self.default_timeout)
            .field("cancellable", &self.cancel.is_some())
            .finish()
    }
}

/// Ends runs early: when its token is cancelled, every run started with it stops (its future is
/// dropped) and fails with the cancellation's error.
#[derive(Clone, Debug)]
pub struct Cancellation {
    token: CancellationToken,
    error: fn() -> FlowError,
}

impl Cancellation {
    /// Runs fail with `CANCELLED` once `token` is cancelled.
    pub fn new(token: CancellationToken) -> Self {
        Cancellation {
            token,
            error: cancelled,
        }
    }

    /// Runs fail with `error()` instead (a server shutting down answers `UNAVAILABLE`).
    #[must_use]
    pub fn with_error(mut self, error: fn() -> FlowError) -> Self {
        self.error = error;
        self
    }
}

/// The error of a run cancelled from outside.
fn cancelled() -> FlowError {
    FlowError::cancelled("the run was cancelled")
}

/// One run of an erased action: what [`DynAction::start`] takes.
pub struct Invocation {
    /// State and auth of the run.
    pub ctx: FlowContext,
    /// The JSON input, validated and decoded by the action.
    pub input: Value,
    /// Where chunks go, as JSON, for a streaming run.
    pub chunks: Option<mpsc::Sender<Value>>,
    /// The caller's span in another service (W3C `traceparent`), joined as the parent.
    pub parent: Option<TraceParent>,
    /// A deadline for an action without a `timeout` of its own.
    pub default_timeout: Option<Duration>,
    /// What may end the run early.
    pub cancel: Option<Cancellation>,
}

impl Invocation {
    /// An invocation of `input` in `ctx`: no chunks, no remote parent, no default deadline, no
    /// cancellation.
    pub fn new(ctx: FlowContext, input: Value) -> Self {
        Invocation {
            ctx,
            input,
            chunks: None,
            parent: None,
            default_timeout: None,
            cancel: None,
        }
    }
}

/// A run whose span is open: its trace ids are known before it is polled.
pub struct Run {
    /// The run's trace and span ids, when telemetry is installed.
    pub ids: Option<SpanIds>,
    /// The run; dropping it cancels the action.
    pub future: BoxFuture<'static, Result<Value, FlowError>>,
}

/// An action with its types erased to JSON: what the registry stores and the servers run.
///
/// Every [`Action`] is one; other kinds (such as models configured at run time) may implement it
/// directly.
pub trait DynAction: Any + Send + Sync {
    /// Name, kind, description and limits.
    fn meta(&self) -> &ActionMeta;

    /// The cached schemas.
    fn schemas(&self) -> &ActionSchemas;

    /// Opens the run's span, then returns the run: validate and decode the input, run under the
    /// action's guard, encode the output.
    fn start(&self, invocation: Invocation) -> Run;

    /// Whether `other` is this very action, added twice (the registry keeps one): by default,
    /// whether both are of the same type, as for the unit-struct handles of `#[flow]` and
    /// `#[tool]`. Actions whose values differ (built at run time) compare their values.
    fn same_as(&self, other: &dyn DynAction) -> bool {
        let other: &dyn Any = other;
        other.type_id() == TypeId::of::<Self>()
    }

    /// Runs the action on `input` in `ctx` (a tool a model called, a test), without a remote
    /// parent, deadline default or cancellation.
    fn invoke(
        &self,
        ctx: FlowContext,
        input: Value,
        chunks: Option<mpsc::Sender<Value>>,
    ) -> BoxFuture<'static, Result<Value, FlowError>> {
        self.start(Invocation {
            chunks,
            ..Invocation::new(ctx, input)
        })
        .future
    }
}

impl<A: Action> DynAction for A {
    fn meta(&self) -> &ActionMeta {
        &A::META
    }

    fn schemas(&self) -> &ActionSchemas {
        A::schemas()
    }

    fn start(&self, invocation: Invocation) -> Run {
        let body = |ctx: FlowContext, input, chunks| async move {
            A::schemas().validate_input(&input)?;
            let input: A::Input = decode(input)?;
            A::call(ctx.with_json_sink(chunks), input).await
        };
        start_json(&A::META, invocation, body, serde_json::to_value)
    }
}

/// Opens the span of a JSON run of the action `meta` and returns the run: `body` (validate,
/// decode, call) under the guard, then the output encoded. Every [`DynAction`] starts its
/// runs here, so typed actions and [actions built at run time](DynamicAction) share one
/// pipeline. `encode` turns the output into JSON (the identity for an output that is JSON
/// already, so it is not copied).
pub(crate) fn start_json<M, B, Fut, O>(
    meta: M,
    invocation: Invocation,
    body: B,
    encode: fn(O) -> serde_json::Result<Value>,
) -> Run
where
    M: Deref<Target = ActionMeta> + Send + 'static,
    B: FnOnce(FlowContext, Value, Option<mpsc::Sender<Value>>) -> Fut,
    Fut: Future<Output = Result<O, FlowError>> + Send + 'static,
    O: 'static,
{
    let Invocation {
        ctx,
        input,
        chunks,
        parent,
        default_timeout,
        cancel,
    } = invocation;
    let span = ActionSpan::new(&meta, parent.as_ref(), ctx.telemetry());
    span.record_input(&input);
    let ids = span.ids();
    let limits = guard::Limits {
        timeout: meta.timeout.or(default_timeout),
        cancel,
    };
    let run = body(ctx, input, chunks);
    let future = Box::pin(async move {
        let result = match guard::guarded(&meta, &span, limits, run).await {
            Ok(output) => encode(output).map_err(|e| {
                FlowError::internal(format!("output of '{}' does not serialize: {e}", meta.name))
            }),
            Err(e) => Err(e),
        };
        span.record_result(&result);
        result
    });
    Run { ids, future }
}
