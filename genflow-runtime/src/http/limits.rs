//! The global concurrency limit with load shedding, built from tower's layers.

use std::convert::Infallible;
use std::future::{Future, pending};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::future::BoxFuture;
use tower::{BoxError, ServiceBuilder, ServiceExt, service_fn};

use super::errors::HttpError;
use crate::FlowError;
use crate::telemetry::metrics;

/// How long a shed caller is told to wait (`Retry-After`).
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// A future that resolves once the slot it holds is free again: never, until dropped.
type Held = BoxFuture<'static, Result<(), BoxError>>;

/// Admits at most `max` flow requests at once and sheds the rest.
///
/// A tower `LoadShed` over a `ConcurrencyLimit` over a service that never completes: calling it
/// takes a slot and holds it for as long as the call's future lives. The slot is held by the
/// request (and, for a stream, by its body) rather than by the handler, so a long stream counts
/// until its last frame.
#[derive(Clone)]
pub(crate) struct Gate {
    service: tower::util::BoxCloneSyncService<(), (), BoxError>,
}

/// One admitted request's slot; dropping it frees the slot.
pub(crate) struct Slot {
    _held: Held,
}

impl Gate {
    /// A gate admitting `max` requests at once.
    pub(crate) fn new(max: usize) -> Self {
        let service = ServiceBuilder::new()
            .load_shed()
            .concurrency_limit(max.max(1))
            .service(service_fn(|()| pending::<Result<(), Infallible>>()));
        Gate {
            service: tower::util::BoxCloneSyncService::new(service),
        }
    }

    /// Takes a slot, or answers 503 `UNAVAILABLE` with `Retry-After` when none is free.
    pub(crate) fn admit(&self) -> Result<Slot, HttpError> {
        let mut held: Held = Box::pin(self.service.clone().oneshot(()));
        // One poll runs `poll_ready` and `call`: an overloaded gate answers at once, an admitted
        // call stays pending forever, holding its permit.
        match Pin::new(&mut held).poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Pending => Ok(Slot { _held: held }),
            Poll::Ready(_) => {
                metrics::load_shed();
                Err(HttpError::from(FlowError::unavailable(
                    "the server is at its concurrency limit; retry later",
                ))
                .retry_after(RETRY_AFTER))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_held_until_dropped() {
        let gate = Gate::new(2);
        let first = gate.admit().ok();
        let second = gate.admit().ok();
        assert!(first.is_some() && second.is_some());
        assert!(gate.admit().is_err(), "a third request is shed");
        drop(first);
        assert!(gate.admit().is_ok(), "a freed slot admits again");
    }
}
