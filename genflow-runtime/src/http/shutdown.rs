//! The life cycle of a server: serving, draining (not ready, finishing in-flight work), then
//! stopped (runs still going are cancelled).

use tokio_util::sync::CancellationToken;

use crate::FlowError;
use crate::run::Cancellation;

/// A handle that shuts a [`FlowServer`](super::FlowServer) down; cheap to clone.
///
/// [`Shutdown::shutdown`] starts a graceful shutdown: readiness turns to 503, [`serve`](super::serve)
/// stops accepting connections and in-flight requests may finish within the grace period. When
/// it ends, open streams receive a terminal `UNAVAILABLE` frame and unfinished requests answer
/// 503.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    /// Cancelled when a shutdown starts: readiness turns to 503.
    draining: CancellationToken,
    /// Cancelled when the grace period ends: every run started under it ends then.
    stopped: CancellationToken,
}

impl Shutdown {
    /// Starts a graceful shutdown. Calling it again does nothing.
    pub fn shutdown(&self) {
        self.draining.cancel();
    }

    /// Whether a shutdown has started.
    pub fn is_shutting_down(&self) -> bool {
        self.draining.is_cancelled()
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

    /// The token cancelled at the end of the grace period.
    #[cfg(feature = "mcp")]
    pub(crate) fn stopped_token(&self) -> CancellationToken {
        self.stopped.clone()
    }

    /// Resolves when a shutdown has started.
    pub(crate) async fn draining(&self) {
        self.draining.cancelled().await;
    }
}
