//! genflow: compile-time flow contracts for generative-AI services.
//!
//! Annotate plain async functions with [`flow`] and [`tool`]; the macros generate the JSON
//! Schemas of their inputs, outputs and chunks, a typed handle implementing [`Action`], and the
//! link-time registration that [`Registry::builder`] collects. The functions stay plain
//! functions: callable and unit-testable as written.
//!
//! ```
//! use genflow_runtime::prelude::*;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct QueryInput { question: String }
//!
//! #[derive(Serialize, JsonSchema)]
//! struct QueryOutput { answer: String }
//!
//! /// Answer a question.
//! #[flow(name = "answer", timeout = "5s")]
//! async fn answer(input: QueryInput) -> Result<QueryOutput, FlowError> {
//!     Ok(QueryOutput { answer: format!("you asked: {}", input.question) })
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let registry = Registry::builder().build()?;
//! let out = registry.run("answer", serde_json::json!({"question": "why?"})).await?;
//! assert_eq!(out["answer"], "you asked: why?");
//! # Ok(()) }
//! ```
#![doc = include_str!("../../docs/attributes.md")]

extern crate self as genflow_runtime;

mod action;
mod canonical_schema;
#[cfg(feature = "client")]
pub mod client;
pub mod config;
mod context;
mod contract;
#[cfg(feature = "server")]
pub mod devtools;
mod error;
#[cfg(feature = "server")]
pub mod http;
#[cfg(feature = "mcp")]
pub mod mcp;
#[cfg(feature = "models")]
pub mod model;
mod registry;
pub mod retrieval;
pub mod run;
mod schema;
mod state;
mod status;
pub mod telemetry;
#[cfg(any(
    feature = "client",
    feature = "models",
    feature = "otlp",
    feature = "mcp-client"
))]
mod tls;
mod validate;

pub use action::{
    Action, ActionKind, ActionMeta, Flow, GenAiCall, SourceLocation, StateRequirement, Tool,
};
pub use canonical_schema::CanonicalSchema;
pub use context::FlowContext;
pub use contract::{FlowInput, FlowOutput, IntoFlowError, StreamChunk, ToolParam};
pub use error::{ErrorBody, FlowError, ToolError, Violation};
pub use genflow_macros::{data, flow, tool};
pub use registry::{Registry, RegistryBuilder, RegistryError};
pub use run::{DynAction, DynamicAction, FlowEvent, FlowEvents, RunOptions};
pub use schema::{ActionSchemas, decode, schema_of};
pub use state::{State, StateMap};
pub use status::Status;

pub use schemars;
pub use serde;
pub use serde_json;

/// The names a flow module needs: `use genflow_runtime::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "models")]
    pub use crate::model::{GenerateExt, Models};
    pub use crate::{
        Action, FlowContext, FlowError, Registry, State, Status, ToolError, data, flow, tool,
    };
    pub use schemars::JsonSchema;
    pub use serde::{Deserialize, Serialize};
}

/// Used by the macros' generated code and the JSON-Schema-Test-Suite test; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::contract::ConvertsFrom;
    pub use crate::registry::Registration;
    pub use crate::schema::{ArgField, args_schema, param_schema};
    pub use crate::validate::Validator;
    pub use core::future::Future;
    pub use core::time::Duration;
    pub use inventory;
    pub use schemars;
    pub use serde;
    pub use serde_json;
    pub use std::borrow::Cow;
    pub use std::sync::OnceLock;
}

/// Guide pages whose snippets are compiled and run as doc tests.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../../docs/testing.md")]
    struct Testing;

    #[doc = include_str!("../../docs/http.md")]
    struct Http;

    #[doc = include_str!("../../README.md")]
    struct Readme;
}
