//! Fixed-rank `Var`s (as `einsum!` returns them) go into modules, optimisers, losses and the
//! gradient tools without `.as_dyn()`.

use ndarray::{array, Array2, Ix1, Ix2};
use slowgrad::loss::{cross_entropy, mse_loss};
use slowgrad::nn::{clip_grad_norm, Linear, Module, ReLU};
use slowgrad::optim::{Adam, Optimizer, ParamGroup, SGD};
use slowgrad::{einsum, seq, IntoParams, Var};

/// Least squares with a weight `Var<f64, Ix2>` and a bias `Var<f64, Ix1>`, products by
/// `einsum!`: the optimiser takes them as they are and finds the exact solution.
#[test]
fn fixed_rank_parameters_train() {
    let x = Var::constant(array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]]);
    // targets from w = (2, −1), b = 0.5
    let y = Var::constant(array![[2.5], [-0.5], [1.5], [3.5]]);
    let w: Var<f64, Ix2> = Var::new(Array2::zeros((1, 2)));
    let b: Var<f64, Ix1> = array![0.0].into();
    let mut opt = SGD::new((&w, &b), 0.2);
    for _ in 0..500 {
        opt.zero_grad();
        let pred = einsum!("ij,oj->io", &x, &w); // Var<f64, Ix2>
        let pred = &pred.as_dyn() + &b.as_dyn();
        mse_loss(&pred, &y).backward();
        opt.step();
    }
    let (w, b) = (w.value(), b.value());
    assert!((w[[0, 0]] - 2.0).abs() < 1e-6 && (w[[0, 1]] + 1.0).abs() < 1e-6 && (b[0] - 0.5).abs() < 1e-6, "{w} {b}");
}

/// A module applied to an `einsum!` result with `call`; a loss of fixed-rank values.
#[test]
fn modules_take_fixed_rank_inputs() {
    let a = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
    let z: Var<f64, Ix2> = einsum!("ij,jk->ik", &a, &a); // [[7, 10], [15, 22]]
    let layer = Linear::from_parameters(Var::new(array![[1.0, -1.0]].into_dyn()), None);
    let y = layer.call(&z);
    assert_eq!(y.value(), array![[-3.0], [-7.0]].into_dyn());
    let model = seq![Linear::from_parameters(Var::new(array![[1.0, -1.0]].into_dyn()), None), ReLU];
    assert_eq!(model.call(&z).value(), array![[0.0], [0.0]].into_dyn());
    // losses are generic over the dimension already
    let l = cross_entropy(&z, &[1, 1]);
    // logsumexp(7, 10) − 10 and logsumexp(15, 22) − 22
    let want = ((1.0 + (-3f64).exp()).ln() + (1.0 + (-7f64).exp()).ln()) / 2.0;
    assert!((l.item() - want).abs() < 1e-12);
    l.backward();
    assert!(a.grad().is_some());
}

#[test]
fn conversions() {
    // From<Array> for Var: a leaf that requires a gradient
    let v: Var<f64, Ix2> = array![[1.0, 2.0]].into();
    assert!(v.requires_grad() && v.is_leaf());
    // a fixed-rank Var (or a reference to one) into a dynamic one: the same node
    let d: Var<f64> = (&v).into();
    assert_eq!((d.id(), d.shape()), (v.id(), vec![1, 2]));
    let d: Var<f64> = v.clone().into();
    assert_eq!(d.id(), v.id());
    // a Vec of converted handles is a parameter list
    let b = Var::new(array![1.0]);
    let list = vec![v.clone().into(), b.clone().into()].into_params();
    assert_eq!(list.iter().map(Var::id).collect::<Vec<_>>(), [v.id(), b.id()]);
}

/// Every form of parameter list gives the same handles.
#[test]
fn parameter_lists() {
    let w = Var::new(array![[1.0f32, 2.0]]);
    let u = Var::new(array![[3.0f32, 4.0]]);
    let b = Var::new(array![0.0f32]);
    let ids = |l: Vec<Var<f32>>| l.iter().map(Var::id).collect::<Vec<_>>();
    assert_eq!(ids([w.clone(), u.clone()].into_params()), [w.id(), u.id()]);
    assert_eq!(ids([&w, &u].into_params()), [w.id(), u.id()]);
    assert_eq!(ids((&[w.clone(), u.clone()][..]).into_params()), [w.id(), u.id()]);
    assert_eq!(ids((&vec![w.clone()]).into_params()), [w.id()]);
    assert_eq!(ids((&w, [&u], b.clone()).into_params()), [w.id(), u.id(), b.id()]);
    assert_eq!(ids(Vec::<Var<f32>>::new().into_params()), Vec::<u64>::new());
    // the group constructor and the gradient tools take them too
    assert_eq!(ParamGroup::new((&w, &b)).params.len(), 2);
    w.set_grad(Some(array![[3.0, 4.0]]));
    assert_eq!(clip_grad_norm(&w, 10.0), 5.0);
    // an empty list still infers its type
    let opt = Adam::<f32>::new(vec![], 0.1);
    assert_eq!(opt.lr(), 0.1);
}
