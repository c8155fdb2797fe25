//! Running one action: tracing span, timeout and panic guard.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use tracing::Instrument;

use crate::{Action, ActionMeta, FlowContext, FlowError};

/// Runs a typed action under its guard.
pub(crate) async fn run_typed<A: Action>(
    ctx: FlowContext<A::Chunk>,
    input: A::Input,
) -> Result<A::Output, FlowError> {
    guarded(&A::META, A::call(ctx, input)).await
}

/// Runs `fut` as the action `meta`: inside its span, under its timeout, with a panic turned into
/// an `INTERNAL` error.
pub(crate) async fn guarded<T>(
    meta: &ActionMeta,
    fut: impl Future<Output = Result<T, FlowError>>,
) -> Result<T, FlowError> {
    let span = tracing::info_span!(
        "genflow.action",
        "genkit:name" = meta.name,
        "genkit:type" = "action",
        "genkit:metadata:subtype" = meta.kind.as_str(),
    );
    let fut = AssertUnwindSafe(fut).catch_unwind();
    let outcome = match meta.timeout {
        Some(limit) => match tokio::time::timeout(limit, fut).instrument(span).await {
            Ok(outcome) => outcome,
            Err(_) => {
                return Err(FlowError::deadline_exceeded(format!(
                    "{} '{}' did not finish within {limit:?}",
                    meta.kind, meta.name
                )));
            }
        },
        None => fut.instrument(span).await,
    };
    outcome.unwrap_or_else(|panic| {
        Err(FlowError::internal(format!(
            "{} '{}' panicked: {}",
            meta.kind,
            meta.name,
            panic_message(panic.as_ref())
        )))
    })
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string panic payload")
}
