use genflow_runtime::prelude::*;

#[derive(JsonSchema)]
struct Answer {
    text: String,
}

/// Output lacks Serialize.
#[flow]
async fn ask(input: String) -> Result<Answer, FlowError> {
    Ok(Answer { text: input })
}

fn main() {}
