use genflow_runtime::prelude::*;

/// Declares one chunk type and takes a context of another.
#[flow(stream = String)]
async fn words(ctx: &FlowContext<u32>, input: String) -> Result<usize, FlowError> {
    let _ = ctx;
    Ok(input.len())
}

fn main() {}
