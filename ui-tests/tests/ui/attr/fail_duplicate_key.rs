use genflow_runtime::prelude::*;

/// The same key twice.
#[flow(name = "ask", name = "question")]
async fn ask(input: String) -> Result<String, FlowError> {
    Ok(input)
}

fn main() {}
