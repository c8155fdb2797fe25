//! An input schema the validator cannot compile: the registry refuses the action at build, and
//! an action run without a registry (as a model's tools are) refuses every input instead of
//! letting it through unchecked.

use genflow_runtime::prelude::*;
use genflow_runtime::{DynAction, RegistryError};
use serde_json::json;

#[derive(Deserialize, JsonSchema)]
struct Order {
    /// An order code; the pattern is not a valid regular expression.
    #[schemars(regex(pattern = "("))]
    code: String,
}

/// Looks an order up.
#[flow(name = "lookup")]
async fn lookup(order: Order) -> Result<String, FlowError> {
    Ok(order.code)
}

#[test]
fn the_registry_refuses_an_input_schema_that_does_not_compile() {
    let Err(err) = Registry::builder().build() else {
        panic!("the registry was built");
    };
    let RegistryError::InvalidSchema { name, reason, .. } = &err else {
        panic!("unexpected error {err}");
    };
    assert_eq!(name, "lookup");
    assert!(reason.contains("/properties/code/pattern"), "{reason}");
}

#[tokio::test]
async fn without_a_registry_every_input_is_refused() {
    let ctx = Registry::manual()
        .build()
        .expect("empty registry")
        .context();
    let err = LookupFlow
        .invoke(ctx, json!({"code": "A-1"}), None)
        .await
        .expect_err("not run unchecked");
    assert_eq!(err.status(), Status::Internal);
    assert!(err.to_string().contains("does not compile"), "{err}");
}
