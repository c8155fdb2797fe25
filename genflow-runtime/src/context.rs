//! The context a flow or tool runs in: state, auth, the chunk sink and traced steps.

use std::any::Any;
use std::future::Future;
use std::sync::Arc;

use futures::future::join_all;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;
use tracing::Instrument;

use crate::contract::IntoFlowError;
use crate::run;
use crate::telemetry::{self, TelemetryHandle};
use crate::{Action, FlowError, State, StateMap};

/// What a flow or tool receives as its optional first parameter, `ctx: &FlowContext`.
///
/// `C` is the chunk type of a streaming flow (`#[flow(stream = C)]` takes `&FlowContext<C>`);
/// everything else takes `&FlowContext` (`C = ()`). Cloning is cheap.
///
/// To unit-test a flow, build a context by hand: `rag_query(&FlowContext::new(), input)`.
pub struct FlowContext<C = ()> {
    shared: Arc<Shared>,
    sink: ChunkSink<C>,
}

#[derive(Clone, Default)]
struct Shared {
    state: Arc<StateMap>,
    auth: Option<Arc<dyn Any + Send + Sync>>,
    telemetry: TelemetryHandle,
}

enum ChunkSink<C> {
    None,
    Typed(mpsc::Sender<C>),
    Json(mpsc::Sender<Value>),
}

impl<C> Clone for ChunkSink<C> {
    fn clone(&self) -> Self {
        match self {
            ChunkSink::None => ChunkSink::None,
            ChunkSink::Typed(tx) => ChunkSink::Typed(tx.clone()),
            ChunkSink::Json(tx) => ChunkSink::Json(tx.clone()),
        }
    }
}

impl<C> Clone for FlowContext<C> {
    fn clone(&self) -> Self {
        FlowContext {
            shared: Arc::clone(&self.shared),
            sink: self.sink.clone(),
        }
    }
}

impl<C> Default for FlowContext<C> {
    fn default() -> Self {
        FlowContext {
            shared: Arc::default(),
            sink: ChunkSink::None,
        }
    }
}

impl FlowContext {
    /// An empty context: no state, no auth, not streaming.
    pub fn new() -> Self {
        FlowContext::default()
    }
}

impl<C> FlowContext<C> {
    /// A streaming context for tests and in-process callers: chunks the flow sends arrive on the
    /// returned receiver (at most `capacity` buffered before the flow waits).
    pub fn streaming(capacity: usize) -> (Self, mpsc::Receiver<C>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let ctx = FlowContext {
            shared: Arc::default(),
            sink: ChunkSink::Typed(tx),
        };
        (ctx, rx)
    }

    pub(crate) fn from_registry(
        state: Arc<StateMap>,
        auth: Option<Arc<dyn Any + Send + Sync>>,
        telemetry: TelemetryHandle,
    ) -> Self {
        FlowContext {
            shared: Arc::new(Shared {
                state,
                auth,
                telemetry,
            }),
            sink: ChunkSink::None,
        }
    }

    /// The telemetry the run records into.
    pub(crate) fn telemetry(&self) -> &TelemetryHandle {
        &self.shared.telemetry
    }

    /// The same state and auth with chunks of another type sent as JSON into `sink`.
    pub(crate) fn with_json_sink<D>(&self, sink: Option<mpsc::Sender<Value>>) -> FlowContext<D> {
        FlowContext {
            shared: Arc::clone(&self.shared),
            sink: sink.map_or(ChunkSink::None, ChunkSink::Json),
        }
    }

    /// Adds application state (for tests and direct calls; services provide state through
    /// [`RegistryBuilder::state`](crate::RegistryBuilder::state)).
    #[must_use]
    pub fn with_state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        let shared = Arc::make_mut(&mut self.shared);
        Arc::make_mut(&mut shared.state).insert(value);
        self
    }

    /// Sets the auth context (what an auth provider produced for this request).
    #[must_use]
    pub fn with_auth<T: Send + Sync + 'static>(mut self, auth: T) -> Self {
        Arc::make_mut(&mut self.shared).auth = Some(Arc::new(auth));
        self
    }

    /// Application state of type `T`, if provided. Prefer a `State<T>` parameter: the registry
    /// checks those when it is built.
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.shared.state.get::<T>()
    }

    /// Application state of type `T`: the provided value, else a default `init` makes on
    /// first use, shared by every run of the registry (or by this context's clones, for a
    /// context made by hand).
    pub fn state_or_init<T: Send + Sync + 'static>(&self, init: impl FnOnce() -> T) -> Arc<T> {
        self.shared.state.get_or_init(init)
    }

    /// The auth context of type `T` an auth provider produced for this request, if any.
    pub fn auth<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.shared.auth.as_deref()?.downcast_ref::<T>()
    }

    /// Whether a caller is listening for chunks.
    pub fn is_streaming(&self) -> bool {
        !matches!(self.sink, ChunkSink::None)
    }

    /// Sends one chunk to the streaming caller, waiting while its buffer is full.
    ///
    /// Without a listener this does nothing. Fails with `CANCELLED` when the listener has gone
    /// (the flow may stop early) and with `INTERNAL` when the chunk does not serialize.
    pub async fn send_chunk(&self, chunk: C) -> Result<(), FlowError>
    where
        C: Serialize,
    {
        let gone = || FlowError::cancelled("the stream's receiver has gone away");
        match &self.sink {
            ChunkSink::None => Ok(()),
            ChunkSink::Typed(tx) => tx.send(chunk).await.map_err(|_| gone()),
            ChunkSink::Json(tx) => {
                let json = serde_json::to_value(chunk)
                    .map_err(|e| FlowError::internal(format!("chunk does not serialize: {e}")))?;
                tx.send(json).await.map_err(|_| gone())
            }
        }
    }

    /// The same state and auth, without the chunk sink: what tools and nested actions take.
    pub fn without_stream(&self) -> FlowContext {
        FlowContext {
            shared: Arc::clone(&self.shared),
            sink: ChunkSink::None,
        }
    }

    /// Runs `step` as a named, traced sub-step of the current flow.
    pub async fn run<T, E: IntoFlowError>(
        &self,
        name: &str,
        step: impl Future<Output = Result<T, E>>,
    ) -> Result<T, FlowError> {
        let (span, scope) = telemetry::step_span(&self.shared.telemetry, name);
        let result = scope
            .run(step)
            .instrument(span.clone())
            .await
            .map_err(IntoFlowError::into_flow_error);
        telemetry::record_step(&span, &result);
        result
    }

    /// Runs steps concurrently and waits for all of them. Returns every output in order, or, if
    /// any failed, one error listing every failure. Dropping the returned future cancels them.
    pub async fn all<T, F>(&self, steps: impl IntoIterator<Item = F>) -> Result<Vec<T>, FlowError>
    where
        F: Future<Output = Result<T, FlowError>>,
    {
        let results = join_all(steps).await;
        let mut outputs = Vec::with_capacity(results.len());
        let mut errors = Vec::new();
        for result in results {
            match result {
                Ok(v) => outputs.push(v),
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(outputs)
        } else {
            Err(FlowError::aggregate(errors))
        }
    }

    /// Calls another non-streaming action (typically a tool) as a traced step, with its timeout
    /// and panic guard.
    pub async fn call<A: Action<Chunk = ()>>(
        &self,
        input: A::Input,
    ) -> Result<A::Output, FlowError> {
        run::run_typed::<A>(self.without_stream(), input).await
    }

    /// Extracts a `State<T>` parameter; used by the generated code.
    #[doc(hidden)]
    pub fn __state_param<T: Send + Sync + 'static>(&self) -> Result<State<T>, FlowError> {
        self.state::<T>().map(State).ok_or_else(|| {
            FlowError::internal(format!(
                "no application state of type `{}` was provided to the registry",
                std::any::type_name::<T>()
            ))
        })
    }
}

impl<C> std::fmt::Debug for FlowContext<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowContext")
            .field("state", &self.shared.state)
            .field("authenticated", &self.shared.auth.is_some())
            .field("streaming", &self.is_streaming())
            .finish()
    }
}
