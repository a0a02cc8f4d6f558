//! Helpers of the generated tests: the oracle fixture, deterministic values, comparisons.
#![allow(dead_code)]

use ndarray::{Array, ArrayD, Dimension, IxDyn};
use serde_json::Value;
use slowgrad::{BackwardOptions, Float, Operand, Var};
use std::sync::OnceLock;

pub const F64_TOL: f64 = 1e-9;
pub const F32_TOL: f64 = 2e-4;

/// One operand or result of the fixture.
#[derive(Debug, Clone)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f64>,
}

impl Tensor {
    fn from_json(v: &Value) -> Tensor {
        let shape = v["shape"].as_array().expect("shape").iter().map(|d| d.as_u64().expect("dim") as usize).collect();
        let data = v["data"].as_array().expect("data").iter().map(|x| x.as_f64().expect("number")).collect();
        Tensor { shape, data }
    }

    pub fn array<T: Float>(&self) -> ArrayD<T> {
        ArrayD::from_shape_vec(IxDyn(&self.shape), self.data.iter().map(|&x| T::cast(x)).collect())
            .expect("shape fits data")
    }
}

/// One case of `einsum_cases.json`.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub equation: String,
    pub operands: Vec<Tensor>,
    pub output: Tensor,
    pub upstream: Tensor,
    pub grads: Vec<Tensor>,
}

fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/einsum_cases.json");
        let text = std::fs::read_to_string(path).expect("fixture");
        let json: Value = serde_json::from_str(&text).expect("valid json");
        json["cases"]
            .as_array()
            .expect("cases")
            .iter()
            .map(|c| Case {
                name: c["name"].as_str().expect("name").to_string(),
                equation: c["equation"].as_str().expect("equation").to_string(),
                operands: c["operands"].as_array().expect("operands").iter().map(Tensor::from_json).collect(),
                output: Tensor::from_json(&c["output"]),
                upstream: Tensor::from_json(&c["upstream"]),
                grads: c["grads"].as_array().expect("grads").iter().map(Tensor::from_json).collect(),
            })
            .collect()
    })
}

pub fn case(i: usize) -> Case {
    cases()[i].clone()
}

pub fn case_count() -> usize {
    cases().len()
}

/// A fixture tensor as an array of dimension `D`.
pub fn fixed<T: Float, D: Dimension>(t: &Tensor) -> Array<T, D> {
    t.array::<T>().into_dimensionality::<D>().expect("the generated dimension fits the fixture's rank")
}

/// max |got - want| / max |want| (absolute when want is all zeros).
pub fn rel_err<T: Float>(got: &ArrayD<T>, want: &Tensor) -> Result<f64, String> {
    if got.shape() != &want.shape[..] {
        return Err(format!("shape {:?}, expected {:?}", got.shape(), want.shape));
    }
    let scale = want.data.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    // a NaN counts as an infinite error (`f64::max` would skip it)
    let err = got.iter().zip(&want.data).map(|(g, w)| (g.as_f64() - w).abs()).fold(0.0f64, |m, d| {
        if d.is_nan() {
            f64::INFINITY
        } else {
            m.max(d)
        }
    });
    Ok(if scale == 0.0 { err } else { err / scale })
}

pub fn check<T: Float>(got: &ArrayD<T>, want: &Tensor, tol: f64, what: &str) -> Result<(), String> {
    let e = rel_err(got, want).map_err(|e| format!("{what}: {e}"))?;
    if e > tol {
        return Err(format!("{what}: relative error {e:e} > {tol:e}"));
    }
    Ok(())
}

pub fn check_grads<T: Float>(grads: &[Option<ArrayD<T>>], case: &Case, tol: f64) -> Result<(), String> {
    for (k, (g, want)) in grads.iter().zip(&case.grads).enumerate() {
        let g = g.as_ref().ok_or_else(|| format!("no gradient for operand {k}"))?;
        check(g, want, tol, &format!("gradient {k}"))?;
    }
    Ok(())
}

/// Deterministic values in [-1, 1) for a shape.
pub fn values<D: Dimension>(shape: &[usize], seed: usize) -> Array<f64, D> {
    let mut state = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    let n: usize = shape.iter().product();
    let data: Vec<f64> = (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect();
    ArrayD::from_shape_vec(IxDyn(shape), data)
        .expect("shape fits")
        .into_dimensionality::<D>()
        .expect("generated dimension fits the shape")
}

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>, what: &str, pattern: &str) {
    assert_eq!(a.shape(), b.shape(), "{pattern}: {what} shape");
    let scale = b.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= 1e-12 * scale, "{pattern}: {what}: macro {a} vs runtime {b}");
    }
}

fn grads(vars: &[&Var<f64, IxDyn>]) -> Vec<Option<Var<f64, IxDyn>>> {
    let g = vars.iter().map(|v| v.grad_var()).collect();
    for v in vars {
        v.zero_grad();
    }
    g
}

/// Σ_k Σ (g_k ⊙ w_k) with fixed weights w_k: a scalar function of the gradients, recorded.
fn weigh(gs: &[Option<Var<f64, IxDyn>>], shapes: &[Vec<usize>], seed: usize) -> Option<Var<f64, IxDyn>> {
    let mut total: Option<Var<f64, IxDyn>> = None;
    for (k, (g, shape)) in gs.iter().zip(shapes).enumerate() {
        let Some(g) = g else { continue };
        let w = Var::constant(values::<IxDyn>(shape, seed * 31 + k));
        let letters: String = "abcdefgh".chars().take(shape.len()).collect();
        let term = slowgrad::einsum(&format!("{letters},{letters}->"), &[g, &w]).expect("same shapes");
        total = Some(match total {
            Some(t) => &t + &term,
            None => term,
        });
    }
    total
}

/// `einsum!` (`Var` result `m`, array result `a`) against the runtime-parsed `einsum()` on the
/// same operands: forward values, first-order gradients for a random upstream, and second-order
/// gradients of a weighted sum of the first-order ones (both built with `create_graph`).
pub fn compare(pattern: &str, m: &Var<f64, IxDyn>, a: &ArrayD<f64>, ops: &[&dyn Operand<f64>], seed: usize) {
    let vars: Vec<Var<f64, IxDyn>> = ops.iter().map(|o| o.to_var()).collect();
    let refs: Vec<&Var<f64, IxDyn>> = vars.iter().collect();
    let shapes: Vec<Vec<usize>> = vars.iter().map(|v| v.shape()).collect();
    let r = slowgrad::einsum(pattern, ops).expect("the runtime accepts what the macro accepted");
    let rv = r.value();
    close(&m.value(), &rv, "forward", pattern);
    close(a, &rv, "array forward", pattern);
    let up = Var::constant(values::<IxDyn>(&r.shape(), seed + 1000));
    let opts = BackwardOptions { create_graph: true, retain_graph: true };
    m.try_backward_with_var(&up, opts).expect("macro backward");
    let gm = grads(&refs);
    r.try_backward_with_var(&up, opts).expect("runtime backward");
    let gr = grads(&refs);
    for (k, (x, y)) in gm.iter().zip(&gr).enumerate() {
        let x = x.as_ref().unwrap_or_else(|| panic!("{pattern}: macro gave no gradient {k}"));
        let y = y.as_ref().unwrap_or_else(|| panic!("{pattern}: runtime gave no gradient {k}"));
        close(&x.value(), &y.value(), &format!("gradient {k}"), pattern);
    }
    // second order: both scalars are the same function, so their gradients must agree
    let (Some(sm), Some(sr)) = (weigh(&gm, &shapes, seed), weigh(&gr, &shapes, seed)) else { return };
    // a scalar that does not depend on the operands (the gradients of a linear pattern) has
    // no graph to go back through: its second-order gradients are all missing
    if sm.requires_grad() {
        sm.try_backward(BackwardOptions::default()).expect("macro second backward");
    }
    let hm = grads(&refs);
    if sr.requires_grad() {
        sr.try_backward(BackwardOptions::default()).expect("runtime second backward");
    }
    let hr = grads(&refs);
    for (k, (x, y)) in hm.iter().zip(&hr).enumerate() {
        match (x, y) {
            (Some(x), Some(y)) => close(&x.value(), &y.value(), &format!("second-order gradient {k}"), pattern),
            (None, None) => {}
            (x, y) => {
                let zero = |v: &Option<Var<f64, IxDyn>>| v.as_ref().is_none_or(|v| v.value().iter().all(|&e| e == 0.0));
                assert!(zero(x) && zero(y), "{pattern}: second-order gradient {k} present on one side only");
            }
        }
    }
}

/// Generated kernels have two compiled copies: AVX2 with fused multiply-adds, chosen where the
/// processor has them, and the baseline instruction set. The other tests of a binary run the
/// copy this machine selects; this runs the whole binary again in a child process with
/// `SLOWGRAD_BASELINE_KERNELS` set, so both copies are checked wherever the tests run. In the
/// child it checks that the baseline copy is the one selected.
pub fn rerun_with_baseline_kernels(min_passed: usize) {
    const VAR: &str = "SLOWGRAD_BASELINE_KERNELS";
    if std::env::var_os(VAR).is_some() {
        assert!(!slowgrad::__private::kernels_use_fma(), "{VAR} is set, yet the FMA kernels are selected");
        return;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = std::process::Command::new(exe).env(VAR, "1").output().expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "with the baseline kernels:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let passed: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("test result: ok. ")?.split(' ').next()?.parse().ok())
        .expect("the child's summary line");
    assert!(passed >= min_passed, "only {passed} tests ran with the baseline kernels:\n{stdout}");
}
