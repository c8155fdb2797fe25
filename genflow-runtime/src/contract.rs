//! The traits a flow's types must satisfy, with diagnostics that say how to fix them.
//!
//! The macros assert these on the user's types with spans on those types, so a missing derive is
//! reported at the offending token in genflow's words.

use schemars::JsonSchema;
use serde::{Serialize, de::DeserializeOwned};

use crate::FlowError;

/// A type a flow or tool can take as input: `Deserialize + JsonSchema + Send + 'static`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a genflow input: it needs `Deserialize` and `JsonSchema`",
    label = "this input type must derive `Deserialize` and `JsonSchema`",
    note = "add `#[derive(serde::Deserialize, schemars::JsonSchema)]` to `{Self}` "
)]
pub trait FlowInput: DeserializeOwned + JsonSchema + Send + 'static {}
impl<T: DeserializeOwned + JsonSchema + Send + 'static> FlowInput for T {}

/// The type of one named tool parameter: `Deserialize + JsonSchema`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a tool parameter: it needs `Deserialize` and `JsonSchema`",
    label = "this parameter type must derive `Deserialize` and `JsonSchema`",
    note = "add `#[derive(serde::Deserialize, schemars::JsonSchema)]` to `{Self}`"
)]
pub trait ToolParam: DeserializeOwned + JsonSchema {}
impl<T: DeserializeOwned + JsonSchema> ToolParam for T {}

/// A type a flow or tool can return: `Serialize + JsonSchema + Send + 'static`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a genflow output: it needs `Serialize` and `JsonSchema`",
    label = "this output type must derive `Serialize` and `JsonSchema`",
    note = "add `#[derive(serde::Serialize, schemars::JsonSchema)]` to `{Self}` "
)]
pub trait FlowOutput: Serialize + JsonSchema + Send + 'static {}
impl<T: Serialize + JsonSchema + Send + 'static> FlowOutput for T {}

/// A type a streaming flow can send as a chunk: `Serialize + JsonSchema + Send + 'static`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a genflow stream chunk: it needs `Serialize` and `JsonSchema`",
    label = "this chunk type must derive `Serialize` and `JsonSchema`",
    note = "add `#[derive(serde::Serialize, schemars::JsonSchema)]` to `{Self}`"
)]
pub trait StreamChunk: Serialize + JsonSchema + Send + 'static {}
impl<T: Serialize + JsonSchema + Send + 'static> StreamChunk for T {}

/// An error type a flow or tool may return: anything `FlowError` converts from.
pub trait IntoFlowError {
    /// Converts into a `FlowError`.
    fn into_flow_error(self) -> FlowError;
}

impl<E> IntoFlowError for E
where
    FlowError: ConvertsFrom<E>,
{
    fn into_flow_error(self) -> FlowError {
        FlowError::from(self)
    }
}

/// `FlowError: ConvertsFrom<E>` is `FlowError: From<E>` in genflow's words: the macros require
/// it for a flow's error type `E`. Its subject is `FlowError`, like `From`'s, so rustc reports
/// this message rather than the bare `From` bound.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{E}` cannot be converted into a `FlowError`",
    label = "the error type of a flow or tool must convert into `FlowError`",
    note = "return `FlowError` (alias `ToolError`), or implement `From<{E}> for FlowError` choosing the status your error maps to"
)]
pub trait ConvertsFrom<E>: From<E> {}
impl<T: From<E>, E> ConvertsFrom<E> for T {}
