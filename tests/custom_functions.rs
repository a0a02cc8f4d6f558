//! The seeds' custom functions, each with a hand-written backward, each passing gradcheck.

use ndarray::{ArrayD, ArrayViewD, Axis, Ix1, Ix2, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use slowgrad::function::{apply, Function, Saved};
use slowgrad::gradcheck::{gradcheck, gradgradcheck, GradcheckOptions};
use slowgrad::{einsum, Var};

fn random(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    ArrayD::from_shape_fn(IxDyn(shape), |_| rng.random_range(-1.0..1.0))
}

/// y = A x; dA = g xᵀ, dx = Aᵀ g, written with einsum so it is differentiable again.
struct MatVec;

impl Function<f64> for MatVec {
    fn name(&self) -> &'static str {
        "matvec"
    }
    fn forward(&self, x: &[ArrayViewD<'_, f64>], _: &mut Saved<f64>) -> ArrayD<f64> {
        let a = x[0].view().into_dimensionality::<Ix2>().expect("A is a matrix");
        let v = x[1].view().into_dimensionality::<Ix1>().expect("x is a vector");
        a.dot(&v).into_dyn()
    }
    fn backward(&self, _: &Saved<f64>, g: &Var<f64>, x: &[Var<f64>], _: &Var<f64>) -> Vec<Option<Var<f64>>> {
        vec![Some(einsum("i,j->ij", &[g, &x[1]]).unwrap()), Some(einsum("ij,i->j", &[&x[0], g]).unwrap())]
    }
}

/// Inverted dropout: the mask drawn in the forward is saved for the backward.
struct Dropout {
    p: f64,
    seed: u64,
}

impl Function<f64> for Dropout {
    fn name(&self) -> &'static str {
        "dropout"
    }
    fn forward(&self, x: &[ArrayViewD<'_, f64>], saved: &mut Saved<f64>) -> ArrayD<f64> {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let keep = 1.0 - self.p;
        let mask = x[0].mapv(|_| if rng.random_bool(keep) { 1.0 / keep } else { 0.0 });
        let y = &x[0] * &mask;
        saved.push(mask);
        y
    }
    fn backward(&self, saved: &Saved<f64>, g: &Var<f64>, _: &[Var<f64>], _: &Var<f64>) -> Vec<Option<Var<f64>>> {
        vec![Some(g * &saved.var(0))]
    }
}

/// Softmax over the last axis with the hand-written backward dx = y ⊙ (g - Σ g ⊙ y).
struct Softmax;

impl Function<f64> for Softmax {
    fn name(&self) -> &'static str {
        "softmax"
    }
    fn forward(&self, x: &[ArrayViewD<'_, f64>], _: &mut Saved<f64>) -> ArrayD<f64> {
        let last = Axis(x[0].ndim() - 1);
        let max = x[0].map_axis(last, |r| r.fold(f64::NEG_INFINITY, |m, &v| m.max(v))).insert_axis(last);
        let e = (&x[0] - &max).mapv(f64::exp);
        let s = e.sum_axis(last).insert_axis(last);
        e / s
    }
    fn backward(&self, _: &Saved<f64>, g: &Var<f64>, _: &[Var<f64>], y: &Var<f64>) -> Vec<Option<Var<f64>>> {
        // Σ_j g_ij y_ij, kept as a column to broadcast back
        let dot = einsum("ij,ij->i", &[g, y]).unwrap();
        let col = einsum("i,j->ij", &[&dot, &Var::constant(ndarray::Array1::ones(y.shape()[1]))]).unwrap();
        vec![Some(y * &(g - &col))]
    }
}

/// 1-D valid convolution (cross-correlation) y[o, t] = Σ_{c,k} w[o, c, k] x[c, t + k], with the
/// backward written by hand on arrays: dw[o,c,k] = Σ_t g[o,t] x[c,t+k], dx[c,t+k] += g[o,t] w[o,c,k].
struct Conv1d;

impl Function<f64> for Conv1d {
    fn name(&self) -> &'static str {
        "conv1d"
    }
    fn forward(&self, x: &[ArrayViewD<'_, f64>], _: &mut Saved<f64>) -> ArrayD<f64> {
        let (xs, ws) = (x[0].shape(), x[1].shape());
        let (c, n, o, k) = (xs[0], xs[1], ws[0], ws[2]);
        let t = n - k + 1;
        let mut y = ArrayD::zeros(IxDyn(&[o, t]));
        for oi in 0..o {
            for ti in 0..t {
                let mut acc = 0.0;
                for ci in 0..c {
                    for ki in 0..k {
                        acc += x[1][[oi, ci, ki]] * x[0][[ci, ti + ki]];
                    }
                }
                y[[oi, ti]] = acc;
            }
        }
        y
    }
    fn backward(&self, _: &Saved<f64>, g: &Var<f64>, x: &[Var<f64>], _: &Var<f64>) -> Vec<Option<Var<f64>>> {
        let (xv, wv, gv) = (x[0].value(), x[1].value(), g.value());
        let (c, o, k, t) = (xv.shape()[0], wv.shape()[0], wv.shape()[2], gv.shape()[1]);
        let mut dx = ArrayD::zeros(xv.raw_dim());
        let mut dw = ArrayD::zeros(wv.raw_dim());
        for oi in 0..o {
            for ti in 0..t {
                let gi = gv[[oi, ti]];
                for ci in 0..c {
                    for ki in 0..k {
                        dw[[oi, ci, ki]] += gi * xv[[ci, ti + ki]];
                        dx[[ci, ti + ki]] += gi * wv[[oi, ci, ki]];
                    }
                }
            }
        }
        vec![Some(Var::constant(dx)), Some(Var::constant(dw))]
    }
}

#[test]
fn matvec_passes_gradcheck_to_second_order() {
    let inputs = [random(&[3, 4], 1), random(&[4], 2)];
    let f = |xs: &[Var<f64>]| apply(MatVec, &[&xs[0], &xs[1]]);
    gradcheck(&f, &inputs, GradcheckOptions::default()).unwrap();
    gradgradcheck(&f, &inputs, GradcheckOptions::default()).unwrap();
    // and it agrees with einsum
    let a = Var::new(inputs[0].clone());
    let v = Var::new(inputs[1].clone());
    let want = einsum("ij,j->i", &[&a, &v]).unwrap().value();
    assert!((apply(MatVec, &[&a, &v]).value() - want).iter().all(|e| e.abs() < 1e-15));
}

#[test]
fn dropout_saves_its_mask() {
    let inputs = [random(&[4, 5], 3)];
    let f = |xs: &[Var<f64>]| apply(Dropout { p: 0.4, seed: 9 }, &[&xs[0]]);
    gradcheck(&f, &inputs, GradcheckOptions::default()).unwrap();
    let x = Var::new(inputs[0].clone());
    let y = apply(Dropout { p: 0.4, seed: 9 }, &[&x]);
    y.backward_with(ArrayD::ones(IxDyn(&[4, 5])));
    let g = x.grad().unwrap();
    // the gradient is the mask: zero where dropped, 1/(1-p) where kept, same places as y
    for (gi, yi) in g.iter().zip(y.value().iter()) {
        assert!((*gi == 0.0 && *yi == 0.0) || (gi - 1.0 / 0.6).abs() < 1e-12);
    }
    assert!(g.iter().any(|&v| v == 0.0) && g.iter().any(|&v| v > 0.0));
}

#[test]
fn softmax_with_a_hand_written_backward() {
    let inputs = [random(&[3, 5], 4)];
    let f = |xs: &[Var<f64>]| apply(Softmax, &[&xs[0]]);
    gradcheck(&f, &inputs, GradcheckOptions::default()).unwrap();
    gradgradcheck(&f, &inputs, GradcheckOptions::default()).unwrap();
    let rows = apply(Softmax, &[&Var::new(inputs[0].clone())]).value().sum_axis(Axis(1));
    assert!(rows.iter().all(|s| (s - 1.0).abs() < 1e-12));
}

#[test]
fn conv1d_with_a_hand_written_backward() {
    let inputs = [random(&[2, 7], 5), random(&[3, 2, 3], 6)];
    let f = |xs: &[Var<f64>]| apply(Conv1d, &[&xs[0], &xs[1]]);
    let report = gradcheck(&f, &inputs, GradcheckOptions::default()).unwrap();
    assert_eq!(report.entries, (14 + 18) * 15);
}

#[test]
fn gradcheck_names_the_input_and_element_that_disagree() {
    struct Wrong;
    impl Function<f64> for Wrong {
        fn forward(&self, x: &[ArrayViewD<'_, f64>], _: &mut Saved<f64>) -> ArrayD<f64> {
            x[0].mapv(|v| v * v)
        }
        fn backward(&self, _: &Saved<f64>, g: &Var<f64>, x: &[Var<f64>], _: &Var<f64>) -> Vec<Option<Var<f64>>> {
            vec![Some(g * &x[0])] // should be 2 g x
        }
    }
    let inputs = [ndarray::array![0.0, 0.5].into_dyn()];
    let err = gradcheck(&|xs: &[Var<f64>]| apply(Wrong, &[&xs[0]]), &inputs, GradcheckOptions::default()).unwrap_err();
    assert_eq!((err.input, err.input_index.clone(), err.output_index.clone()), (0, vec![1], vec![1]));
    assert!((err.numeric - 1.0).abs() < 1e-6 && (err.analytic - 0.5).abs() < 1e-12);
    let msg = err.to_string();
    assert!(msg.starts_with("gradient mismatch: d output[1] / d input 0[1] is 0.5 by backward but "), "{msg}");
    assert!(msg.ends_with("by finite differences"), "{msg}");
}
