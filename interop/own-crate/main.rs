//! A service in a crate of its own that depends on `genflow-runtime` and `tokio` only: its
//! contract types derive their traits with `#[data]`, and it has a tool, a flow calling it, a
//! server, and a test calling the flow as a plain function.

use genflow_runtime::Registry;
use genflow_runtime::http::{ServiceError, run_service};
use genflow_runtime::prelude::*;

/// A word to measure.
#[data(input)]
struct Question {
    /// The word.
    word: String,
    /// Measure it in upper case.
    #[serde(default)]
    shout: bool,
}

/// What was measured.
#[data]
#[serde(rename_all = "camelCase")]
struct Measured {
    word: String,
    letter_count: usize,
}

/// Counts the letters of a word.
#[tool]
async fn letters(
    /// The word to count.
    word: String,
) -> Result<usize, ToolError> {
    Ok(word.chars().count())
}

/// Measures a word with the `letters` tool.
#[flow]
async fn measure(ctx: &FlowContext, input: Question) -> Result<Measured, FlowError> {
    let word = if input.shout {
        input.word.to_uppercase()
    } else {
        input.word
    };
    let letter_count = ctx.call::<LettersTool>(LettersArgs { word: word.clone() }).await?;
    Ok(Measured { word, letter_count })
}

#[tokio::main]
async fn main() -> Result<(), ServiceError> {
    run_service(Registry::builder(), |server| server).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_flow_is_a_plain_function() {
        let registry = Registry::builder().build().expect("registry");
        let input = Question {
            word: "héllo".to_owned(),
            shout: true,
        };
        let measured = measure(&registry.context(), input).await.expect("measured");
        assert_eq!((measured.word.as_str(), measured.letter_count), ("HÉLLO", 5));
    }
}
