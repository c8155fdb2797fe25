use genflow_runtime::prelude::*;

/// A name that is no URL path segment.
#[flow(name = "rag query/v2")]
async fn ask(input: String) -> Result<String, FlowError> {
    Ok(input)
}

fn main() {}
