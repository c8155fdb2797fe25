//! Two flows sharing a name: a start-up error naming both definitions.

use genflow_runtime::RegistryError;
use genflow_runtime::prelude::*;

/// The first flow called `answer`.
#[flow(name = "answer")]
async fn first(input: String) -> Result<String, FlowError> {
    Ok(input)
}

mod other {
    use genflow_runtime::prelude::*;

    /// A second flow called `answer`.
    #[flow(name = "answer")]
    pub async fn second(input: String) -> Result<String, FlowError> {
        Ok(input)
    }
}

#[test]
fn discovered_duplicates_fail_the_build_naming_both_locations() {
    let err = Registry::builder().build().expect_err("duplicate");
    let RegistryError::DuplicateName {
        name,
        first,
        second,
        ..
    } = &err
    else {
        panic!("unexpected error {err}");
    };
    assert_eq!(name, "answer");
    assert_eq!(first.file, second.file);
    assert!(first.file.ends_with("duplicates.rs"), "{first}");
    assert_eq!(
        (first.line, second.line),
        (8, 17),
        "the lines of the two `fn`s"
    );
    assert!(err.to_string().contains("duplicates.rs:8 and at "), "{err}");
}

#[test]
fn registering_the_same_handle_twice_is_not_a_duplicate() {
    let registry = Registry::manual()
        .register(FirstFlow)
        .register(FirstFlow)
        .build()
        .expect("same handle twice is fine");
    assert_eq!(registry.actions().len(), 1);
    let _ = first;
}
