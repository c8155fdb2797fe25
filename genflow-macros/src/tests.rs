//! Snapshots of the formatted expansion of a representative flow and tool.

use quote::quote;

use crate::ast::Kind;
use crate::expand::expand;

fn pretty(kind: Kind, args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
    let tokens = expand(kind, args, item);
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as a file");
    prettyplease::unparse(&file)
}

#[test]
fn flow_expansion() {
    insta::assert_snapshot!(pretty(
        Kind::Flow,
        quote!(name = "ragQuery", timeout = "30s"),
        quote! {
            /// Answer a question from the indexed documents.
            pub async fn rag_query(
                ctx: &FlowContext,
                db: State<Db>,
                input: QueryInput,
            ) -> Result<QueryOutput, FlowError> {
                todo!()
            }
        },
    ));
}

#[test]
fn streaming_flow_expansion() {
    insta::assert_snapshot!(pretty(
        Kind::Flow,
        quote!(stream = Token),
        quote! {
            /// Stream tokens.
            async fn words(ctx: &FlowContext<Token>, input: String) -> Result<usize, FlowError> {
                todo!()
            }
        },
    ));
}

#[test]
fn tool_expansion() {
    insta::assert_snapshot!(pretty(
        Kind::Tool,
        quote!(),
        quote! {
            /// Search the product database by keyword.
            pub async fn search_db(
                /// Words to look for
                query: String,
                /// At most this many rows
                limit: Option<u32>,
            ) -> Result<Vec<Product>, ToolError> {
                todo!()
            }
        },
    ));
}

#[test]
fn errors_keep_the_function() {
    let out = pretty(
        Kind::Tool,
        quote!(timout = "1s"),
        quote! {
            fn search(query: String) -> Vec<String> { vec![query] }
        },
    );
    insta::assert_snapshot!(out);
}

/// docs/expansion.md shows the flow and tool snapshots verbatim.
#[test]
fn the_expansion_page_shows_the_snapshots() {
    let page = include_str!("../../docs/expansion.md");
    for snapshot in [
        include_str!("snapshots/genflow_macros__tests__flow_expansion.snap"),
        include_str!("snapshots/genflow_macros__tests__tool_expansion.snap"),
    ] {
        let expansion = snapshot
            .splitn(3, "---\n")
            .nth(2)
            .expect("a snapshot has a header")
            .trim_end();
        assert!(
            page.contains(&format!("```rust\n{expansion}\n```")),
            "docs/expansion.md is out of date with the snapshot:\n{expansion}"
        );
    }
}
