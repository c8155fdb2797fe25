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
    note = "add `#[derive(serde::Deserialize, schemars::JsonSchema)]` to `{Self}` (both are re-exported by `genflow_runtime::prelude`)"
)]
pub trait FlowInput: DeserializeOwned + JsonSchema + Send + 'static {}
impl<T: DeserializeOwned + JsonSchema + Send + 'static> FlowInput for T {}

/// A type a flow or tool can return: `Serialize + JsonSchema + Send + 'static`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a genflow output: it needs `Serialize` and `JsonSchema`",
    label = "this output type must derive `Serialize` and `JsonSchema`",
    note = "add `#[derive(serde::Serialize, schemars::JsonSchema)]` to `{Self}` (both are re-exported by `genflow_runtime::prelude`)"
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
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be converted into a `FlowError`",
    label = "the error type of a flow or tool must convert into `FlowError`",
    note = "return `FlowError` (or `ToolError`), or implement `From<{Self}> for FlowError`"
)]
pub trait IntoFlowError {
    /// Converts into a `FlowError`.
    fn into_flow_error(self) -> FlowError;
}

impl<E> IntoFlowError for E
where
    FlowError: From<E>,
{
    fn into_flow_error(self) -> FlowError {
        FlowError::from(self)
    }
}

/// The return type of a flow or tool: a `Result` whose error converts into `FlowError`.
#[diagnostic::on_unimplemented(
    message = "a genflow function must return `Result<Output, E>`, not `{Self}`",
    label = "change the return type to `Result<{Self}, FlowError>`",
    note = "flows and tools fail with a `FlowError` (alias `ToolError`); wrap the value in `Ok(...)`"
)]
pub trait FlowResult {
    /// The success type.
    type Ok;
    /// The error type.
    type Err: IntoFlowError;
    /// Converts into the runtime's result.
    fn into_flow_result(self) -> Result<Self::Ok, FlowError>;
}

impl<T, E: IntoFlowError> FlowResult for Result<T, E> {
    type Ok = T;
    type Err = E;
    fn into_flow_result(self) -> Result<T, FlowError> {
        self.map_err(IntoFlowError::into_flow_error)
    }
}
