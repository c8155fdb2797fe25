//! The action registry: every flow and tool of the binary, found at link time or added by hand.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::events::FlowEvents;
use crate::runner;
use crate::schema::decode;
use crate::telemetry::{ActionSpan, SpanIds, TraceParent};
use crate::{
    Action, ActionKind, ActionMeta, ActionSchemas, FlowContext, FlowError, SourceLocation, StateMap,
};

/// One run of an erased action: what [`DynAction::start`] takes.
pub struct Call {
    /// State and auth of the run.
    pub ctx: FlowContext,
    /// The JSON input, validated and decoded by the action.
    pub input: Value,
    /// Where chunks go, as JSON, for a streaming run.
    pub chunks: Option<mpsc::Sender<Value>>,
    /// The caller's span in another service (W3C `traceparent`), joined as the parent.
    pub parent: Option<TraceParent>,
}

/// A run whose span is open: its trace ids are known before it is polled.
pub struct Started {
    /// The run's trace and span ids, when telemetry is installed.
    pub ids: Option<SpanIds>,
    /// The run; dropping it cancels the action.
    pub future: BoxFuture<'static, Result<Value, FlowError>>,
}

/// An action with its types erased to JSON: what the registry stores and the HTTP layer serves.
///
/// Every [`Action`] is one; other kinds (such as models configured at run time) may implement it
/// directly.
pub trait DynAction: Any + Send + Sync {
    /// Name, kind, description and limits.
    fn meta(&self) -> &ActionMeta;

    /// The cached schemas.
    fn schemas(&self) -> &ActionSchemas;

    /// Opens the run's span, then returns the run: validate and decode the input, run under the
    /// action's guard, encode the output.
    fn start(&self, call: Call) -> Started;

    /// [`DynAction::start`] without chunks or a remote parent.
    fn invoke(
        &self,
        ctx: FlowContext,
        input: Value,
        chunks: Option<mpsc::Sender<Value>>,
    ) -> BoxFuture<'static, Result<Value, FlowError>> {
        self.start(Call {
            ctx,
            input,
            chunks,
            parent: None,
        })
        .future
    }
}

impl<A: Action> DynAction for A {
    fn meta(&self) -> &ActionMeta {
        &A::META
    }

    fn schemas(&self) -> &ActionSchemas {
        A::schemas()
    }

    fn start(&self, call: Call) -> Started {
        let span = ActionSpan::new(&A::META, call.parent.as_ref());
        span.record_input(&call.input);
        let ids = span.ids();
        let future = Box::pin(async move {
            let result = run_json::<A>(&span, call).await;
            span.record_result(&result);
            result
        });
        Started { ids, future }
    }
}

async fn run_json<A: Action>(span: &ActionSpan, call: Call) -> Result<Value, FlowError> {
    let Call {
        ctx, input, chunks, ..
    } = call;
    let run = async {
        A::schemas().validate_input(&input)?;
        let input: A::Input = decode(input)?;
        A::call(ctx.with_json_sink(chunks), input).await
    };
    let output = runner::guarded(&A::META, span, run).await?;
    serde_json::to_value(output).map_err(|e| {
        FlowError::internal(format!(
            "output of '{}' does not serialize: {e}",
            A::META.name
        ))
    })
}

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

/// Why a registry could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// Two different actions share a kind and name.
    #[error(
        "duplicate {kind} name '{name}': defined at {first} and at {second}; give one of them another `name = \"...\"`"
    )]
    DuplicateName {
        /// The kind.
        kind: ActionKind,
        /// The shared name.
        name: String,
        /// Where the first definition is.
        first: SourceLocation,
        /// Where the second definition is.
        second: SourceLocation,
    },
    /// An action takes `State<T>` but no `T` was provided.
    #[error(
        "{kind} '{name}' (at {location}) takes `State<{type_name}>`, but no `{type_name}` was provided; call `.state(...)` on the registry builder"
    )]
    MissingState {
        /// The kind.
        kind: ActionKind,
        /// The action's name.
        name: String,
        /// Where it is defined.
        location: SourceLocation,
        /// The missing state type.
        type_name: &'static str,
    },
    /// An input schema does not compile into a validator.
    #[error("{kind} '{name}' has an input schema that does not compile: {reason}")]
    InvalidSchema {
        /// The kind.
        kind: ActionKind,
        /// The action's name.
        name: String,
        /// The validator's complaint.
        reason: String,
    },
}

/// Collects actions and application state, then checks them into a [`Registry`].
pub struct RegistryBuilder {
    actions: Vec<Arc<dyn DynAction>>,
    state: StateMap,
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

    /// Whether state of type `T` was provided.
    pub fn has_state<T: Send + Sync + 'static>(&self) -> bool {
        self.state.contains(std::any::TypeId::of::<T>())
    }

    /// Checks names, state and schemas, and builds the registry. Schemas are generated here,
    /// at start-up, not on the first request.
    pub fn build(self) -> Result<Registry, RegistryError> {
        let mut by_kind: HashMap<ActionKind, HashMap<Box<str>, Arc<dyn DynAction>>> =
            HashMap::new();
        for action in self.actions {
            let meta = *action.meta();
            let names = by_kind.entry(meta.kind).or_default();
            if let Some(existing) = names.get(meta.name) {
                if same_type(existing.as_ref(), action.as_ref()) {
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
            actions: by_kind,
            state: Arc::new(self.state),
        })
    }
}

fn same_type(a: &dyn DynAction, b: &dyn DynAction) -> bool {
    let a: &dyn Any = a;
    let b: &dyn Any = b;
    a.type_id() == b.type_id()
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

/// Options of one run through the registry.
#[derive(Default)]
pub struct RunOptions {
    /// The auth context an auth provider produced, read by flows with `ctx.auth::<T>()`.
    pub auth: Option<Arc<dyn Any + Send + Sync>>,
    /// The caller's span in another service, joined as the parent of the run's span.
    pub parent: Option<TraceParent>,
}

/// The checked set of actions and the application state they share. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    actions: HashMap<ActionKind, HashMap<Box<str>, Arc<dyn DynAction>>>,
    state: Arc<StateMap>,
}

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
        }
    }

    /// A builder holding nothing: add every action by hand.
    pub fn manual() -> RegistryBuilder {
        RegistryBuilder {
            actions: Vec::new(),
            state: StateMap::default(),
        }
    }

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

    /// A context carrying the registry's state, for direct calls.
    pub fn context(&self) -> FlowContext {
        FlowContext::from_registry(Arc::clone(&self.state), None)
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
    pub fn start(
        &self,
        name: &str,
        input: Value,
        options: RunOptions,
    ) -> Result<Started, FlowError> {
        let flow = self.flow_or_not_found(name)?;
        let parent = options.parent;
        Ok(flow.start(Call {
            ctx: self.context_for(options),
            input,
            chunks: None,
            parent,
        }))
    }

    /// Runs the flow `name`, yielding its chunks and then its result. Dropping the stream
    /// cancels the flow.
    pub fn stream(
        &self,
        name: &str,
        input: Value,
        options: RunOptions,
    ) -> Result<FlowEvents, FlowError> {
        let flow = self.flow_or_not_found(name)?;
        let parent = options.parent;
        Ok(FlowEvents::start(
            flow.as_ref(),
            self.context_for(options),
            input,
            parent,
        ))
    }

    /// Runs a typed action in-process with the registry's state, under its timeout and panic
    /// guard (no JSON round trip).
    pub async fn call<A: Action>(&self, input: A::Input) -> Result<A::Output, FlowError> {
        let ctx = FlowContext::from_registry(Arc::clone(&self.state), None);
        runner::run_typed::<A>(ctx, input).await
    }

    fn flow_or_not_found(&self, name: &str) -> Result<&Arc<dyn DynAction>, FlowError> {
        self.flow(name)
            .ok_or_else(|| FlowError::not_found(format!("no flow named '{name}'")))
    }

    fn context_for(&self, options: RunOptions) -> FlowContext {
        FlowContext::from_registry(Arc::clone(&self.state), options.auth)
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.actions().iter().map(|a| a.meta().key()))
            .finish()
    }
}
