use genflow_runtime::prelude::*;

/// A timeout without a unit.
#[flow(timeout = "30")]
async fn ask(input: String) -> Result<String, FlowError> {
    Ok(input)
}

/// A timeout in an unknown unit.
#[flow(timeout = "2 fortnights")]
async fn later(input: String) -> Result<String, FlowError> {
    Ok(input)
}

fn main() {}
