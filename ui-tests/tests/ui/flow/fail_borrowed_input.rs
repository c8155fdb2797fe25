use genflow_runtime::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct Question {
    text: String,
}

/// Borrows its input.
#[flow]
async fn ask(input: &Question) -> Result<String, FlowError> {
    Ok(input.text.clone())
}

fn main() {}
