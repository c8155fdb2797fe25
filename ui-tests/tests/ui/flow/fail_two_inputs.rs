use genflow_runtime::prelude::*;

/// Takes two inputs.
#[flow]
async fn greet(name: String, times: u32) -> Result<String, FlowError> {
    Ok(name.repeat(times as usize))
}

fn main() {}
