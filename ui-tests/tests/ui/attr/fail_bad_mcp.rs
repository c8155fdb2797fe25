use genflow_runtime::prelude::*;

/// `mcp` takes a boolean, not a string.
#[flow(mcp = "no")]
async fn ask(input: String) -> Result<String, FlowError> {
    Ok(input)
}

fn main() {}
