//! The life cycle of a server: serving, draining (not ready, finishing in-flight work), then
//! stopped (runs still going are cancelled).

use std::sync::Arc;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::FlowError;
use crate::run::Cancellation;

/// Where a server is in its life cycle. Ordered: a server only moves forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Serving,
    Draining,
}

/// A handle that shuts a [`FlowServer`](super::FlowServer) down; cheap to clone.
///
/// [`Shutdown::shutdown`] starts a graceful shutdown: readiness turns to 503, [`serve`](super::serve)
/// stops accepting connections and in-flight requests may finish within the grace period. When
/// it ends, open streams receive a terminal `UNAVAILABLE` frame and unfinished requests answer
/// 503.
#[derive(Clone, Debug)]
pub struct Shutdown {
    phase: Arc<watch::Sender<Phase>>,
    /// Cancelled when the grace period ends: every run started under it ends then.
    stopped: CancellationToken,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            phase: Arc::new(watch::Sender::new(Phase::Serving)),
            stopped: CancellationToken::new(),
        }
    }
}

impl Shutdown {
    /// Starts a graceful shutdown. Calling it again does nothing.
    pub fn shutdown(&self) {
        self.advance(Phase::Draining);
    }

    /// Whether a shutdown has started.
    pub fn is_shutting_down(&self) -> bool {
        *self.phase.borrow() >= Phase::Draining
    }

    /// Ends the grace period: every open stream and request ends now.
    pub(crate) fn stop(&self) {
        self.stopped.cancel();
    }

    /// What ends a run at the end of the grace period: `UNAVAILABLE`, "server shutting down".
    pub(crate) fn cancellation(&self) -> Cancellation {
        Cancellation::new(self.stopped.clone())
            .with_error(|| FlowError::unavailable("server shutting down"))
    }

    /// Resolves when a shutdown has started.
    pub(crate) async fn draining(&self) {
        self.reached(Phase::Draining).await;
    }

    fn advance(&self, to: Phase) {
        self.phase.send_if_modified(|phase| {
            let later = to > *phase;
            if later {
                *phase = to;
            }
            later
        });
    }

    async fn reached(&self, phase: Phase) {
        // The sender lives as long as `self`, so waiting cannot fail.
        let _ = self.phase.subscribe().wait_for(|now| *now >= phase).await;
    }
}
