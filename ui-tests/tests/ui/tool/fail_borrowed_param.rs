use genflow_runtime::prelude::*;

/// Looks a word up.
#[tool]
async fn lookup(word: &str, limit: u32) -> Result<Vec<String>, ToolError> {
    Ok(vec![word.repeat(limit as usize)])
}

fn main() {}
