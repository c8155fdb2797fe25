//! What nested work of a run knows without being told: the run's telemetry and Genkit's
//! `genkit:path` of the action or step being polled
//! (`/{ragQuery,t:flow}/{retrieve,t:flowStep,s:flowStep}`).

use std::future::Future;
use std::sync::{Arc, LazyLock};

use super::TelemetryHandle;
use crate::ActionKind;

tokio::task_local! {
    static SCOPE: Scope;
}

/// The telemetry and path of the action or step being polled.
#[derive(Clone)]
pub(crate) struct Scope {
    pub(crate) telemetry: TelemetryHandle,
    pub(crate) path: Arc<str>,
}

impl Scope {
    /// The scope of a child of the current action or step, in `telemetry`, called `segment`.
    /// The path is a span attribute only, so while nothing keeps spans it is left empty
    /// (nothing is formatted).
    pub(crate) fn child(telemetry: &TelemetryHandle, segment: impl FnOnce() -> String) -> Scope {
        static EMPTY: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(""));
        let path = if !telemetry.keeps_spans() {
            Arc::clone(&EMPTY)
        } else {
            match current_path() {
                Some(parent) => format!("{parent}/{}", segment()).into(),
                None => format!("/{}", segment()).into(),
            }
        };
        Scope {
            telemetry: telemetry.clone(),
            path,
        }
    }

    /// Runs `fut` in this scope.
    pub(crate) fn run<F: Future>(self, fut: F) -> impl Future<Output = F::Output> {
        SCOPE.scope(self, fut)
    }
}

/// The path of the action or step being polled, if any.
pub(crate) fn current_path() -> Option<Arc<str>> {
    SCOPE.try_with(|scope| Arc::clone(&scope.path)).ok()
}

/// The telemetry of the run being polled, or the detached one outside any run.
#[cfg(feature = "models")]
pub(crate) fn current_telemetry() -> TelemetryHandle {
    SCOPE
        .try_with(|scope| scope.telemetry.clone())
        .unwrap_or_else(|_| TelemetryHandle::detached())
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
