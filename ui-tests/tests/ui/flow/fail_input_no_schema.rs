use genflow_runtime::prelude::*;

#[derive(Deserialize)]
struct Question {
    text: String,
}

/// Input lacks JsonSchema.
#[flow]
async fn ask(input: Question) -> Result<String, FlowError> {
    Ok(input.text)
}

fn main() {}
