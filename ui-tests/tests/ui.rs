//! The compile-time contract of `#[flow]` and `#[tool]`: every `fail_*.rs` must fail with the
//! committed `.stderr`, every `pass_*.rs` must build and run.
//!
//! All cases live in one test function: trybuild shares one scratch project per crate, and
//! several `TestCases` running on parallel test threads race on its `Cargo.lock` and outputs.
//!
//! Regenerate snapshots after an intended change with `TRYBUILD=overwrite cargo test -p
//! genflow-ui-tests`, then review the diff.

#[test]
fn contracts() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/flow/fail_*.rs");
    cases.compile_fail("tests/ui/tool/fail_*.rs");
    cases.compile_fail("tests/ui/attr/fail_*.rs");
    cases.pass("tests/ui/pass/pass_*.rs");
}
