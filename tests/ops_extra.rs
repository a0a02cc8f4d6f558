//! argmax/argmin, max/min, clamp, squeeze/unsqueeze, stack/cat and cast: values computed by
//! hand or by plain loops, gradients against the finite-difference `gradcheck` (f64), and the
//! errors of bad axes, empty lists and mismatched shapes.

// single-input checks read best as `&[x.clone()]`, like the multi-input ones
#![allow(clippy::cloned_ref_to_slice_refs)]

use ndarray::{array, ArrayD, IxDyn};
use slowgrad::gradcheck::{gradcheck, gradgradcheck, GradcheckOptions};
use slowgrad::{BackwardError, BackwardOptions, Var};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The message of the panic `f` raises.
fn panic_message<R>(f: impl FnOnce() -> R) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).map(drop).expect_err("a panic");
    match err.downcast::<String>() {
        Ok(s) => *s,
        Err(e) => e.downcast::<&str>().map(|s| s.to_string()).unwrap_or_default(),
    }
}

/// A deterministic array with distinct entries in [-2, 2).
fn distinct(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let mut rng = slowgrad::Rng::new(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.uniform(-2.0, 2.0))
}

fn check(name: &str, inputs: &[ArrayD<f64>], f: &dyn Fn(&[Var<f64>]) -> Var<f64>) {
    let opts = GradcheckOptions::default();
    let r = gradcheck(f, inputs, opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(r.entries > 0, "{name}");
    gradgradcheck(f, inputs, opts).unwrap_or_else(|e| panic!("{name} (second order): {e}"));
}

#[test]
fn argmax_and_argmin_pick_the_first_extremum() {
    let x = Var::new(array![[3.0, 1.0, 3.0, -4.0], [0.0, 2.0, 2.0, -4.0]]);
    assert_eq!(x.argmax(1), array![0, 1].into_dyn());
    assert_eq!(x.argmin(1), array![3, 3].into_dyn());
    assert_eq!(x.argmax(0), array![0, 1, 0, 0].into_dyn());
    assert_eq!(x.argmin(0), array![1, 0, 1, 0].into_dyn());
    // NaN wins both ways, the first one
    let n = Var::new(array![1.0, f64::NAN, 3.0, f64::NAN]);
    assert_eq!((n.argmax(0), n.argmin(0)), (ndarray::arr0(1).into_dyn(), ndarray::arr0(1).into_dyn()));
    assert!(n.max().item().is_nan() && n.min().item().is_nan());
    // a middle axis of a 3-D value, against plain loops
    let a = distinct(&[2, 5, 3], 1);
    let v = Var::constant(a.clone());
    let (am, an) = (v.argmax(1), v.argmin(1));
    assert_eq!(am.shape(), &[2, 3]);
    for i in 0..2 {
        for k in 0..3 {
            let lane: Vec<f64> = (0..5).map(|j| a[[i, j, k]]).collect();
            let (mut best, mut worst) = (0, 0);
            for j in 1..5 {
                if lane[j] > lane[best] {
                    best = j;
                }
                if lane[j] < lane[worst] {
                    worst = j;
                }
            }
            assert_eq!((am[[i, k]], an[[i, k]]), (best, worst));
        }
    }
}

#[test]
fn max_and_min_along_an_axis_match_plain_loops() {
    let a = distinct(&[3, 4, 2], 2);
    let x = Var::constant(a.clone());
    let (mx, mn) = (x.max_axis(1, false).value(), x.min_axis(1, true).value());
    assert_eq!((mx.shape(), mn.shape()), (&[3, 2][..], &[3, 1, 2][..]));
    for i in 0..3 {
        for k in 0..2 {
            let lane = (0..4).map(|j| a[[i, j, k]]);
            assert_eq!(mx[[i, k]], lane.clone().fold(f64::NEG_INFINITY, f64::max));
            assert_eq!(mn[[i, 0, k]], lane.fold(f64::INFINITY, f64::min));
        }
    }
    assert_eq!(x.max().item(), a.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    assert_eq!(x.min().item(), a.iter().copied().fold(f64::INFINITY, f64::min));
}

#[test]
fn the_gradient_of_a_tie_goes_to_the_first_element() {
    let x = Var::new(array![[2.0, 5.0, 5.0], [1.0, 1.0, 0.0]]);
    x.max_axis(1, false).sum().backward();
    assert_eq!(x.grad().unwrap(), array![[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]);
    x.zero_grad();
    x.min_axis(0, true).sum().backward();
    assert_eq!(x.grad().unwrap(), array![[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]);
    x.zero_grad();
    // overall: the first in row-major order
    let t = Var::new(array![[0.0, 7.0], [7.0, 7.0]]);
    t.max().backward();
    assert_eq!(t.grad().unwrap(), array![[0.0, 1.0], [0.0, 0.0]]);
    let u = Var::new(array![[3.0, -1.0], [-1.0, 2.0]]);
    u.min().mul_scalar(4.0).backward();
    assert_eq!(u.grad().unwrap(), array![[0.0, 4.0], [0.0, 0.0]]);
}

#[test]
fn max_and_min_pass_gradcheck() {
    let a = distinct(&[3, 4], 3);
    let c = distinct(&[2, 3, 4], 4);
    check("max_axis 0", &[a.clone()], &|v| v[0].max_axis(0, false));
    check("max_axis 1 keepdim", &[a.clone()], &|v| v[0].max_axis(1, true));
    check("min_axis 1", &[c.clone()], &|v| v[0].min_axis(1, false));
    check("min_axis 2 keepdim", &[c.clone()], &|v| v[0].min_axis(2, true));
    check("max", &[c.clone()], &|v| v[0].max().as_dyn());
    check("min", &[a.clone()], &|v| v[0].min().as_dyn());
    // through a smooth function, so that the second derivative is not zero
    check("max of tanh * x", &[a.clone()], &|v| (&v[0].tanh() * &v[0]).max_axis(1, false));
    check("softmax-style shift", &[a.clone()], &|v| (&v[0] - &v[0].max_axis(1, true)).exp());
}

#[test]
fn extremum_errors_name_the_axis_and_shape() {
    let x = Var::new(ndarray::Array2::<f64>::zeros((2, 3)));
    assert_eq!(panic_message(|| x.argmax(2)), "argmax: axis 2 is out of range for shape [2, 3]");
    assert_eq!(panic_message(|| x.max_axis(5, true)), "max_axis: axis 5 is out of range for shape [2, 3]");
    let e = Var::new(ndarray::Array2::<f64>::zeros((2, 0)));
    assert_eq!(panic_message(|| e.argmin(1)), "argmin: axis 1 of shape [2, 0] is empty: it has no extremum");
    assert_eq!(panic_message(|| e.min_axis(1, false)), "min_axis: axis 1 of shape [2, 0] is empty: it has no extremum");
    assert_eq!(panic_message(|| e.max()), "max: the value of shape [2, 0] is empty: it has no extremum");
    // along the other axis: one maximum for each of no columns
    assert_eq!(e.max_axis(0, false).shape(), vec![0]);
}

#[test]
fn clamp_limits_values_and_passes_the_gradient_inside() {
    let x = Var::new(array![-3.0, -1.0, 0.25, 1.0, 2.5, f64::NAN]);
    let y = x.clamp(-1.0, 1.0);
    let v = y.value();
    assert_eq!(v.slice(ndarray::s![..5]), array![-1.0, -1.0, 0.25, 1.0, 1.0]);
    assert!(v[5].is_nan());
    (&y * &Var::constant(array![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])).sum().backward();
    // 1 inside, bounds included; 0 outside and at NaN
    assert_eq!(x.grad().unwrap(), array![0.0, 2.0, 3.0, 4.0, 0.0, 0.0]);
    let inputs = [array![[-1.7, -0.4, 0.3], [0.9, 1.6, -2.2]].into_dyn()];
    check("clamp", &inputs, &|v| v[0].clamp(-1.0, 1.0));
    check("clamp * x", &inputs, &|v| &v[0].clamp(-0.5, 0.5) * &v[0]);
    check("clamp below", &inputs, &|v| v[0].clamp(0.0, f64::INFINITY).tanh());
    assert_eq!(
        panic_message(|| x.clamp(1.0, -1.0)),
        "clamp: min 1 must not be greater than max -1 (nor either be NaN)"
    );
    assert!(panic_message(|| x.clamp(f64::NAN, 1.0)).starts_with("clamp: min NaN"));
}

#[test]
fn squeeze_and_unsqueeze() {
    let x = Var::new(array![[[1.0], [2.0]]]); // (1, 2, 1)
    assert_eq!(x.squeeze(0).value(), array![[1.0], [2.0]].into_dyn());
    assert_eq!(x.squeeze(2).value(), array![[1.0, 2.0]].into_dyn());
    assert_eq!(x.squeeze(0).squeeze(1).unsqueeze(0).shape(), vec![1, 2]);
    let a = distinct(&[1, 3, 1], 5);
    check("squeeze", &[a.clone()], &|v| v[0].squeeze(2).tanh());
    check("unsqueeze", &[a.clone()], &|v| &v[0].unsqueeze(3) * &v[0].unsqueeze(0));
    assert_eq!(panic_message(|| x.squeeze(1)), "squeeze: axis 1 of shape [1, 2, 1] has size 2, not 1");
    assert_eq!(panic_message(|| x.squeeze(3)), "squeeze: axis 3 is out of range for shape [1, 2, 1]");
    assert_eq!(panic_message(|| x.unsqueeze(4)), "unsqueeze: axis 4 is out of range for shape [1, 2, 1] (at most 3)");
}

#[test]
fn stack_and_cat() {
    let (a, b, c) = (Var::new(array![[1.0, 2.0]]), Var::new(array![[3.0, 4.0]]), Var::new(array![[5.0, 6.0]]));
    let s = Var::stack(&[&a, &b, &c], 0);
    assert_eq!(s.value(), array![[[1.0, 2.0]], [[3.0, 4.0]], [[5.0, 6.0]]].into_dyn());
    let s = Var::stack(&[&a, &b, &c], 2);
    assert_eq!(s.value(), array![[[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]].into_dyn());
    assert_eq!(Var::cat(&[&a, &b, &c], 1).value(), array![[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]].into_dyn());
    let inputs = [distinct(&[2, 3], 6), distinct(&[2, 3], 7), distinct(&[2, 3], 8)];
    for axis in 0..3 {
        check(&format!("stack {axis}"), &inputs, &|v| Var::stack(&[&v[0], &v[1], &v[2]], axis).tanh());
    }
    let parts = [distinct(&[2, 1], 9), distinct(&[2, 3], 10)];
    check("cat", &parts, &|v| &Var::cat(&[&v[0], &v[1]], 1) * &Var::cat(&[&v[1], &v[0]], 1));

    let none: [&Var<f64>; 0] = [];
    assert_eq!(panic_message(|| Var::stack(&none, 0)), "stack needs at least one part");
    assert_eq!(panic_message(|| Var::cat(&none, 0)), "concat needs at least one part");
    let long = Var::new(array![[1.0, 2.0, 3.0]]);
    assert_eq!(
        panic_message(|| Var::stack(&[&a, &b, &long], 0)),
        "stack: part 2 has shape [1, 3] but part 0 has shape [1, 2]: every part must have one shape"
    );
    assert_eq!(
        panic_message(|| Var::stack(&[&a, &b], 3)),
        "stack: axis 3 is out of range for parts of shape [1, 2] (at most 2)"
    );
    assert!(panic_message(|| Var::cat(&[&a, &long], 0)).contains("differ off that axis"));
}

#[test]
fn cast_rounds_and_sends_the_gradient_back() {
    let x = Var::new(array![0.1f64, 1.0 / 3.0, -2.0]);
    let y = x.cast::<f32>();
    assert_eq!(y.value(), array![0.1f32, 1.0 / 3.0, -2.0]);
    assert!(y.requires_grad() && !y.is_leaf());
    assert_eq!(
        format!("{y:?}"),
        format!("Var {{ id: {}, op: cast from f64, inputs: [{}], shape: [3], requires_grad: true }}", y.id(), x.id())
    );
    (&y * &y).sum().backward(); // d/dx Σ x² = 2x, computed in f32
    let g = x.grad().unwrap();
    for (g, x) in g.iter().zip([0.1f32, 1.0 / 3.0, -2.0]) {
        assert_eq!(*g, (2.0 * x) as f64);
    }
    // the other way, and a constant stays a constant
    let w = Var::new(array![1.5f32]);
    w.cast::<f64>().mul_scalar(4.0).sum().backward();
    assert_eq!(w.grad().unwrap(), array![4.0f32]);
    assert!(!Var::constant(array![1.0f32]).cast::<f64>().requires_grad());
    assert!(!slowgrad::no_grad(|| w.cast::<f64>()).requires_grad());
}

#[test]
fn a_graph_through_both_types_gets_every_contribution() {
    // a = tanh x; L = Σ (a + 2·a) where the second term goes through f32 and back:
    // dL/dx = 3 (1 − tanh² x)
    let x = Var::new(array![0.5, -1.0]);
    let loss = |x: &Var<f64, ndarray::Ix1>| {
        let a = x.tanh();
        let b = a.cast::<f32>().mul_scalar(2.0).cast::<f64>();
        (&b + &a).sum()
    };
    let l = loss(&x);
    l.try_backward(BackwardOptions { retain_graph: true, ..Default::default() }).unwrap();
    let want = x.value().mapv(|v| 3.0 * (1.0 - v.tanh().powi(2)));
    let close = |g: ndarray::Array1<f64>, w: &ndarray::Array1<f64>| g.iter().zip(w).all(|(g, w)| (g - w).abs() < 1e-12);
    assert!(close(x.grad().unwrap(), &want), "{:?} vs {want:?}", x.grad());
    // retained on both sides: a second pass adds the same again
    l.backward();
    assert!(close(x.grad().unwrap(), &want.mapv(|v| 2.0 * v)));
    // then released on both sides
    assert!(matches!(l.try_backward(BackwardOptions::default()), Err(BackwardError::GraphFreed { .. })));
}

#[test]
fn cast_passes_gradcheck() {
    // f32 in the middle: a larger step and looser tolerances than for f64
    let loose = GradcheckOptions { eps: 1e-3, atol: 1e-4, rtol: 1e-3 };
    let x = [array![[0.3, -0.8], [1.2, 0.05]].into_dyn(), array![0.7, -0.4].into_dyn()];
    let f = |v: &[Var<f64>]| {
        let h = (&v[0].cast::<f32>().tanh() * &v[1].cast::<f32>()).cast::<f64>();
        &h * &v[0]
    };
    gradcheck(&f, &x, loose).unwrap();
    let second = GradcheckOptions { eps: 1e-2, atol: 5e-4, rtol: 1e-3 };
    gradgradcheck(&f, &x, second).unwrap();
    // these tolerances still catch a missing contribution (here one cut off by detach)
    assert!(gradcheck(&|v: &[Var<f64>]| &f(v) + &v[0].detach().tanh(), &x, loose).is_err());
    let plain = |v: &[Var<f64>]| &(&v[0].tanh() * &v[1]) * &v[0];
    // f64 → f64 is the identity: the strict default tolerances hold
    gradcheck(&|v: &[Var<f64>]| plain(&[v[0].cast::<f64>(), v[1].clone()]), &x, GradcheckOptions::default()).unwrap();
}
