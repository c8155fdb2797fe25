//! Genkit's `genkit:path` of nested actions and steps: `/{ragQuery,t:flow}/{retrieve,t:flowStep,s:flowStep}`.

use std::future::Future;
use std::sync::Arc;

use crate::ActionKind;

tokio::task_local! {
    static PATH: Arc<str>;
}

/// The path of the action or step being polled, if any.
pub(crate) fn current() -> Option<Arc<str>> {
    PATH.try_with(Arc::clone).ok()
}

/// The path segment of an action of `kind` called `name`.
pub(crate) fn action_segment(kind: ActionKind, name: &str) -> String {
    match kind {
        ActionKind::Flow => format!("{{{name},t:flow}}"),
        other => format!("{{{name},t:action,s:{other}}}"),
    }
}

/// The path segment of a flow step.
pub(crate) fn step_segment(name: &str) -> String {
    format!("{{{name},t:flowStep,s:flowStep}}")
}

/// The path of a child of the current action or step.
pub(crate) fn child(segment: &str) -> Arc<str> {
    match current() {
        Some(parent) => format!("{parent}/{segment}").into(),
        None => format!("/{segment}").into(),
    }
}

/// Runs `fut` with `path` as the current path.
pub(crate) fn scope<F: Future>(path: Arc<str>, fut: F) -> impl Future<Output = F::Output> {
    PATH.scope(path, fut)
}
