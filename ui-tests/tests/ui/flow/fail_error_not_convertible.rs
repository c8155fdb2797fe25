use genflow_runtime::prelude::*;

#[derive(Debug)]
struct MyError;

/// Fails with an error genflow cannot convert.
#[flow]
async fn ask(input: String) -> Result<String, MyError> {
    Ok(input)
}

fn main() {}
