//! The attribute keys of `#[flow(...)]` and `#[tool(...)]` (strict: unknown and duplicate keys
//! are errors with suggestions).

use darling::FromMeta;
use darling::util::Flag;
use proc_macro2::TokenStream;
use syn::{Ident, Lit, LitStr, Path, Type};

/// Keys shared by flows and tools.
#[derive(Debug, Default, FromMeta)]
pub struct Common {
    /// The action name (default: the function name).
    pub name: Option<LitStr>,
    /// The description (default: the doc comment).
    pub description: Option<LitStr>,
    /// Deadline of one run, e.g. `"30s"`, `"500ms"`, `"1m 30s"` (any literal, so that a number
    /// gets genflow's message).
    pub timeout: Option<Lit>,
    /// Path of the runtime crate when it is renamed.
    #[darling(rename = "crate")]
    pub krate: Option<Path>,
    /// Accept `serde_json::Value`-like inputs without a schema.
    pub allow_untyped: Flag,
    /// Keep inputs and outputs out of traces.
    pub redact: Flag,
    /// Offer the action as an MCP tool (default `true`); `mcp = false` keeps it off MCP (any
    /// literal, so that a string gets genflow's message).
    pub mcp: Option<Lit>,
    /// Name of the generated handle type (default: the function name in CamelCase).
    pub handle: Option<Ident>,
}

/// `#[flow(...)]`.
#[derive(Debug, Default, FromMeta)]
pub struct FlowArgs {
    #[darling(flatten)]
    pub common: Common,
    /// The chunk type of a streaming flow.
    pub stream: Option<Type>,
}

/// `#[tool(...)]`.
#[derive(Debug, Default, FromMeta)]
pub struct ToolArgs {
    #[darling(flatten)]
    pub common: Common,
}

/// Parses the attribute's arguments.
pub fn parse<T: FromMeta>(args: TokenStream) -> darling::Result<T> {
    let items = darling::ast::NestedMeta::parse_meta_list(args)?;
    T::from_list(&items)
}
