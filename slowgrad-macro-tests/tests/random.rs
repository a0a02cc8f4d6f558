//! Random equations (fixed seed, generated into test source by `build.rs`) through `einsum!`,
//! compared with the runtime-parsed `slowgrad::einsum()` on the same operands: forward (`Var` and
//! array operands), gradients for a random upstream, and second-order gradients.
// Some cases sum a named label away on purpose: `einsum!`'s warning for that (a deprecation
// note, `tests/ui/named-label-summed-once.rs`) is allowed here.
#![allow(deprecated)]

mod common;

use common::*;
#[allow(unused_imports)]
use ndarray::{Ix0, Ix1, Ix2, Ix3, Ix4, Ix5, Ix6, IxDyn};
use slowgrad::{einsum, Var};

include!(concat!(env!("OUT_DIR"), "/random_cases.rs"));

#[test]
fn the_corpus_covers_every_feature() {
    assert_eq!(RANDOM_PATTERNS.len(), RANDOM_EQUATIONS);
    assert!(RANDOM_PATTERNS.len() >= 200);
    let has = |f: &dyn Fn(&str) -> bool| RANDOM_PATTERNS.iter().filter(|p| f(p)).count();
    let eq = |p: &str| slowgrad::Equation::parse(p).unwrap();
    let diag = has(&|p| eq(p).inputs.iter().any(|t| (1..t.axes.len()).any(|i| t.axes[..i].contains(&t.axes[i]))));
    let scalar = has(&|p| eq(p).inputs.iter().any(|t| t.axes.is_empty()));
    let upper = has(&|p| p.chars().any(|c| c.is_ascii_uppercase()));
    let implicit = has(&|p| !p.contains("->"));
    let named = has(&|p| eq(p).named);
    let ellipsis = has(&|p| p.contains("..."));
    let four = has(&|p| eq(p).inputs.len() == 4);
    let one = has(&|p| eq(p).inputs.len() == 1);
    for (what, n) in [
        ("diagonals", diag),
        ("scalars", scalar),
        ("upper case", upper),
        ("implicit output", implicit),
        ("named labels", named),
        ("ellipsis", ellipsis),
        ("four operands", four),
        ("one operand", one),
    ] {
        assert!(n >= 5, "only {n} random equations with {what}");
    }
}

#[test]
fn random_equations_pass_with_the_baseline_kernels() {
    rerun_with_baseline_kernels(RANDOM_EQUATIONS);
}
