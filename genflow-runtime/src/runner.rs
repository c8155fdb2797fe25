//! Running one action: span, path, timeout, panic guard and metrics.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures::FutureExt;
use futures::future::Either;
use tracing::Instrument;

use crate::telemetry::{self, ActionSpan, metrics};
use crate::{Action, ActionMeta, FlowContext, FlowError, Status};

/// Runs a typed action under its guard, in a span of its own.
pub(crate) async fn run_typed<A: Action>(
    ctx: FlowContext<A::Chunk>,
    input: A::Input,
) -> Result<A::Output, FlowError> {
    let span = ActionSpan::new(&A::META, None);
    let result = guarded(&A::META, &span, A::call(ctx, input)).await;
    span.record_result(&result);
    result
}

/// Runs `fut` as the action `meta` inside `span`: under its timeout, with a panic turned into
/// an `INTERNAL` error, and counted in the metrics.
///
/// Built from combinators rather than as an `async fn`: an `async fn` would keep `fut` twice in
/// its state (as its argument and inside the timeout), doubling the size of every run's future.
pub(crate) fn guarded<T>(
    meta: &ActionMeta,
    span: &ActionSpan,
    fut: impl Future<Output = Result<T, FlowError>>,
) -> impl Future<Output = Result<T, FlowError>> {
    let (kind, name) = (meta.kind, meta.name);
    let started = Instant::now();
    let fut = telemetry::path_scope(span.path.clone(), AssertUnwindSafe(fut).catch_unwind())
        .instrument(span.span.clone());
    let bounded = match meta.timeout {
        Some(limit) => Either::Left(tokio::time::timeout(limit, fut).map(move |outcome| {
            outcome.unwrap_or_else(|_| {
                Ok(Err(FlowError::deadline_exceeded(format!(
                    "{kind} '{name}' did not finish within {limit:?}"
                ))))
            })
        })),
        None => Either::Right(fut),
    };
    bounded.map(move |outcome| {
        let result = outcome.unwrap_or_else(|panic| {
            Err(FlowError::internal(format!(
                "{kind} '{name}' panicked: {}",
                panic_message(panic.as_ref())
            )))
        });
        let status = result
            .as_ref()
            .map_or_else(FlowError::status, |_| Status::Ok);
        metrics::record_action(kind, name, status, started.elapsed());
        result
    })
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string panic payload")
}
