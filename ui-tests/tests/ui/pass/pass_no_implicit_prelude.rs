//! Generated code names everything by absolute path: it compiles without the prelude.
#![no_implicit_prelude]

/// Echo the input.
#[::genflow_runtime::flow]
async fn echo(
    ctx: &::genflow_runtime::FlowContext,
    input: ::std::string::String,
) -> ::std::result::Result<::std::string::String, ::genflow_runtime::FlowError> {
    let _ = ctx;
    ::std::result::Result::Ok(input)
}

/// Search by words.
#[::genflow_runtime::tool]
async fn search(
    /// Words to look for
    query: ::std::string::String,
    limit: ::std::option::Option<u32>,
) -> ::std::result::Result<::std::vec::Vec<::std::string::String>, ::genflow_runtime::ToolError> {
    let _ = limit;
    ::std::result::Result::Ok(::std::vec![query])
}

fn main() {
    let _ = (echo, search);
    let _ = <EchoFlow as ::genflow_runtime::Action>::schemas();
    let _ = <SearchTool as ::genflow_runtime::Action>::schemas();
}
