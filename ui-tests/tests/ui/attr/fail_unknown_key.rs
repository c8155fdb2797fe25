use genflow_runtime::prelude::*;

/// A typo in a key.
#[flow(timout = "5s")]
async fn ask(input: String) -> Result<String, FlowError> {
    Ok(input)
}

fn main() {}
