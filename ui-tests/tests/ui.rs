//! The compile-time contract of `#[flow]` and `#[tool]`: every `fail_*.rs` must fail with the
//! committed `.stderr`, every `pass_*.rs` must build and run.
//!
//! Regenerate snapshots after an intended change with `TRYBUILD=overwrite cargo test -p
//! genflow-ui-tests`, then review the diff.

#[test]
fn flow_signatures() {
    trybuild::TestCases::new().compile_fail("tests/ui/flow/fail_*.rs");
}

#[test]
fn tool_signatures() {
    trybuild::TestCases::new().compile_fail("tests/ui/tool/fail_*.rs");
}

#[test]
fn attribute_keys() {
    trybuild::TestCases::new().compile_fail("tests/ui/attr/fail_*.rs");
}

#[test]
fn passing_contracts() {
    trybuild::TestCases::new().pass("tests/ui/pass/pass_*.rs");
}
