use genflow_runtime::prelude::*;

/// Returns an opaque output.
#[flow]
async fn ask(input: String) -> Result<impl Serialize, FlowError> {
    Ok(input)
}

fn main() {}
