use genflow_runtime::prelude::*;

/// Declares a stream but has no context to send it through.
#[flow(stream = String)]
async fn ask(input: String) -> Result<String, FlowError> {
    Ok(input)
}

fn main() {}
