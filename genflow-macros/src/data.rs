//! `#[data]`: derives serde's and schemars' traits on a contract type through the runtime's
//! re-exports, so that a crate depending only on `genflow-runtime` can define its inputs and
//! outputs.

use darling::FromMeta;
use darling::ast::NestedMeta;
use darling::util::Flag;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Item, Path};

use crate::resolve::{path_string, runtime_path};

/// `#[data(...)]`.
#[derive(Debug, Default, FromMeta)]
struct DataArgs {
    /// Only what an input needs: `Deserialize` and `JsonSchema`.
    input: Flag,
    /// Only what an output needs: `Serialize` and `JsonSchema`.
    output: Flag,
    /// Path of the runtime crate when it is renamed.
    #[darling(rename = "crate")]
    krate: Option<Path>,
}

/// Expands `#[data(args)] item`.
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(args, item) {
        Ok(tokens) => tokens,
        Err(error) => error.write_errors(),
    }
}

fn try_expand(args: TokenStream, item: TokenStream) -> darling::Result<TokenStream> {
    let args = DataArgs::from_list(&NestedMeta::parse_meta_list(args)?)?;
    let item: Item = syn::parse2(item)?;
    if !matches!(item, Item::Struct(_) | Item::Enum(_)) {
        return Err(darling::Error::custom(
            "#[data] goes on a struct or an enum: the types a flow or tool takes and returns",
        )
        .with_span(&item));
    }
    if args.input.is_present() && args.output.is_present() {
        return Err(darling::Error::custom(
            "`input` and `output` together are the default: write #[data]",
        )
        .with_span(&args.output.span()));
    }
    let rt = runtime_path(args.krate.as_ref());
    let serde = format!("{}::serde", path_string(&rt));
    let schemars = format!("{}::schemars", path_string(&rt));
    let serialize = (!args.input.is_present()).then(|| quote!(#rt::serde::Serialize,));
    let deserialize = (!args.output.is_present()).then(|| quote!(#rt::serde::Deserialize,));
    Ok(quote! {
        #[derive(#serialize #deserialize #rt::schemars::JsonSchema)]
        #[serde(crate = #serde)]
        #[schemars(crate = #schemars)]
        #item
    })
}
