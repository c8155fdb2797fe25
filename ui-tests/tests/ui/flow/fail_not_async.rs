use genflow_runtime::prelude::*;

/// Not async.
#[flow]
fn greet(name: String) -> Result<String, FlowError> {
    Ok(name)
}

fn main() {}
