//! Finite-difference checks of first and second derivatives.
//!
//! [`gradcheck`] compares the whole Jacobian of a function, row by row from backward passes,
//! with central differences; [`gradgradcheck`] does the same for the function's gradient
//! (recorded with `create_graph`), which checks second derivatives. Both work in f64.
//!
//! Tolerances (PyTorch's defaults): an entry passes when
//! `|numeric - analytic| ≤ atol + rtol · |numeric|`, with `eps = 1e-6`, `atol = 1e-5`,
//! `rtol = 1e-3`.
//!
//! ```
//! use ndarray::array;
//! use slowgrad::gradcheck::{gradcheck, gradgradcheck, GradcheckOptions};
//! let f = |xs: &[slowgrad::Var<f64>]| (&xs[0] * &xs[1]).softplus();
//! let inputs = [array![0.5, -1.0].into_dyn(), array![2.0, 0.3].into_dyn()];
//! let report = gradcheck(&f, &inputs, GradcheckOptions::default()).unwrap();
//! assert!(report.max_abs_error < 1e-5);
//! gradgradcheck(&f, &inputs, GradcheckOptions::default()).unwrap();
//! ```

use crate::{gradients, BackwardOptions, Var};
use ndarray::{ArrayD, IxDyn};
use std::fmt;

/// A function checked by [`gradcheck`]: inputs to one output.
///
/// ```
/// use ndarray::array;
/// use slowgrad::gradcheck::{gradcheck, Checked, GradcheckOptions};
/// use slowgrad::Var;
/// // several functions checked in one loop
/// let cases: Vec<(&str, Box<Checked>)> = vec![
///     ("tanh", Box::new(|xs: &[Var<f64>]| xs[0].tanh())),
///     ("softmax", Box::new(|xs: &[Var<f64>]| xs[0].softmax(0))),
/// ];
/// for (name, f) in &cases {
///     let r = gradcheck(f.as_ref(), &[array![0.1, -0.4, 0.9].into_dyn()], GradcheckOptions::default());
///     assert!(r.is_ok(), "{name}");
///     assert_eq!(r.unwrap().entries, 3 * 3);
/// }
/// ```
pub type Checked<'a> = dyn Fn(&[Var<f64, IxDyn>]) -> Var<f64, IxDyn> + 'a;

/// Step and tolerances of a gradient check. An entry passes when
/// `|numeric − analytic| ≤ atol + rtol · |numeric|`.
///
/// ```
/// use ndarray::{array, IxDyn};
/// use slowgrad::gradcheck::{gradcheck, GradcheckOptions};
/// use slowgrad::{record, Var};
/// let d = GradcheckOptions::default();
/// assert_eq!((d.eps, d.atol, d.rtol), (1e-6, 1e-5, 1e-3));
/// // y = 2x with a backward that is off by 0.5 %
/// let f = |xs: &[Var<f64>]| {
///     let x = &xs[0];
///     record("twice", x.value() * 2.0, &[x.clone()], |g: &Var<f64, IxDyn>, _: &[Var<f64>], _: &Var<f64>| {
///         vec![Some(g.mul_scalar(2.01))]
///     })
/// };
/// let x = [array![1.0].into_dyn()];
/// assert!(gradcheck(&f, &x, d).is_err());
/// assert!(gradcheck(&f, &x, GradcheckOptions { rtol: 1e-2, ..d }).is_ok());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GradcheckOptions {
    /// Finite-difference step.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance.
    pub rtol: f64,
}

impl Default for GradcheckOptions {
    fn default() -> Self {
        GradcheckOptions { eps: 1e-6, atol: 1e-5, rtol: 1e-3 }
    }
}

/// A Jacobian entry where the analytic and numeric derivatives disagree.
///
/// ```
/// use ndarray::{array, IxDyn};
/// use slowgrad::gradcheck::{gradcheck, FailureKind, GradcheckOptions};
/// use slowgrad::{record, Var};
/// // y = x² with a wrong backward (x instead of 2x)
/// let f = |xs: &[Var<f64>]| {
///     let x = &xs[0];
///     record("square", x.value().mapv(|v| v * v), &[x.clone()], |g: &Var<f64, IxDyn>, ins: &[Var<f64>], _: &Var<f64>| {
///         vec![Some(g * &ins[0])]
///     })
/// };
/// let err = gradcheck(&f, &[array![0.0, 3.0].into_dyn()], GradcheckOptions::default()).unwrap_err();
/// // the first wrong entry: d y[1] / d x[1] (at 0 both derivatives are 0)
/// assert_eq!((err.input, err.input_index.clone(), err.output_index.clone()), (0, vec![1], vec![1]));
/// assert!((err.numeric - 6.0).abs() < 1e-4 && err.analytic == 3.0);
/// assert_eq!(err.order, "gradient");
/// assert_eq!(err.kind, FailureKind::Mismatch);
/// assert!(err.to_string().starts_with("gradient mismatch: d output[1] / d input 0[1]"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GradcheckFailure {
    /// Which input (0-based).
    pub input: usize,
    /// The input element's index.
    pub input_index: Vec<usize>,
    /// The output element's index.
    pub output_index: Vec<usize>,
    /// The finite-difference derivative.
    pub numeric: f64,
    /// The derivative from the backward pass.
    pub analytic: f64,
    /// What was checked ("gradient" or "second derivative").
    pub order: &'static str,
    /// What went wrong: the derivatives differ, or the output changed shape.
    pub kind: FailureKind,
}

/// What a [`GradcheckFailure`] reports.
///
/// ```
/// use ndarray::array;
/// use slowgrad::gradcheck::{gradcheck, FailureKind, GradcheckOptions};
/// // the entries above 0: an output shape that depends on the input's values
/// let f = |xs: &[slowgrad::Var<f64>]| {
///     let keep: Vec<usize> = xs[0].value().iter().enumerate().filter(|&(_, &v)| v > 0.0).map(|(i, _)| i).collect();
///     xs[0].index_select(0, &keep)
/// };
/// // moving x[0] = 1e-7 by 1e-6 makes it negative
/// let err = gradcheck(&f, &[array![1e-7, 1.0].into_dyn()], GradcheckOptions::default()).unwrap_err();
/// assert_eq!(err.kind, FailureKind::OutputShape { expected: [2].into(), got: [1].into() });
/// assert_eq!((err.input, err.input_index), (0, vec![0]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// The backward pass and finite differences disagree (`numeric` and `analytic`).
    Mismatch,
    /// The function's output had shape `expected` at the inputs and `got` with input `input`
    /// moved at `input_index` (or on another call): finite differences need an output shape
    /// that does not change. `output_index` is empty and `numeric`, `analytic` are NaN.
    OutputShape {
        /// The output's shape at the inputs.
        expected: Box<[usize]>,
        /// The output's shape on the other call.
        got: Box<[usize]>,
    },
}

impl fmt::Display for GradcheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let FailureKind::OutputShape { expected, got } = &self.kind {
            return write!(
                f,
                "the checked function's output has shape {expected:?} at the inputs but {got:?} with input {}{:?} moved by the finite-difference step: its output shape must not depend on the inputs' values or change between calls",
                self.input, self.input_index
            );
        }
        write!(
            f,
            "{} mismatch: d output{:?} / d input {}{:?} is {} by backward but {} by finite differences",
            self.order, self.output_index, self.input, self.input_index, self.analytic, self.numeric
        )
    }
}

impl std::error::Error for GradcheckFailure {}

/// Facts about a check that passed.
///
/// ```
/// use ndarray::array;
/// use slowgrad::gradcheck::{gradcheck, GradcheckOptions};
/// // a (2,) output of two inputs of 3 and 2 elements: 2 · (3 + 2) Jacobian entries
/// let r = gradcheck(
///     &|xs| (&xs[0].sum().as_dyn() * &xs[1]).sigmoid(),
///     &[array![0.1, 0.2, 0.3].into_dyn(), array![1.0, -1.0].into_dyn()],
///     GradcheckOptions::default(),
/// )
/// .unwrap();
/// assert_eq!(r.entries, 2 * (3 + 2));
/// assert!(r.max_abs_error < 1e-6);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct GradcheckReport {
    /// Jacobian entries compared.
    pub entries: usize,
    /// Largest `|numeric - analytic|` seen.
    pub max_abs_error: f64,
}

fn unravel(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        if shape[d] > 0 {
            idx[d] = i % shape[d];
            i /= shape[d];
        }
    }
    idx
}

/// `f`'s value at `xs`. The inputs are leaves that require gradients, since `f` may itself
/// differentiate (as in `gradgradcheck`).
fn run(f: &Checked, xs: &[ArrayD<f64>]) -> ArrayD<f64> {
    let vars: Vec<Var<f64, IxDyn>> = xs.iter().map(|x| Var::new(x.clone())).collect();
    f(&vars).value()
}

fn check(
    f: &Checked,
    inputs: &[ArrayD<f64>],
    opts: GradcheckOptions,
    order: &'static str,
) -> Result<GradcheckReport, GradcheckFailure> {
    let inputs: Vec<ArrayD<f64>> = inputs.iter().map(|x| x.as_standard_layout().into_owned()).collect();
    let vars: Vec<Var<f64, IxDyn>> = inputs.iter().map(|x| Var::new(x.clone())).collect();
    let y = f(&vars);
    let out_shape = y.shape();
    let m: usize = out_shape.iter().product();
    // analytic Jacobian rows: one backward pass per output element
    let refs: Vec<&Var<f64, IxDyn>> = vars.iter().collect();
    let mut rows: Vec<Vec<Option<ArrayD<f64>>>> = Vec::with_capacity(m);
    for i in 0..m {
        let mut e = ArrayD::<f64>::zeros(IxDyn(&out_shape));
        e.as_slice_mut().expect("fresh arrays are contiguous")[i] = 1.0;
        let opts = BackwardOptions { retain_graph: true, create_graph: false };
        let g = if y.requires_grad() {
            gradients(&y, &refs, Some(&Var::constant(e)), opts).expect("seed has the output's shape")
        } else {
            vec![None; vars.len()]
        };
        rows.push(g.into_iter().map(|g| g.map(|g| g.value())).collect());
    }
    let mut report = GradcheckReport { entries: 0, max_abs_error: 0.0 };
    for (k, x) in inputs.iter().enumerate() {
        for j in 0..x.len() {
            let mut plus = inputs.clone();
            let mut minus = inputs.clone();
            plus[k].as_slice_mut().expect("standard layout")[j] += opts.eps;
            minus[k].as_slice_mut().expect("standard layout")[j] -= opts.eps;
            let (up, down) = (run(f, &plus), run(f, &minus));
            for moved in [&up, &down] {
                if moved.shape() != &out_shape[..] {
                    return Err(GradcheckFailure {
                        input: k,
                        input_index: unravel(j, x.shape()),
                        output_index: Vec::new(),
                        numeric: f64::NAN,
                        analytic: f64::NAN,
                        order,
                        kind: FailureKind::OutputShape {
                            expected: out_shape.as_slice().into(),
                            got: moved.shape().into(),
                        },
                    });
                }
            }
            let diff = (up - down) / (2.0 * opts.eps);
            for (i, &numeric) in diff.iter().enumerate() {
                let analytic = rows[i][k]
                    .as_ref()
                    .map_or(0.0, |g| g.as_slice().map_or_else(|| g.iter().nth(j).copied().unwrap_or(0.0), |s| s[j]));
                let err = (numeric - analytic).abs();
                report.entries += 1;
                report.max_abs_error = report.max_abs_error.max(err);
                if err.is_nan() || err > opts.atol + opts.rtol * numeric.abs() {
                    return Err(GradcheckFailure {
                        input: k,
                        input_index: unravel(j, x.shape()),
                        output_index: unravel(i, &out_shape),
                        numeric,
                        analytic,
                        order,
                        kind: FailureKind::Mismatch,
                    });
                }
            }
        }
    }
    Ok(report)
}

/// Checks the gradients of `f` with respect to every input against central differences, over
/// the whole Jacobian.
///
/// **Errors** with the first entry that disagrees, naming the input, its element and the output
/// element, or ([`FailureKind::OutputShape`]) if `f`'s output changes shape between calls.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum, gradcheck::{gradcheck, GradcheckOptions}};
/// let report = gradcheck(
///     &|xs| einsum("ij,jk->ik", &[&xs[0], &xs[1]]).unwrap().sigmoid(),
///     &[array![[1.0, 2.0], [0.5, -1.0]].into_dyn(), array![[0.3, -0.2], [0.1, 0.4]].into_dyn()],
///     GradcheckOptions::default(),
/// ).unwrap();
/// assert_eq!(report.entries, 2 * 4 * 4);
/// ```
pub fn gradcheck(
    f: &Checked,
    inputs: &[ArrayD<f64>],
    opts: GradcheckOptions,
) -> Result<GradcheckReport, GradcheckFailure> {
    check(f, inputs, opts, "gradient")
}

/// Checks the second derivatives of `f`: the vector-Jacobian product `x ↦ Σₖ ⟨∂f/∂xₖ ᵀ u, wₖ⟩`
/// for fixed pseudo-random `u` and `wₖ` is differentiated through the recorded backward pass
/// and compared with central differences of the first derivatives.
///
/// **Errors** with the first entry that disagrees, or ([`FailureKind::OutputShape`]) if `f`'s
/// output changes shape between calls.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum, gradcheck::{gradgradcheck, GradcheckOptions}};
/// gradgradcheck(
///     &|xs| einsum("i,ij,j->i", &[&xs[0], &xs[1], &xs[0]]).unwrap().tanh(),
///     &[array![0.3, -0.7].into_dyn(), array![[1.0, 2.0], [0.5, -1.0]].into_dyn()],
///     GradcheckOptions::default(),
/// ).unwrap();
/// ```
pub fn gradgradcheck(
    f: &Checked,
    inputs: &[ArrayD<f64>],
    opts: GradcheckOptions,
) -> Result<GradcheckReport, GradcheckFailure> {
    let out_shape = run(f, inputs).shape().to_vec();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise = |shape: &[usize]| {
        ArrayD::from_shape_fn(IxDyn(shape), |_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
    };
    let u = noise(&out_shape);
    let ws: Vec<ArrayD<f64>> = inputs.iter().map(|x| noise(x.shape())).collect();
    // the first other output shape seen, if `f`'s output changes shape
    let changed: std::cell::RefCell<Option<Vec<usize>>> = std::cell::RefCell::new(None);
    let h = |xs: &[Var<f64, IxDyn>]| -> Var<f64, IxDyn> {
        let y = f(xs);
        if y.shape() != out_shape {
            changed.borrow_mut().get_or_insert(y.shape());
            return Var::constant(ArrayD::from_elem(IxDyn(&[]), f64::NAN));
        }
        let refs: Vec<&Var<f64, IxDyn>> = xs.iter().collect();
        let seed = Var::constant(u.clone());
        let opts = BackwardOptions { retain_graph: true, create_graph: true };
        let gs = if y.requires_grad() {
            gradients(&y, &refs, Some(&seed), opts).expect("seed has the output's shape")
        } else {
            vec![None; xs.len()]
        };
        let mut total: Var<f64, IxDyn> = Var::constant(ArrayD::zeros(IxDyn(&[])));
        for (g, w) in gs.into_iter().zip(&ws) {
            if let Some(g) = g {
                total = &total + &(&g * &Var::constant(w.clone())).sum().as_dyn();
            }
        }
        total
    };
    check(&h, inputs, opts, "second derivative").map_err(|mut e| {
        if let Some(got) = changed.borrow_mut().take() {
            (e.output_index, e.numeric, e.analytic) = (Vec::new(), f64::NAN, f64::NAN);
            e.kind = FailureKind::OutputShape { expected: out_shape.as_slice().into(), got: got.into() };
        }
        e
    })
}
