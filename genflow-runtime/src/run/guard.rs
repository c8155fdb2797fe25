//! The guard every run goes through: its deadline, cancellation from outside, a panic turned
//! into an `INTERNAL` error, the span's path, and the action metrics.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::FutureExt;
use pin_project_lite::pin_project;
use serde::Serialize;
use tokio::time::Sleep;
use tokio_util::sync::WaitForCancellationFutureOwned;
use tracing::Instrument;

use super::Cancellation;
use crate::telemetry::{ActionSpan, Metrics};
use crate::{Action, ActionKind, ActionMeta, FlowContext, FlowError, Status};

/// What may end a run before it finishes.
#[derive(Default)]
pub(crate) struct Limits {
    /// The run's deadline: the action's own timeout, else the caller's default.
    pub(crate) timeout: Option<Duration>,
    /// Cancellation from outside.
    pub(crate) cancel: Option<Cancellation>,
}

/// Runs a typed action under its guard, in a span of its own (no JSON round trip).
pub(crate) async fn run_typed<A: Action>(
    ctx: FlowContext<A::Chunk>,
    input: A::Input,
) -> Result<A::Output, FlowError> {
    run_in_process(&A::META, ctx, |ctx| A::call(ctx, input)).await
}

/// Runs `call` in-process as the action `meta`, under its guard (its own timeout, a caught
/// panic, metrics), in a span of its own below the caller's: how typed calls of actions reach
/// the guard without the JSON stages.
pub(crate) async fn run_in_process<C, T, Fut>(
    meta: &ActionMeta,
    ctx: FlowContext<C>,
    call: impl FnOnce(FlowContext<C>) -> Fut,
) -> Result<T, FlowError>
where
    T: Serialize,
    Fut: Future<Output = Result<T, FlowError>>,
{
    let span = ActionSpan::new(meta, None, ctx.telemetry());
    let limits = Limits {
        timeout: meta.timeout,
        cancel: None,
    };
    let result = guarded(meta, &span, limits, call(ctx)).await;
    span.record_result(&result);
    result
}

/// Runs `run` as the action `meta` inside `span`, under `limits`.
pub(crate) fn guarded<T, F>(
    meta: &ActionMeta,
    span: &ActionSpan,
    limits: Limits,
    run: F,
) -> Guarded<impl Future<Output = std::thread::Result<Result<T, FlowError>>>>
where
    F: Future<Output = Result<T, FlowError>>,
{
    let run = span
        .scope
        .clone()
        .run(AssertUnwindSafe(run).catch_unwind())
        .instrument(span.span.clone());
    let (cancelled, cancel_error) = match limits.cancel {
        Some(cancel) => (Some(cancel.token.cancelled_owned()), cancel.error),
        None => (None, super::cancelled as fn() -> FlowError),
    };
    Guarded {
        run,
        deadline: limits.timeout.map(tokio::time::sleep),
        cancelled,
        kind: meta.kind,
        name: meta.name,
        timeout: limits.timeout,
        cancel_error,
        metrics: span.scope.telemetry.metrics().cloned(),
        started: Instant::now(),
    }
}

pin_project! {
    /// A run under its guard: one future, polled in place, so that a run's future holds the
    /// action's future once (the guard is on every request's path; its size matters).
    pub(crate) struct Guarded<F> {
        #[pin]
        run: F,
        #[pin]
        deadline: Option<Sleep>,
        #[pin]
        cancelled: Option<WaitForCancellationFutureOwned>,
        kind: ActionKind,
        name: &'static str,
        timeout: Option<Duration>,
        cancel_error: fn() -> FlowError,
        metrics: Option<Metrics>,
        started: Instant,
    }
}

impl<T, F> Future for Guarded<F>
where
    F: Future<Output = std::thread::Result<Result<T, FlowError>>>,
{
    type Output = Result<T, FlowError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let (kind, name) = (*this.kind, *this.name);
        let result = if let Poll::Ready(outcome) = this.run.poll(cx) {
            outcome.unwrap_or_else(|panic| {
                Err(FlowError::internal(format!(
                    "{kind} '{name}' panicked: {}",
                    panic_message(panic.as_ref())
                )))
            })
        } else if let Some(Poll::Ready(())) = this.cancelled.as_pin_mut().map(|c| c.poll(cx)) {
            Err((this.cancel_error)())
        } else if let Some(Poll::Ready(())) = this.deadline.as_pin_mut().map(|d| d.poll(cx)) {
            let limit = this.timeout.unwrap_or_default();
            Err(FlowError::deadline_exceeded(format!(
                "{kind} '{name}' did not finish within {limit:?}"
            )))
        } else {
            return Poll::Pending;
        };
        let status = result
            .as_ref()
            .map_or_else(FlowError::status, |_| Status::Ok);
        if let Some(metrics) = this.metrics {
            metrics.record_action(kind, name, status, this.started.elapsed());
        }
        Poll::Ready(result)
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string panic payload")
}
