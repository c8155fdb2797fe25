//! `handle`, `description` and `crate` keys.
use genflow_runtime::prelude::*;

mod renamed {
    pub use genflow_runtime as gf;
}

/// Ignored: `description` wins.
#[flow(handle = SummaryFlow, description = "Summarise a text.", crate = "crate::renamed::gf")]
async fn summarise(text: String) -> Result<String, FlowError> {
    Ok(text)
}

fn main() {
    let _ = summarise;
    assert_eq!(<SummaryFlow as Action>::META.description, "Summarise a text.");
}
