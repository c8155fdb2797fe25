use genflow_runtime::prelude::*;

#[derive(Serialize)]
struct Answer {
    text: String,
}

/// Output lacks JsonSchema.
#[flow]
async fn ask(input: String) -> Result<Answer, FlowError> {
    Ok(Answer { text: input })
}

fn main() {}
