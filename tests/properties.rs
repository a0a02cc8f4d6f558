//! Property tests of the runtime `einsum()`: finite-difference gradient checks on generated
//! equations, and no panic on arbitrary input.

mod common;

use common::gen::generate;
use common::gradcheck;
use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use slowgrad::{einsum, no_grad, Operand, Var};

fn random_array(rng: &mut StdRng, shape: &[usize]) -> ArrayD<f64> {
    ArrayD::from_shape_fn(IxDyn(shape), |_| rng.random_range(-1.0..1.0))
}

fn eval(pattern: &str, xs: &[ArrayD<f64>]) -> ArrayD<f64> {
    no_grad(|| {
        let vars: Vec<Var<f64>> = xs.iter().map(|x| Var::constant(x.clone())).collect();
        let ops: Vec<&dyn Operand<f64>> = vars.iter().map(|v| v as &dyn Operand<f64>).collect();
        einsum(pattern, &ops).expect("generated equations are valid").value()
    })
}

/// dL/dx of L = Σ out ⊙ R by backward, against central differences.
fn check(seed: u64) -> Result<(), String> {
    let g = generate(seed);
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let xs: Vec<ArrayD<f64>> = g.shapes.iter().map(|s| random_array(&mut rng, s)).collect();
    let vars: Vec<Var<f64>> = xs.iter().map(|x| Var::new(x.clone())).collect();
    let ops: Vec<&dyn Operand<f64>> = vars.iter().map(|v| v as &dyn Operand<f64>).collect();
    let out = einsum(&g.pattern, &ops).map_err(|e| format!("{} {:?}: {e}", g.pattern, g.shapes))?;
    let r = random_array(&mut rng, &out.shape());
    out.backward_with(r.clone());
    let analytic: Vec<ArrayD<f64>> =
        vars.iter().zip(&xs).map(|(v, x)| v.grad().unwrap_or_else(|| ArrayD::zeros(x.raw_dim()))).collect();
    let f = |inputs: &[ArrayD<f64>]| (eval(&g.pattern, inputs) * &r).sum();
    gradcheck(&f, &xs, &analytic, 1e-6).map_err(|e| format!("{} {:?}: {e}", g.pattern, g.shapes))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn gradients_match_finite_differences(seed in any::<u64>()) {
        check(seed).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn generator_covers_every_feature() {
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..600 {
        let g = generate(seed);
        seen.extend(g.features);
        check(seed).unwrap();
    }
    for f in
        ["scalar", "diagonal", "ellipsis", "implicit", "named", "uppercase", "size1", "1op", "2ops", "3ops", "4ops"]
    {
        assert!(seen.contains(f), "feature {f} never generated: {seen:?}");
    }
}

/// Runs `einsum()` (and, when it returns `Ok`, the backward pass) on operands of `shapes`;
/// false if anything panicked.
fn runs_without_panic(pattern: &str, shapes: &[Vec<usize>]) -> bool {
    let vars: Vec<Var<f64>> = shapes.iter().map(|s| Var::new(ArrayD::from_elem(IxDyn(s), 0.5))).collect();
    let ops: Vec<&dyn Operand<f64>> = vars.iter().map(|v| v as &dyn Operand<f64>).collect();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if let Ok(out) = einsum(pattern, &ops) {
            out.backward_with(ArrayD::from_elem(IxDyn(&out.shape()), 1.0));
        }
    }))
    .is_ok()
}

fn shapes_strategy() -> impl Strategy<Value = Vec<Vec<usize>>> {
    prop::collection::vec(prop::collection::vec(0usize..4, 0..4), 0..4)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary pattern text and shapes: `einsum()` returns Ok or Err, and never panics, and
    /// neither does the backward pass of an Ok result.
    #[test]
    fn arbitrary_input_never_panics(pattern in "[ijkIA ,.>_1é-]{0,14}", shapes in shapes_strategy()) {
        prop_assert!(runs_without_panic(&pattern, &shapes), "panic on pattern {:?} shapes {:?}", pattern, shapes);
    }

    /// Well-formed patterns with random shapes (often not fitting): Ok or Err, never a panic.
    #[test]
    fn random_shapes_never_panic(seed in 0u64..10_000, shapes in shapes_strategy()) {
        let pattern = generate(seed).pattern;
        prop_assert!(runs_without_panic(&pattern, &shapes), "panic on pattern {:?} shapes {:?}", pattern, shapes);
    }
}
