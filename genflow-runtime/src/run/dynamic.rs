//! Actions built at run time: an [`ActionMeta`] and [`ActionSchemas`] held as values, and a
//! boxed function from JSON to JSON. Embedders, retrievers and indexers configured at start-up
//! (a store path, a model name) are registered as these; so are tools found at run time.
//!
//! `ActionMeta` holds `&'static str`s, as the macros build it in `const` context. A dynamic
//! action's name and description are interned: leaked once per distinct string, so building
//! the same action again (a second registry, a reconnecting tool server) costs nothing more.
//! That keeps `ActionMeta` `Copy`, the guard and the metrics free of reference counts on every
//! run, and bounds the memory by the distinct names a process ever registers.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::Value;

use super::{DynAction, Invocation, Run, start_json};
use crate::contract::{FlowInput, FlowOutput};
use crate::schema::decode;
use crate::{
    ActionKind, ActionMeta, ActionSchemas, FlowContext, FlowError, GenAiCall, SourceLocation,
};

/// The function of a [`DynamicAction`]: its context and (validated) JSON input to its JSON
/// output.
pub type JsonHandler =
    Arc<dyn Fn(FlowContext, Value) -> BoxFuture<'static, Result<Value, FlowError>> + Send + Sync>;

/// An action built at run time, registered with
/// [`RegistryBuilder::register`](crate::RegistryBuilder::register) and run through the same
/// pipeline as `#[flow]` and `#[tool]` (validation, span, guard, metrics). Cheap to clone.
#[derive(Clone)]
pub struct DynamicAction {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    meta: ActionMeta,
    schemas: Arc<ActionSchemas>,
    handler: JsonHandler,
}

impl DynamicAction {
    /// The action `kind`/`name` running `handler` on input valid for `schemas`' input schema.
    #[track_caller]
    pub fn new(kind: ActionKind, name: &str, schemas: ActionSchemas, handler: JsonHandler) -> Self {
        let caller = std::panic::Location::caller();
        let location = SourceLocation {
            file: caller.file(),
            line: caller.line(),
        };
        DynamicAction {
            inner: Arc::new(Inner {
                meta: ActionMeta::new(kind, intern(name), location),
                schemas: Arc::new(schemas),
                handler,
            }),
        }
    }

    /// The action `kind`/`name` running the typed `call`; its schemas are generated from `I`
    /// and `O`.
    #[track_caller]
    pub fn typed<I, O, F, Fut>(kind: ActionKind, name: &str, call: F) -> Self
    where
        I: FlowInput,
        O: FlowOutput,
        F: Fn(FlowContext, I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, FlowError>> + Send + 'static,
    {
        let call = Arc::new(call);
        let handler: JsonHandler = Arc::new(move |ctx, input| {
            let call = Arc::clone(&call);
            Box::pin(async move {
                let output = call(ctx, decode::<I>(input)?).await?;
                serde_json::to_value(output)
                    .map_err(|e| FlowError::internal(format!("the output does not serialize: {e}")))
            })
        });
        DynamicAction::new(
            kind,
            name,
            ActionSchemas::generate::<I, O, ()>(false),
            handler,
        )
    }

    /// Sets the description.
    #[must_use]
    pub fn description(self, description: &str) -> Self {
        self.edit(|meta| meta.description(intern(description)))
    }

    /// Sets the deadline of one run.
    #[must_use]
    pub fn timeout(self, timeout: Duration) -> Self {
        self.edit(|meta| meta.timeout(timeout))
    }

    /// Describes the action as a call of `provider`'s `model` (`operation`: `embeddings`, ...)
    /// on its span, with OpenTelemetry's GenAI attributes.
    #[must_use]
    pub fn gen_ai(self, operation: &'static str, provider: &str, model: &str) -> Self {
        let call = GenAiCall {
            operation,
            provider: intern(provider),
            model: intern(model),
        };
        self.edit(|meta| meta.gen_ai(call))
    }

    fn edit(self, change: impl FnOnce(ActionMeta) -> ActionMeta) -> Self {
        let inner = Arc::unwrap_or_clone(self.inner);
        DynamicAction {
            inner: Arc::new(Inner {
                meta: change(inner.meta),
                ..inner
            }),
        }
    }
}

impl DynAction for DynamicAction {
    fn meta(&self) -> &ActionMeta {
        &self.inner.meta
    }

    fn schemas(&self) -> &ActionSchemas {
        &self.inner.schemas
    }

    fn start(&self, invocation: Invocation) -> Run {
        let inner = Arc::clone(&self.inner);
        let meta = MetaOf(Arc::clone(&self.inner));
        let body = move |ctx, input: Value, _chunks| async move {
            inner.schemas.validate_input(&input)?;
            (inner.handler)(ctx, input).await
        };
        start_json(meta, invocation, body, Ok)
    }

    fn same_as(&self, other: &dyn DynAction) -> bool {
        let other: &dyn std::any::Any = other;
        other
            .downcast_ref::<DynamicAction>()
            .is_some_and(|other| Arc::ptr_eq(&self.inner, &other.inner))
    }
}

impl std::fmt::Debug for DynamicAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicAction")
            .field("key", &self.inner.meta.key())
            .finish_non_exhaustive()
    }
}

/// The metadata of a dynamic action, kept alive by the run that reads it.
struct MetaOf(Arc<Inner>);

impl std::ops::Deref for MetaOf {
    type Target = ActionMeta;

    fn deref(&self) -> &ActionMeta {
        &self.0.meta
    }
}

/// `text` as a `&'static str`: leaked the first time the process sees it, reused after.
fn intern(text: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(name) = names.get(text) {
        return name;
    }
    let name: &'static str = Box::leak(text.into());
    names.insert(name);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_names_are_leaked_once() {
        let first = intern(&String::from("docs-retriever"));
        let second = intern(&String::from("docs-retriever"));
        assert!(std::ptr::eq(first, second));
        assert_eq!(first, "docs-retriever");
    }
}
