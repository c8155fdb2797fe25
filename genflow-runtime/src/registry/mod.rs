//! The action registry: every flow and tool of the binary, by kind and name, and the
//! application state they share. Running one goes through the [run pipeline](crate::run).

mod builder;
mod error;

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use crate::run::{self, DynAction, FlowEvents, Invocation, Run, RunOptions};
use crate::telemetry::TelemetryHandle;
use crate::{Action, ActionKind, FlowContext, FlowError, StateMap};

#[doc(hidden)]
pub use builder::Registration;
pub use builder::RegistryBuilder;
pub use error::RegistryError;

/// The actions of a registry, by kind, then by name.
type Actions = HashMap<ActionKind, HashMap<Box<str>, Arc<dyn DynAction>>>;

/// The checked set of actions and the application state they share. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    actions: Actions,
    state: Arc<StateMap>,
    telemetry: TelemetryHandle,
}

impl Registry {
    /// The action of `kind` called `name`.
    pub fn get(&self, kind: ActionKind, name: &str) -> Option<&Arc<dyn DynAction>> {
        self.actions.get(&kind)?.get(name)
    }

    /// The flow called `name`.
    pub fn flow(&self, name: &str) -> Option<&Arc<dyn DynAction>> {
        self.get(ActionKind::Flow, name)
    }

    /// Every action, sorted by kind and name.
    pub fn actions(&self) -> Vec<&Arc<dyn DynAction>> {
        let mut all: Vec<_> = self.actions.values().flat_map(HashMap::values).collect();
        all.sort_by_key(|a| (a.meta().kind, a.meta().name));
        all
    }

    /// Every action of one kind, sorted by name.
    pub fn actions_of(&self, kind: ActionKind) -> Vec<&Arc<dyn DynAction>> {
        let mut some: Vec<_> = self
            .actions
            .get(&kind)
            .into_iter()
            .flat_map(HashMap::values)
            .collect();
        some.sort_by_key(|a| a.meta().name);
        some
    }

    /// The telemetry every run of the registry records into.
    pub fn telemetry(&self) -> &TelemetryHandle {
        &self.telemetry
    }

    /// A context carrying the registry's state and telemetry, for direct calls.
    pub fn context(&self) -> FlowContext {
        self.context_with(None)
    }

    fn context_with<C>(&self, auth: Option<Arc<dyn Any + Send + Sync>>) -> FlowContext<C> {
        FlowContext::from_registry(Arc::clone(&self.state), auth, self.telemetry.clone())
    }

    /// Runs the flow `name` on JSON input: validates against the input schema, decodes (errors
    /// name the JSON path), runs under the flow's timeout and panic guard, encodes the output.
    pub async fn run(&self, name: &str, input: Value) -> Result<Value, FlowError> {
        self.run_with(name, input, RunOptions::default()).await
    }

    /// [`Registry::run`] with options.
    pub async fn run_with(
        &self,
        name: &str,
        input: Value,
        options: RunOptions,
    ) -> Result<Value, FlowError> {
        self.start(name, input, options)?.future.await
    }

    /// Opens the span of a run of the flow `name` and returns the run, so that its trace ids
    /// are known (for response headers) before it is polled.
    pub fn start(&self, name: &str, input: Value, options: RunOptions) -> Result<Run, FlowError> {
        self.start_action(ActionKind::Flow, name, input, options)
    }

    /// [`Registry::start`] for an action of any kind (a tool run from a developer tool or
    /// another protocol).
    pub fn start_action(
        &self,
        kind: ActionKind,
        name: &str,
        input: Value,
        options: RunOptions,
    ) -> Result<Run, FlowError> {
        let action = self.resolve(kind, name)?;
        Ok(action.start(self.invocation(input, options)))
    }

    /// Runs the flow `name`, yielding its chunks and then its result. Dropping the stream
    /// cancels the flow.
    ///
    /// The input is checked against the flow's schema before the stream starts, so a caller
    /// learns of invalid input before any event (an HTTP server answers 400, not a stream).
    pub fn stream(
        &self,
        name: &str,
        input: Value,
        options: RunOptions,
    ) -> Result<FlowEvents, FlowError> {
        self.resolve(ActionKind::Flow, name)?
            .schemas()
            .validate_input(&input)?;
        self.stream_action(ActionKind::Flow, name, input, options)
    }

    /// [`Registry::stream`] for an action of any kind (a tool run from a developer tool). The
    /// input is validated once the run has started, so invalid input is the stream's result,
    /// after its trace ids are known.
    pub fn stream_action(
        &self,
        kind: ActionKind,
        name: &str,
        input: Value,
        options: RunOptions,
    ) -> Result<FlowEvents, FlowError> {
        let action = self.resolve(kind, name)?;
        Ok(FlowEvents::start(
            action.as_ref(),
            self.invocation(input, options),
        ))
    }

    /// Runs a typed action in-process with the registry's state, under its timeout and panic
    /// guard (no JSON round trip).
    pub async fn call<A: Action>(&self, input: A::Input) -> Result<A::Output, FlowError> {
        run::run_typed::<A>(self.context_with(None), input).await
    }

    /// The action of `kind` called `name`, or `NOT_FOUND`.
    fn resolve(&self, kind: ActionKind, name: &str) -> Result<&Arc<dyn DynAction>, FlowError> {
        self.get(kind, name)
            .ok_or_else(|| FlowError::not_found(format!("no {kind} named '{name}'")))
    }

    fn invocation(&self, input: Value, options: RunOptions) -> Invocation {
        let RunOptions {
            auth,
            parent,
            default_timeout,
            cancel,
        } = options;
        let ctx = self.context_with(auth);
        Invocation {
            parent,
            default_timeout,
            cancel,
            ..Invocation::new(ctx, input)
        }
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.actions().iter().map(|a| a.meta().key()))
            .finish()
    }
}
