use genflow_runtime::prelude::*;

/// Sends chunks without declaring them.
#[flow]
async fn ask(ctx: &FlowContext<String>, input: String) -> Result<String, FlowError> {
    let _ = ctx;
    Ok(input)
}

fn main() {}
