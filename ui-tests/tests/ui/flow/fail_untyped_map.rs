use genflow_runtime::prelude::*;
use serde_json::Value;
use std::collections::HashMap;

/// Takes an untyped map.
#[flow]
async fn ask(input: HashMap<String, Value>) -> Result<usize, FlowError> {
    Ok(input.len())
}

fn main() {}
