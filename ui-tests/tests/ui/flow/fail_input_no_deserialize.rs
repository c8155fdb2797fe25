use genflow_runtime::prelude::*;

#[derive(JsonSchema)]
struct Question {
    text: String,
}

/// Input lacks Deserialize.
#[flow]
async fn ask(input: Question) -> Result<String, FlowError> {
    Ok(input.text)
}

fn main() {}
