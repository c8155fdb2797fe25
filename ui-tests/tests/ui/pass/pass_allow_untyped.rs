//! Untyped input is accepted when explicitly allowed.
use genflow_runtime::prelude::*;

/// Store any JSON document.
#[flow(allow_untyped)]
async fn store(doc: serde_json::Value) -> Result<bool, FlowError> {
    Ok(doc.is_object())
}

fn main() {
    let _ = store;
    assert_eq!(<StoreFlow as Action>::META.name, "store");
}
