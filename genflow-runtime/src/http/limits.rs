//! The global concurrency limit with load shedding: a semaphore whose permits are taken without
//! waiting.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::FlowError;
use crate::telemetry::TelemetryHandle;

/// How long a shed caller is told to wait (`Retry-After`).
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Admits at most `max` flow requests at once and sheds the rest.
///
/// The slot is held by the request (and, for a stream, by its body) rather than by the
/// handler, so a long stream counts until its last frame.
#[derive(Clone)]
pub(crate) struct Gate {
    permits: Arc<Semaphore>,
    telemetry: TelemetryHandle,
}

/// One admitted request's slot; dropping it frees the slot.
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
}

impl Gate {
    /// A gate admitting `max` requests at once, counting the shed ones in `telemetry`.
    pub(crate) fn new(max: usize, telemetry: TelemetryHandle) -> Self {
        Gate {
            permits: Arc::new(Semaphore::new(max.clamp(1, Semaphore::MAX_PERMITS))),
            telemetry,
        }
    }

    /// Takes a slot, or fails with `UNAVAILABLE` and a retry delay (503 with `Retry-After`
    /// over HTTP) when none is free.
    pub(crate) fn admit(&self) -> Result<Slot, FlowError> {
        match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => Ok(Slot { _permit: permit }),
            Err(_) => {
                self.telemetry.load_shed();
                Err(
                    FlowError::unavailable("the server is at its concurrency limit; retry later")
                        .with_retry_after(RETRY_AFTER),
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_held_until_dropped() {
        let gate = Gate::new(2, TelemetryHandle::detached());
        let first = gate.admit().ok();
        let second = gate.admit().ok();
        assert!(first.is_some() && second.is_some());
        assert!(gate.admit().is_err(), "a third request is shed");
        drop(first);
        assert!(gate.admit().is_ok(), "a freed slot admits again");
    }
}
