use genflow_runtime::prelude::*;

/// Takes the context by value.
#[flow]
async fn ask(ctx: FlowContext, input: String) -> Result<String, FlowError> {
    let _ = ctx;
    Ok(input)
}

fn main() {}
