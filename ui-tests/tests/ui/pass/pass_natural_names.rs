//! The natural naming pattern: `fn budget` returning the user's own `struct Budget`.

use genflow_runtime::prelude::*;

#[derive(Serialize, JsonSchema)]
struct Budget {
    total: u32,
}

/// Plans a budget.
#[flow]
async fn budget(input: u32) -> Result<Budget, FlowError> {
    Ok(Budget { total: input })
}

fn main() {
    assert_eq!(<BudgetFlow as Action>::META.name, "budget");
}
