//! Genkit's `genkit:path` of nested actions and steps: `/{ragQuery,t:flow}/{retrieve,t:flowStep,s:flowStep}`.

use std::future::Future;
use std::sync::{Arc, OnceLock};

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

/// The path of a child of the current action or step. The path is a span attribute only, so
/// while nothing keeps spans it is left empty (nothing is formatted).
pub(crate) fn child(segment: impl FnOnce() -> String) -> Arc<str> {
    static EMPTY: OnceLock<Arc<str>> = OnceLock::new();
    if !super::spans_kept() {
        return Arc::clone(EMPTY.get_or_init(|| Arc::from("")));
    }
    match current() {
        Some(parent) => format!("{parent}/{}", segment()).into(),
        None => format!("/{}", segment()).into(),
    }
}

/// Runs `fut` with `path` as the current path.
pub(crate) fn scope<F: Future>(path: Arc<str>, fut: F) -> impl Future<Output = F::Output> {
    PATH.scope(path, fut)
}
