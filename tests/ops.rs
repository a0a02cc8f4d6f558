//! Finite-difference gradient checks (f64) of every op, including broadcasting and scalar
//! cases, and of the second derivative through `create_graph` for the smooth ones.

// single-input checks read best as `&[x.clone()]`, like the multi-input ones
#![allow(clippy::cloned_ref_to_slice_refs)]

mod common;

use common::{gradcheck, rand, weighted};
use ndarray::{ArrayD, IxDyn};
use slowgrad::loss::{bce_with_logits, cross_entropy, mse_loss};
use slowgrad::{broadcast_to, no_grad, sum_to, BackwardOptions, Rng, Var};

type F<'a> = dyn Fn(&[Var<f64>]) -> Var<f64> + 'a;

/// Checks the first derivative of `f` at `inputs` against central differences.
#[track_caller]
fn check(name: &str, inputs: &[ArrayD<f64>], f: &F<'_>) {
    let vars: Vec<Var<f64>> = inputs.iter().map(|a| Var::new(a.clone())).collect();
    weighted(&f(&vars)).backward();
    let analytic: Vec<ArrayD<f64>> =
        vars.iter().map(|v| v.grad().unwrap_or_else(|| ArrayD::zeros(IxDyn(&v.shape())))).collect();
    let num = |xs: &[ArrayD<f64>]| {
        no_grad(|| {
            let vs: Vec<Var<f64>> = xs.iter().map(|a| Var::new(a.clone())).collect();
            weighted(&f(&vs)).item()
        })
    };
    if let Err(e) = gradcheck(&num, inputs, &analytic, 1e-6) {
        panic!("{name}: {e}");
    }
}

/// Checks the second derivative: the gradient of `Σ_k ⟨∇_k, R_k⟩`, where `∇_k` comes from a
/// backward pass with `create_graph`, against central differences of that same expression.
#[track_caller]
fn check2(name: &str, inputs: &[ArrayD<f64>], f: &F<'_>) {
    let first = |vars: &[Var<f64>]| -> Var<f64> {
        let out = weighted(&f(vars));
        out.try_backward(BackwardOptions { create_graph: true, retain_graph: true }).expect("backward");
        let mut total: Option<Var<f64>> = None;
        for (k, v) in vars.iter().enumerate() {
            let Some(g) = v.grad_var() else { continue };
            let r = Var::constant(rand(&v.shape(), -1.0, 1.0, 500 + k as u64));
            let term = (&g * &r).sum().as_dyn();
            total = Some(match total {
                Some(t) => &t + &term,
                None => term,
            });
            v.zero_grad();
        }
        total.expect("some gradient")
    };
    let vars: Vec<Var<f64>> = inputs.iter().map(|a| Var::new(a.clone())).collect();
    let total = first(&vars);
    // the gradient of a linear op does not depend on the inputs: it has no graph, and its
    // derivative is zero (the missing grads below)
    if total.requires_grad() {
        total.backward();
    }
    let analytic: Vec<ArrayD<f64>> =
        vars.iter().map(|v| v.grad().unwrap_or_else(|| ArrayD::zeros(IxDyn(&v.shape())))).collect();
    let num = |xs: &[ArrayD<f64>]| {
        let vs: Vec<Var<f64>> = xs.iter().map(|a| Var::new(a.clone())).collect();
        first(&vs).item()
    };
    if let Err(e) = gradcheck(&num, inputs, &analytic, 1e-5) {
        panic!("{name} (second order): {e}");
    }
}

fn both(name: &str, inputs: &[ArrayD<f64>], f: &F<'_>) {
    check(name, inputs, f);
    check2(name, inputs, f);
}

#[test]
fn arithmetic_with_broadcasting() {
    let a = rand(&[3, 4], -1.0, 1.0, 1);
    let row = rand(&[4], -1.0, 1.0, 2);
    let col = rand(&[3, 1], 0.5, 2.0, 3);
    let cube = rand(&[2, 3, 4], -1.0, 1.0, 4);
    both("add", &[a.clone(), row.clone()], &|v| &v[0] + &v[1]);
    both("sub", &[col.clone(), a.clone()], &|v| &v[0] - &v[1]);
    both("mul", &[cube.clone(), col.clone()], &|v| &v[0] * &v[1]);
    both("mul (3,1)x(1,4)", &[col.clone(), rand(&[1, 4], -1.0, 1.0, 5)], &|v| &v[0] * &v[1]);
    both("div", &[cube.clone(), col.clone()], &|v| &v[0] / &v[1]);
    both("div rank-0", &[a.clone(), rand(&[], 0.5, 1.0, 6)], &|v| &v[0] / &v[1]);
    both("same var twice", &[a.clone()], &|v| &(&v[0] * &v[0]) - &v[0]);
}

#[test]
fn scalar_ops_and_neg() {
    let a = rand(&[3, 4], 0.5, 2.0, 7);
    both("x * c", &[a.clone()], &|v| &v[0] * 2.5);
    both("c * x", &[a.clone()], &|v| 2.5 * &v[0]);
    both("x / c", &[a.clone()], &|v| &v[0] / 4.0);
    both("c / x", &[a.clone()], &|v| 3.0 / &v[0]);
    both("x + c", &[a.clone()], &|v| &(&v[0] + 1.5) * &v[0]);
    both("c - x", &[a.clone()], &|v| &(1.5 - &v[0]) * &v[0]);
    both("x - c", &[a.clone()], &|v| &(&v[0] - 1.5) * &v[0]);
    both("neg", &[a.clone()], &|v| &(-&v[0]) * &v[0]);
}

#[test]
fn elementwise() {
    let x = rand(&[2, 5], -2.0, 2.0, 8);
    let pos = rand(&[2, 5], 0.3, 2.0, 9);
    both("exp", &[x.clone()], &|v| v[0].exp());
    both("ln", &[pos.clone()], &|v| v[0].ln());
    both("log", &[pos.clone()], &|v| v[0].log());
    both("sqrt", &[pos.clone()], &|v| v[0].sqrt());
    both("powf", &[pos.clone()], &|v| v[0].powf(2.5));
    both("sigmoid", &[x.clone()], &|v| v[0].sigmoid());
    both("tanh", &[x.clone()], &|v| v[0].tanh());
    both("gelu", &[x.clone()], &|v| v[0].gelu());
    both("softplus", &[x.clone()], &|v| v[0].softplus());
    // piecewise linear: first order only (their second derivative is 0 almost everywhere)
    check("abs", &[x.clone()], &|v| v[0].abs());
    check("relu", &[x.clone()], &|v| v[0].relu());
    check2("relu * x", &[x.clone()], &|v| &v[0].relu() * &v[0]);
}

#[test]
fn gelu_matches_closed_form() {
    let x = Var::new(ndarray::array![-3.0, -1.0, 0.5, 2.0]);
    let y = x.gelu().value();
    for (v, g) in [-3.0f64, -1.0, 0.5, 2.0].iter().zip(y.iter()) {
        let want = 0.5 * v * (1.0 + ((2.0 / std::f64::consts::PI).sqrt() * (v + 0.044715 * v * v * v)).tanh());
        assert!((g - want).abs() < 1e-15);
    }
}

#[test]
fn reductions() {
    let x = rand(&[2, 3, 4], -1.0, 1.0, 10);
    both("sum", &[x.clone()], &|v| v[0].sum().as_dyn());
    both("mean", &[x.clone()], &|v| v[0].mean().as_dyn());
    both("sum_axes keepdim", &[x.clone()], &|v| v[0].sum_axes(&[1], true));
    both("sum_axes", &[x.clone()], &|v| v[0].sum_axes(&[0, 2], false));
    both("mean_axes keepdim", &[x.clone()], &|v| v[0].mean_axes(&[2, 0], true));
    both("mean_axes", &[x.clone()], &|v| v[0].mean_axes(&[1], false));
    both("sum_to", &[x.clone()], &|v| sum_to(&v[0], &[3, 1]));
    both("broadcast_to", &[rand(&[3, 1], -1.0, 1.0, 11)], &|v| broadcast_to(&v[0], &[2, 3, 4]));
}

#[test]
fn softmax_family() {
    let x = rand(&[3, 5], -3.0, 3.0, 12);
    both("softmax axis 1", &[x.clone()], &|v| v[0].softmax(1));
    both("softmax axis 0", &[x.clone()], &|v| v[0].softmax(0));
    both("log_softmax", &[x.clone()], &|v| v[0].log_softmax(1));
    both("logsumexp", &[x.clone()], &|v| v[0].logsumexp(0, false));
    both("logsumexp keepdim", &[x.clone()], &|v| v[0].logsumexp(1, true));
    // large logits stay finite
    let big = Var::new(ndarray::array![[1e4, -1e4, 0.0]]);
    let p = big.log_softmax(1);
    assert!(p.value().iter().all(|v: &f64| v.is_finite()));
    p.sum().backward();
    assert!(big.grad().unwrap().iter().all(|v: &f64| v.is_finite()));
}

#[test]
fn shapes() {
    let x = rand(&[2, 3, 4], -1.0, 1.0, 13);
    both("reshape", &[x.clone()], &|v| &v[0].reshape(&[6, 4]) * &v[0].reshape(&[6, 4]));
    both("flatten", &[x.clone()], &|v| v[0].flatten(1).exp());
    both("permute", &[x.clone()], &|v| &v[0].permute(&[2, 0, 1]) * &v[0].permute(&[2, 0, 1]));
    both("transpose", &[x.clone()], &|v| v[0].transpose(0, 2).sigmoid());
}

#[test]
fn indexing() {
    let x = rand(&[4, 3], -1.0, 1.0, 14);
    both("index_select with repeats", &[x.clone()], &|v| v[0].index_select(0, &[3, 1, 3, 0]).exp());
    both("index_select axis 1", &[x.clone()], &|v| v[0].index_select(1, &[2, 2]).tanh());
    let idx = ndarray::array![[2usize, 0], [1, 1], [0, 2], [2, 2]].into_dyn();
    both("gather", &[x.clone()], &|v| v[0].gather(1, &idx).exp());
    both("slice_axis", &[x.clone()], &|v| v[0].slice_axis(0, 1..3).exp());
    both("slice_axis empty", &[x.clone()], &|v| &v[0].slice_axis(1, 1..1).sum().as_dyn() + &v[0].sum().as_dyn());
    let y = rand(&[4, 2], -1.0, 1.0, 15);
    both("concat", &[x.clone(), y], &|v| Var::concat(&[&v[0], &v[1], &v[0]], 1).exp());
}

#[test]
fn convolution_windows() {
    let x1 = rand(&[2, 3, 7], -1.0, 1.0, 16);
    both("unfold1d", &[x1.clone()], &|v| v[0].unfold1d(3, 2, 1).exp());
    check("unfold1d no padding", &[x1], &|v| v[0].unfold1d(2, 1, 0));
    let x2 = rand(&[2, 2, 5, 4], -1.0, 1.0, 17);
    both("unfold2d", &[x2.clone()], &|v| v[0].unfold2d((3, 2), (2, 1), (1, 0)).exp());
    check("unfold2d 1x1", &[x2], &|v| v[0].unfold2d((1, 1), (1, 1), (0, 0)));
}

#[test]
fn unfold2d_matches_direct_convolution() {
    // a 3x3 convolution with stride 2 and padding 1, by unfold + einsum and by loops
    let x = rand(&[2, 3, 6, 5], -1.0, 1.0, 18);
    let w = rand(&[4, 3, 3, 3], -1.0, 1.0, 19);
    let cols = Var::constant(x.clone()).unfold2d((3, 3), (2, 2), (1, 1));
    let wf = Var::constant(w.clone()).reshape(&[4, 27]);
    let y = slowgrad::einsum("bkl,ok->bol", &[&cols, &wf]).unwrap().value();
    let (ho, wo) = (3, 3);
    for b in 0..2 {
        for o in 0..4 {
            for oy in 0..ho {
                for ox in 0..wo {
                    let mut s = 0.0;
                    for c in 0..3 {
                        for i in 0..3 {
                            for j in 0..3 {
                                let (iy, ix) = ((oy * 2 + i) as isize - 1, (ox * 2 + j) as isize - 1);
                                if (0..6).contains(&iy) && (0..5).contains(&ix) {
                                    s += x[[b, c, iy as usize, ix as usize]] * w[[o, c, i, j]];
                                }
                            }
                        }
                    }
                    assert!((y[[b, o, oy * wo + ox]] - s).abs() < 1e-12);
                }
            }
        }
    }
}

#[test]
fn dropout_and_layer_norm() {
    let x = rand(&[3, 6], -1.0, 1.0, 20);
    both("dropout", &[x.clone()], &|v| v[0].dropout(0.3, true, &mut Rng::new(5)).exp());
    both("layer_norm", &[x.clone()], &|v| v[0].layer_norm(1e-5));
    let y = Var::new(x).dropout(0.3, true, &mut Rng::new(5)).value();
    let zeros = y.iter().filter(|&&v| v == 0.0).count();
    assert!(zeros > 0 && zeros < 18, "{zeros} of 18 dropped");
}

#[test]
fn losses() {
    let pred = rand(&[5, 2], -1.0, 1.0, 21);
    let target = rand(&[5, 2], -1.0, 1.0, 22);
    both("mse", &[pred.clone(), target.clone()], &|v| mse_loss(&v[0], &v[1]));
    both("cross_entropy", &[rand(&[4, 3], -2.0, 2.0, 23)], &|v| cross_entropy(&v[0], &[2, 0, 1, 2]));
    let labels = rand(&[5, 2], 0.0, 1.0, 24);
    both("bce_with_logits", &[pred, labels], &|v| bce_with_logits(&v[0], &v[1]));
    // bce at exactly 0 has gradient sigmoid(0) - y
    let z = Var::new(ndarray::array![0.0]);
    bce_with_logits(&z, &Var::constant(ndarray::array![1.0])).backward();
    assert_eq!(z.grad().unwrap()[0], -0.5);
}

#[test]
#[should_panic(expected = "cannot add shapes [3, 4] and [3]")]
fn broadcast_error_names_shapes() {
    let _ = &Var::new(rand(&[3, 4], 0.0, 1.0, 1)) + &Var::new(rand(&[3], 0.0, 1.0, 1));
}

#[test]
#[should_panic(expected = "cannot reshape shape [2, 3] (6 elements) to [4] (4 elements)")]
fn reshape_error_names_shapes() {
    let _ = Var::new(rand(&[2, 3], 0.0, 1.0, 1)).reshape(&[4]);
}

#[test]
#[should_panic(expected = "index_select: index 5 is out of range for axis 0 of shape [4, 3]")]
fn index_error_names_shapes() {
    let _ = Var::new(rand(&[4, 3], 0.0, 1.0, 1)).index_select(0, &[5]);
}

#[test]
#[should_panic(expected = "mse_loss: prediction shape [5, 1] differs from target shape [5]")]
fn loss_error_names_shapes() {
    let _ = mse_loss(&Var::new(rand(&[5, 1], 0.0, 1.0, 1)), &Var::new(rand(&[5], 0.0, 1.0, 1)));
}

#[test]
#[should_panic(expected = "unfold2d needs a (batch, channels, height, width) input, got shape [3, 4]")]
fn unfold_error_names_shapes() {
    let _ = Var::new(rand(&[3, 4], 0.0, 1.0, 1)).unfold2d((2, 2), (1, 1), (0, 0));
}
