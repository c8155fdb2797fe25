use genflow_runtime::prelude::*;

/// Takes untyped JSON.
#[flow]
async fn ask(input: serde_json::Value) -> Result<String, FlowError> {
    Ok(input.to_string())
}

fn main() {}
