//! `handle`, `description`, `crate` and `mcp` keys.
use genflow_runtime::prelude::*;

mod renamed {
    pub use genflow_runtime as gf;
}

/// Ignored: `description` wins.
#[flow(handle = SummaryFlow, description = "Summarise a text.", crate = "crate::renamed::gf")]
async fn summarise(text: String) -> Result<String, FlowError> {
    Ok(text)
}

/// Served over HTTP only.
#[flow(mcp = false)]
async fn internal(text: String) -> Result<String, FlowError> {
    Ok(text)
}

fn main() {
    let _ = (summarise, internal);
    assert_eq!(<SummaryFlow as Action>::META.description, "Summarise a text.");
    assert!(<SummaryFlow as Action>::META.mcp);
    assert!(!<InternalFlow as Action>::META.mcp);
}
