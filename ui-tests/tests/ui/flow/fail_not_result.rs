use genflow_runtime::prelude::*;

/// Returns a bare value.
#[flow]
async fn ask(input: String) -> String {
    input
}

fn main() {}
