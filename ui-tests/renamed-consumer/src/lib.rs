//! Flows and tools written against a renamed `genflow-runtime` (`gf`), with no serde or
//! schemars dependency: the macros must find the runtime under its new name.

use gf::{FlowContext, FlowError, ToolError, flow, tool};

/// Shout the input back.
#[flow(name = "shout", timeout = "1s")]
pub async fn shout(ctx: &FlowContext, input: String) -> Result<String, FlowError> {
    let _ = ctx;
    Ok(input.to_uppercase())
}

/// Repeat a word.
#[tool]
pub async fn repeat(
    /// The word to repeat
    word: String,
    /// How many times
    times: Option<u32>,
) -> Result<Vec<String>, ToolError> {
    Ok(vec![word; times.unwrap_or(2) as usize])
}
