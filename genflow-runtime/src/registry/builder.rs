//! Collecting actions (found at link time or added by hand) and state, and checking them into
//! a [`Registry`].

use std::sync::Arc;

use super::{Actions, Registry, RegistryError};
use crate::run::DynAction;
use crate::telemetry::TelemetryHandle;
use crate::{Action, ActionMeta, SourceLocation, StateMap};

/// A link-time registration emitted by `#[flow]` and `#[tool]`.
#[doc(hidden)]
pub struct Registration {
    make: fn() -> Arc<dyn DynAction>,
}

impl Registration {
    /// The registration of the unit-struct handle `A`.
    pub const fn of<A: Action + Default>() -> Self {
        Registration {
            make: make_action::<A>,
        }
    }
}

fn make_action<A: Action + Default>() -> Arc<dyn DynAction> {
    Arc::new(A::default())
}

inventory::collect!(Registration);

impl Registry {
    /// A builder holding every `#[flow]` and `#[tool]` linked into the binary.
    pub fn builder() -> RegistryBuilder {
        let actions = inventory::iter::<Registration>
            .into_iter()
            .map(|r| (r.make)())
            .collect();
        RegistryBuilder {
            actions,
            state: StateMap::default(),
            telemetry: TelemetryHandle::detached(),
        }
    }

    /// A builder holding nothing: add every action by hand.
    pub fn manual() -> RegistryBuilder {
        RegistryBuilder {
            actions: Vec::new(),
            state: StateMap::default(),
            telemetry: TelemetryHandle::detached(),
        }
    }
}

/// Collects actions and application state, then checks them into a [`Registry`].
pub struct RegistryBuilder {
    actions: Vec<Arc<dyn DynAction>>,
    state: StateMap,
    telemetry: TelemetryHandle,
}

impl RegistryBuilder {
    /// Adds an action by hand. Adding an action that is already present (for example one that
    /// was also discovered) is a no-op.
    #[must_use]
    pub fn register(mut self, action: impl DynAction) -> Self {
        self.actions.push(Arc::new(action));
        self
    }

    /// Adds a shared action by hand.
    #[must_use]
    pub fn register_arc(mut self, action: Arc<dyn DynAction>) -> Self {
        self.actions.push(action);
        self
    }

    /// Provides application state of type `T` to every action (`State<T>` parameters and
    /// `ctx.state::<T>()`).
    #[must_use]
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// Records every run of the registry, and every request of its servers, into `telemetry`
    /// (by default [`TelemetryHandle::detached`]: no metrics, no trace store, spans left to the
    /// application's subscriber).
    #[must_use]
    pub fn telemetry(mut self, telemetry: TelemetryHandle) -> Self {
        self.telemetry = telemetry;
        self
    }

    /// Whether state of type `T` was provided.
    pub fn has_state<T: Send + Sync + 'static>(&self) -> bool {
        self.state.contains(std::any::TypeId::of::<T>())
    }

    /// The state of type `T` provided so far.
    #[cfg(all(feature = "server", feature = "models"))]
    pub(crate) fn state_of<T: Send + Sync + 'static>(&self) -> Option<std::sync::Arc<T>> {
        self.state.get::<T>()
    }

    /// Checks names, state and schemas, and builds the registry. Schemas are generated here,
    /// at start-up, not on the first request.
    pub fn build(self) -> Result<Registry, RegistryError> {
        let mut actions = Actions::new();
        for action in self.actions {
            let meta = *action.meta();
            let names = actions.entry(meta.kind).or_default();
            if let Some(existing) = names.get(meta.name) {
                if existing.same_as(action.as_ref()) {
                    continue;
                }
                let (first, second) = ordered(existing.meta().location, meta.location);
                return Err(RegistryError::DuplicateName {
                    kind: meta.kind,
                    name: meta.name.to_owned(),
                    first,
                    second,
                });
            }
            check(&meta, action.as_ref(), &self.state)?;
            names.insert(meta.name.into(), action);
        }
        Ok(Registry {
            actions,
            state: Arc::new(self.state),
            telemetry: self.telemetry,
        })
    }
}

/// Orders two locations so that errors read the same whatever the link order.
fn ordered(a: SourceLocation, b: SourceLocation) -> (SourceLocation, SourceLocation) {
    if (a.file, a.line) <= (b.file, b.line) {
        (a, b)
    } else {
        (b, a)
    }
}

fn check(meta: &ActionMeta, action: &dyn DynAction, state: &StateMap) -> Result<(), RegistryError> {
    if let Some(missing) = meta.state.iter().find(|req| !state.contains(req.id())) {
        return Err(RegistryError::MissingState {
            kind: meta.kind,
            name: meta.name.to_owned(),
            location: meta.location,
            type_name: missing.name(),
        });
    }
    if let Some(reason) = action.schemas().validator_error() {
        return Err(RegistryError::InvalidSchema {
            kind: meta.kind,
            name: meta.name.to_owned(),
            reason: reason.to_owned(),
        });
    }
    Ok(())
}
