use genflow_runtime::prelude::*;

/// Takes the context mutably.
#[flow]
async fn ask(ctx: &mut FlowContext, input: String) -> Result<String, FlowError> {
    let _ = ctx;
    Ok(input)
}

fn main() {}
