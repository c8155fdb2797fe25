use genflow_runtime::prelude::*;

#[derive(Serialize, JsonSchema)]
struct BudgetFlow {
    total: u32,
}

/// Returns a type named like the generated handle.
#[flow]
async fn budget(input: u32) -> Result<BudgetFlow, FlowError> {
    Ok(BudgetFlow { total: input })
}

fn main() {}
