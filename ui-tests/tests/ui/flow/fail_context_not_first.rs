use genflow_runtime::prelude::*;

/// The context comes second.
#[flow]
async fn ask(input: String, ctx: &FlowContext) -> Result<String, FlowError> {
    let _ = ctx;
    Ok(input)
}

fn main() {}
