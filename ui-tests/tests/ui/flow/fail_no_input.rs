use genflow_runtime::prelude::*;

/// Takes nothing.
#[flow]
async fn greet() -> Result<String, FlowError> {
    Ok("hi".into())
}

fn main() {}
