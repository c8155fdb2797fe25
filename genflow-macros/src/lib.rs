//! The attribute macros of genflow. Use them through `genflow_runtime` (which re-exports them);
//! the full attribute reference lives in that crate's documentation.

mod ast;
mod attr;
mod data;
mod debug;
mod expand;
mod resolve;
mod valid;

use proc_macro::TokenStream;

/// Turns an `async fn` into a flow: a typed, schema-checked, traced entry point served over
/// HTTP. See the attribute reference in `genflow_runtime`.
#[proc_macro_attribute]
pub fn flow(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(ast::Kind::Flow, args.into(), item.into()).into()
}

/// Turns an `async fn` into a tool models can call. The doc comment is its description. See
/// the attribute reference in `genflow_runtime`.
#[proc_macro_attribute]
pub fn tool(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(ast::Kind::Tool, args.into(), item.into()).into()
}

/// Derives `Serialize`, `Deserialize` and `JsonSchema` on a struct or enum through
/// `genflow_runtime`'s re-exports of serde and schemars, so the crate needs no `serde` or
/// `schemars` dependency of its own. `#[data(input)]` derives only `Deserialize` and
/// `JsonSchema`, `#[data(output)]` only `Serialize` and `JsonSchema`; `#[serde(...)]` and
/// `#[schemars(...)]` attributes work as with the derives themselves.
#[proc_macro_attribute]
pub fn data(args: TokenStream, item: TokenStream) -> TokenStream {
    data::expand(args.into(), item.into()).into()
}

#[cfg(test)]
mod tests;
