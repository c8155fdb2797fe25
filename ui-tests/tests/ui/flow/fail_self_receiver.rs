use genflow_runtime::prelude::*;

struct Greeter;

impl Greeter {
    /// A method.
    #[flow]
    async fn greet(&self, name: String) -> Result<String, FlowError> {
        Ok(name)
    }
}

fn main() {}
