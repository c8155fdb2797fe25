//! The flows of a service in a crate of its own that depends on `genflow-runtime` and `tokio`
//! only: its contract types derive their traits with `#[data]`; a tool, a flow calling it, and
//! a test calling the flow as a plain function. `main.rs` serves them.

use genflow_runtime::prelude::*;

/// A word to measure.
#[data(input)]
pub struct Question {
    /// The word.
    pub word: String,
    /// Measure it in upper case.
    #[serde(default)]
    pub shout: bool,
}

/// What was measured.
#[data]
#[serde(rename_all = "camelCase")]
pub struct Measured {
    /// The word as measured.
    pub word: String,
    /// Its letters.
    pub letter_count: usize,
}

/// Counts the letters of a word.
#[tool]
pub async fn letters(
    /// The word to count.
    word: String,
) -> Result<usize, ToolError> {
    Ok(word.chars().count())
}

/// Measures a word with the `letters` tool.
#[flow]
pub async fn measure(ctx: &FlowContext, input: Question) -> Result<Measured, FlowError> {
    let word = if input.shout {
        input.word.to_uppercase()
    } else {
        input.word
    };
    let letter_count = ctx.call::<LettersTool>(LettersArgs { word: word.clone() }).await?;
    Ok(Measured { word, letter_count })
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
