use genflow_runtime::prelude::*;

/// A timeout written as a bare number.
#[flow(timeout = 30)]
async fn ask(input: String) -> Result<String, FlowError> {
    Ok(input)
}

fn main() {}
