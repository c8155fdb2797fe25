use genflow_runtime::prelude::*;

/// Returns nothing.
#[flow]
async fn ask(input: String) {
    let _ = input;
}

fn main() {}
