//! Shared test helpers: the PyTorch oracle fixture and a finite-difference gradient check.
#![allow(dead_code)]

pub mod gen;

use ndarray::{ArrayD, IxDyn};
use serde_json::Value;

/// One operand or result from the fixture.
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

    pub fn array<T: slowgrad::Float>(&self) -> ArrayD<T> {
        ArrayD::from_shape_vec(IxDyn(&self.shape), self.data.iter().map(|&x| T::cast(x)).collect())
            .expect("shape fits data")
    }
}

/// One case of `einsum_cases.json`.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub equation: String,
    pub letters: Option<String>,
    pub operands: Vec<Tensor>,
    pub output: Tensor,
    pub upstream: Tensor,
    pub grads: Vec<Tensor>,
}

pub fn oracle_cases() -> Vec<Case> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/einsum_cases.json"))
        .expect("fixture");
    let json: Value = serde_json::from_str(&text).expect("valid json");
    json["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().expect("name").to_string(),
            equation: c["equation"].as_str().expect("equation").to_string(),
            letters: c.get("letters").and_then(|l| l.as_str()).map(str::to_string),
            operands: c["operands"].as_array().expect("operands").iter().map(Tensor::from_json).collect(),
            output: Tensor::from_json(&c["output"]),
            upstream: Tensor::from_json(&c["upstream"]),
            grads: c["grads"].as_array().expect("grads").iter().map(Tensor::from_json).collect(),
        })
        .collect()
}

pub fn programs() -> Value {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/programs.json")).expect("fixture");
    serde_json::from_str(&text).expect("valid json")
}

/// The largest |x - y| of the pairs, a NaN difference counting as infinite (`f64::max` would
/// skip it, so a NaN result would pass).
pub fn max_diff(pairs: impl IntoIterator<Item = (f64, f64)>) -> f64 {
    pairs.into_iter().map(|(x, y)| (x - y).abs()).fold(0.0, |m, d| if d.is_nan() { f64::INFINITY } else { m.max(d) })
}

/// Max |got - want| relative to max |want| (or absolute when want is all zeros).
pub fn rel_err<T: slowgrad::Float>(got: &ArrayD<T>, want: &Tensor) -> f64 {
    assert_eq!(got.shape(), &want.shape[..], "shape");
    let scale = want.data.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(1e-300);
    let err = max_diff(got.iter().zip(&want.data).map(|(g, &w)| (g.as_f64(), w)));
    if want.data.iter().all(|x| *x == 0.0) {
        err
    } else {
        err / scale
    }
}

/// Central-difference gradient check of `f` (a scalar function of several arrays) against
/// `analytic` gradients, in f64. Returns the worst (|num - ana| / (atol + rtol |num|)).
pub fn gradcheck(
    f: &dyn Fn(&[ArrayD<f64>]) -> f64,
    inputs: &[ArrayD<f64>],
    analytic: &[ArrayD<f64>],
    eps: f64,
) -> Result<(), String> {
    let (atol, rtol) = (1e-6, 1e-5);
    for (k, x) in inputs.iter().enumerate() {
        assert_eq!(analytic[k].shape(), x.shape(), "gradient {k} shape");
        for i in 0..x.len() {
            let mut plus = inputs.to_vec();
            let mut minus = inputs.to_vec();
            plus[k].as_slice_mut().expect("standard layout")[i] += eps;
            minus[k].as_slice_mut().expect("standard layout")[i] -= eps;
            let num = (f(&plus) - f(&minus)) / (2.0 * eps);
            let ana = analytic[k].as_slice().expect("standard layout")[i];
            if (num - ana).abs() > atol + rtol * num.abs() {
                return Err(format!("operand {k} element {i}: numeric {num} vs analytic {ana}"));
            }
        }
    }
    Ok(())
}

/// A deterministic array of `shape` with entries in `[lo, hi)`.
pub fn rand(shape: &[usize], lo: f64, hi: f64, seed: u64) -> ArrayD<f64> {
    let mut rng = slowgrad::Rng::new(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.uniform(lo, hi))
}

/// `Σ f(x) ⊙ R` for a fixed random `R`, so every output element gets its own weight.
pub fn weighted(out: &slowgrad::Var<f64>) -> slowgrad::Var<f64> {
    let r = slowgrad::Var::constant(rand(&out.shape(), -1.0, 1.0, 99));
    (out * &r).sum().as_dyn()
}
