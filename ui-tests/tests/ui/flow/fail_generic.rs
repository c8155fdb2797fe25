use genflow_runtime::prelude::*;

/// Generic.
#[flow]
async fn echo<T: serde::de::DeserializeOwned + Send>(input: T) -> Result<String, FlowError> {
    let _ = input;
    Ok(String::new())
}

fn main() {}
