//! Actions: the typed units the registry runs (flows, tools, and later models, retrievers, ...).

use std::any::TypeId;
use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::contract::{FlowInput, FlowOutput, StreamChunk};
use crate::{ActionSchemas, FlowContext, FlowError};

/// The kind of an action. The Genkit registry key of an action is `/<kind>/<name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ActionKind {
    /// A flow: a typed, traced entry point served over HTTP.
    Flow,
    /// A tool a model may call.
    Tool,
    /// A model provider.
    Model,
    /// A prompt template.
    Prompt,
    /// A text embedder.
    Embedder,
    /// A document retriever.
    Retriever,
    /// A document indexer.
    Indexer,
    /// An evaluator.
    Evaluator,
    /// A utility action.
    Util,
}

impl ActionKind {
    /// The kind as Genkit spells it in registry keys and span attributes.
    pub const fn as_str(self) -> &'static str {
        match self {
            ActionKind::Flow => "flow",
            ActionKind::Tool => "tool",
            ActionKind::Model => "model",
            ActionKind::Prompt => "prompt",
            ActionKind::Embedder => "embedder",
            ActionKind::Retriever => "retriever",
            ActionKind::Indexer => "indexer",
            ActionKind::Evaluator => "evaluator",
            ActionKind::Util => "util",
        }
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an action was defined, for start-up errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceLocation {
    /// Source file, as `file!()` gives it.
    pub file: &'static str,
    /// Line of the attribute.
    pub line: u32,
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Application state an action takes as a `State<T>` parameter; checked when the registry is
/// built.
#[derive(Clone, Copy)]
pub struct StateRequirement {
    type_id: fn() -> TypeId,
    type_name: fn() -> &'static str,
}

impl StateRequirement {
    /// The requirement for state of type `T`.
    pub const fn of<T: Send + Sync + 'static>() -> Self {
        StateRequirement {
            type_id: TypeId::of::<T>,
            type_name: std::any::type_name::<T>,
        }
    }

    /// The required type's id.
    pub fn id(&self) -> TypeId {
        (self.type_id)()
    }

    /// The required type's name.
    pub fn name(&self) -> &'static str {
        (self.type_name)()
    }
}

impl fmt::Debug for StateRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The static description of an action, built in `const` context by the macros.
#[derive(Clone, Copy, Debug)]
pub struct ActionMeta {
    /// The kind.
    pub kind: ActionKind,
    /// The name: a valid URL path segment.
    pub name: &'static str,
    /// What the action does (from the doc comment or `description = "..."`).
    pub description: &'static str,
    /// Deadline for one run, if any.
    pub timeout: Option<Duration>,
    /// Whether the action streams chunks.
    pub streaming: bool,
    /// Where it was defined.
    pub location: SourceLocation,
    /// Application state it needs.
    pub state: &'static [StateRequirement],
    /// Keep inputs and outputs out of traces.
    pub redact: bool,
    /// Offered as a tool over the Model Context Protocol (`#[flow(mcp = false)]` clears it).
    pub mcp: bool,
    /// The model call the action is, for its span's OpenTelemetry GenAI attributes (an
    /// embedder's, for example).
    pub gen_ai: Option<GenAiCall>,
}

/// A model call as OpenTelemetry's GenAI conventions describe it: `gen_ai.operation.name`
/// (`embeddings`, `chat`, ...), `gen_ai.provider.name` and `gen_ai.request.model`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenAiCall {
    /// The operation, such as `"embeddings"`.
    pub operation: &'static str,
    /// The provider, such as `"openai"`.
    pub provider: &'static str,
    /// The model, such as `"text-embedding-3-small"`.
    pub model: &'static str,
}

impl ActionMeta {
    /// A description with no timeout, no streaming and no state.
    pub const fn new(kind: ActionKind, name: &'static str, location: SourceLocation) -> Self {
        ActionMeta {
            kind,
            name,
            description: "",
            timeout: None,
            streaming: false,
            location,
            state: &[],
            redact: false,
            mcp: true,
            gen_ai: None,
        }
    }

    /// Sets the description.
    pub const fn description(mut self, description: &'static str) -> Self {
        self.description = description;
        self
    }

    /// Sets the deadline of one run.
    pub const fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Marks the action as streaming.
    pub const fn streaming(mut self) -> Self {
        self.streaming = true;
        self
    }

    /// Declares the application state the action takes.
    pub const fn state(mut self, state: &'static [StateRequirement]) -> Self {
        self.state = state;
        self
    }

    /// Keeps the action's inputs and outputs out of traces.
    pub const fn redact(mut self) -> Self {
        self.redact = true;
        self
    }

    /// Keeps the action off the Model Context Protocol server.
    pub const fn no_mcp(mut self) -> Self {
        self.mcp = false;
        self
    }

    /// Describes the action as a model call on its span.
    pub const fn gen_ai(mut self, call: GenAiCall) -> Self {
        self.gen_ai = Some(call);
        self
    }

    /// The Genkit registry key, `/<kind>/<name>`.
    pub fn key(&self) -> String {
        format!("/{}/{}", self.kind, self.name)
    }
}

/// A typed action. `#[flow]` and `#[tool]` implement it on a generated handle type; it can also
/// be implemented by hand.
pub trait Action: Send + Sync + 'static {
    /// What the action takes.
    type Input: FlowInput;
    /// What it returns.
    type Output: FlowOutput;
    /// What it streams (`()` when it does not stream).
    type Chunk: StreamChunk;

    /// Name, kind, description and limits.
    const META: ActionMeta;

    /// The cached JSON Schemas of input, output and chunk (generated once, on first use).
    fn schemas() -> &'static ActionSchemas;

    /// Runs the action. The context carries state, auth and the chunk sink.
    fn call(
        ctx: FlowContext<Self::Chunk>,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, FlowError>> + Send + 'static;
}

/// Marks an [`Action`] as a flow (served over HTTP).
pub trait Flow: Action {}

/// Marks an [`Action`] as a tool (offered to models).
pub trait Tool: Action {}
