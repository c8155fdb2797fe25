use genflow_runtime::prelude::*;

#[derive(JsonSchema)]
struct Token {
    text: String,
}

/// Streams chunks that cannot be serialized.
#[flow(stream = Token)]
async fn ask(ctx: &FlowContext<Token>, input: String) -> Result<String, FlowError> {
    let _ = ctx;
    Ok(input)
}

fn main() {}
