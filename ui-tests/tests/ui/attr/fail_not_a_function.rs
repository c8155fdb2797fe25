use genflow_runtime::prelude::*;

#[flow]
struct NotAFunction;

fn main() {}
