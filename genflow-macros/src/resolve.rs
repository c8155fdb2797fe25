//! Finds the path of the runtime crate as the user's Cargo.toml names it.

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::Span;
use quote::ToTokens;
use syn::{Ident, Path};

/// The runtime crate: `crate = "..."` when given, else the (possibly renamed) dependency on
/// `genflow-runtime`, else `::genflow_runtime`.
pub fn runtime_path(explicit: Option<&Path>) -> Path {
    if let Some(path) = explicit {
        return path.clone();
    }
    let name = match crate_name("genflow-runtime") {
        Ok(FoundCrate::Name(name)) => name,
        Ok(FoundCrate::Itself) | Err(_) => "genflow_runtime".to_owned(),
    };
    let ident = Ident::new(&name, Span::call_site());
    syn::parse_quote!(::#ident)
}

/// The path as a string, for `#[serde(crate = "...")]`.
pub fn path_string(path: &Path) -> String {
    path.to_token_stream().to_string().replace(' ', "")
}
