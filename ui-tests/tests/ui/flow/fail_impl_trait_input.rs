use genflow_runtime::prelude::*;

/// Takes an opaque input.
#[flow]
async fn ask(input: impl Into<String>) -> Result<String, FlowError> {
    Ok(input.into())
}

fn main() {}
