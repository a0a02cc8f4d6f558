//! Compile-time errors of `einsum!`: each `tests/ui/<scenario>.rs` must fail to compile with
//! exactly the error in its `.stderr` (one error each, pointing at the pattern or the operand).
//! Regenerate the snapshots with `TRYBUILD=overwrite` and read every changed one.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
