//! Gradient tools: clipping by global norm and by value, setting and scaling a stored
//! gradient, parameter groups, and freezing parameters.

use ndarray::{array, ArrayD};
use slowgrad::nn::{clip_grad_norm, clip_grad_value, manual_seed, Linear, Module, Sequential, Tanh};
use slowgrad::optim::{Adam, AdamW, Optimizer, ParamGroup, SGD};
use slowgrad::{seq, Var};

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>, tol: f64) -> bool {
    a.shape() == b.shape() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol)
}

#[test]
fn clip_grad_norm_scales_to_the_max_norm() {
    let a = Var::new(array![[0.0, 0.0], [0.0, 0.0]]);
    let b = Var::new(array![0.0]);
    let untouched = Var::new(array![0.0]); // no gradient: counts as zero
    a.set_grad(Some(array![[3.0, 0.0], [0.0, 4.0]]));
    b.set_grad(Some(array![12.0]));
    // ‖(3, 4, 12)‖ = 13
    let norm = clip_grad_norm((&a, &b, &untouched), 6.5);
    assert_eq!(norm, 13.0);
    let c = 6.5 / (13.0 + 1e-6);
    assert_eq!(a.grad().unwrap(), array![[3.0 * c, 0.0], [0.0, 4.0 * c]]);
    assert_eq!(b.grad().unwrap(), array![12.0 * c]);
    assert!(untouched.grad().is_none());
    // the new global norm is the maximum
    let after = clip_grad_norm((&a, &b), 100.0);
    assert!((after - 6.5).abs() < 1e-6);
    // below the maximum: unchanged
    assert_eq!(b.grad().unwrap(), array![12.0 * c]);
}

#[test]
fn clip_grad_norm_of_a_backward_pass() {
    // loss = Σ 3x + Σ 4y over one element each: gradients 3 and 4, norm 5
    let x = Var::new(array![1.0f32]);
    let y = Var::new(array![2.0f32]);
    (&x.mul_scalar(3.0).sum() + &y.mul_scalar(4.0).sum()).backward();
    let norm = clip_grad_norm(vec![x.as_dyn(), y.as_dyn()], 1.0);
    assert_eq!(norm, 5.0);
    let (gx, gy) = (x.grad().unwrap()[0], y.grad().unwrap()[0]);
    assert!((gx - 0.6).abs() < 1e-6 && (gy - 0.8).abs() < 1e-6, "{gx} {gy}");
}

#[test]
fn clip_grad_value_clamps_each_element() {
    let w = Var::new(array![0.0, 0.0, 0.0, 0.0]);
    w.set_grad(Some(array![-3.0, -0.5, 0.5, 3.0]));
    clip_grad_value(&w, 1.0);
    assert_eq!(w.grad().unwrap(), array![-1.0, -0.5, 0.5, 1.0]);
}

#[test]
#[should_panic(expected = "clip_grad_norm: max_norm must be a non-negative number, got -1")]
fn clip_grad_norm_rejects_a_negative_max() {
    clip_grad_norm(Var::new(array![1.0]), -1.0);
}

#[test]
fn set_and_scale_grad() {
    let x = Var::new(array![2.0, 3.0]);
    x.set_grad(Some(array![1.0, 1.0]));
    (&x * &x).sum().backward(); // accumulates 2x onto the set gradient
    assert_eq!(x.grad().unwrap(), array![5.0, 7.0]);
    x.scale_grad(0.5);
    assert_eq!(x.grad().unwrap(), array![2.5, 3.5]);
    x.set_grad(None);
    assert!(x.grad().is_none());
    x.scale_grad(2.0); // nothing to scale
    assert!(x.grad().is_none());
    // a gradient shared by two leaves (the backward of `+` passes the same gradient on) is
    // scaled for one only
    let (a, b) = (Var::new(array![1.0]), Var::new(array![1.0]));
    (&a + &b).sum().backward();
    a.scale_grad(10.0);
    assert_eq!((a.grad().unwrap()[0], b.grad().unwrap()[0]), (10.0, 1.0));
}

#[test]
#[should_panic(expected = "set_grad: a gradient of shape [3] for a value of shape [2]")]
fn set_grad_checks_the_shape() {
    Var::new(array![1.0, 2.0]).set_grad(Some(array![1.0, 2.0, 3.0]));
}

/// Weight decay on the weights only, and a larger learning rate for the biases: one SGD step
/// against the update written out.
#[test]
fn sgd_parameter_groups() {
    let w = Var::new(array![[1.0, -1.0]]);
    let b = Var::new(array![0.5]);
    let mut opt = SGD::with_groups(vec![ParamGroup::new(&w).weight_decay(0.1), ParamGroup::new(&b).lr(1.0)], 0.01);
    let x = Var::constant(array![[2.0, 3.0]]);
    // loss = Σ (x·wᵀ + b): dL/dw = x = (2, 3), dL/db = 1
    (&slowgrad::einsum("bi,oi->bo", &[&x, &w]).unwrap() + &b.as_dyn()).sum().backward();
    opt.step();
    // w ← w − 0.01 (g + 0.1 w); b ← b − 1.0 g (no decay on the bias)
    assert!(close(
        &w.value().into_dyn(),
        &array![[1.0 - 0.01 * (2.0 + 0.1), -1.0 - 0.01 * (3.0 - 0.1)]].into_dyn(),
        1e-15
    ));
    assert_eq!(b.value(), array![0.5 - 1.0]);
    // set_lr changes the default, not a group's own
    opt.set_lr(0.0);
    opt.step();
    assert_eq!(b.value(), array![0.5 - 2.0]);
    assert!(close(&w.value().into_dyn(), &array![[1.0 - 0.01 * 2.1, -1.0 - 0.01 * 2.9]].into_dyn(), 1e-15));
}

/// Adam's first step moves each parameter by its group's learning rate; AdamW decays only
/// the group with a weight decay.
#[test]
fn adam_parameter_groups() {
    let (a, b) = (Var::new(array![1.0f64]), Var::new(array![1.0]));
    let mut opt = Adam::with_groups(vec![ParamGroup::new(&a), ParamGroup::new(&b).lr(0.3)], 0.1);
    (&a.sum() + &b.sum()).backward();
    opt.step();
    assert!((a.value()[0] - 0.9).abs() < 1e-7 && (b.value()[0] - 0.7).abs() < 1e-7);

    let (w, bias) = (Var::new(array![2.0f64]), Var::new(array![2.0]));
    let mut opt =
        AdamW::with_groups(vec![ParamGroup::new(&w).weight_decay(0.5), ParamGroup::new(&bias).weight_decay(0.0)], 0.1);
    (&w.mul_scalar(0.0).sum() + &bias.mul_scalar(0.0).sum()).backward(); // zero gradients
    opt.step();
    assert!((w.value()[0] - 2.0 * (1.0 - 0.1 * 0.5)).abs() < 1e-12);
    assert_eq!(bias.value()[0], 2.0);
}

fn mlp() -> Sequential<f64> {
    manual_seed(5);
    seq![Linear::new(3, 4, true), Tanh, Linear::new(4, 2, true)]
}

/// A frozen layer gets no gradient and keeps its values while the rest trains; the gradient
/// still flows through it to the input; unfreezing hands the same nodes back to the optimiser.
#[test]
fn freeze_and_unfreeze() {
    let mut model = mlp();
    let mut opt = Adam::new(model.parameters(), 0.05);
    let frozen_before: Vec<ArrayD<f64>> = model.layers[0].parameters().iter().map(|p| p.value()).collect();
    let head_before = model.layers[2].parameters()[0].value();
    model.layers[0].freeze();
    let x = Var::new(array![[0.5, -1.0, 2.0]].into_dyn());
    for _ in 0..3 {
        opt.zero_grad();
        x.zero_grad();
        model.forward(&x).sum().backward();
        opt.step();
    }
    for (p, v) in model.layers[0].parameters().iter().zip(&frozen_before) {
        assert!(!p.requires_grad() && p.grad().is_none());
        assert_eq!(&p.value(), v);
    }
    assert_ne!(model.layers[2].parameters()[0].value(), head_before);
    assert!(x.grad().is_some()); // the input's gradient passes the frozen layer
    model.layers[0].unfreeze();
    assert!(model.layers[0].parameters().iter().all(|p| p.requires_grad()));
    opt.zero_grad();
    model.forward(&x).sum().backward();
    opt.step();
    // the optimiser built before freezing moves the layer again: the same nodes came back
    assert_ne!(model.layers[0].parameters()[0].value(), frozen_before[0]);
}

/// Through a frozen `Linear` the input's gradient is the weight (y = Σ W x): hand-checkable.
#[test]
fn frozen_layer_passes_the_input_gradient() {
    let mut layer = Linear::from_parameters(Var::new(array![[2.0, -3.0]].into_dyn()), None);
    layer.freeze();
    let x = Var::new(array![[1.0, 1.0]].into_dyn());
    layer.forward(&x).sum().backward();
    assert_eq!(x.grad().unwrap(), array![[2.0, -3.0]].into_dyn());
    assert!(layer.weight.grad().is_none());
    // SGD skips it
    let mut opt = SGD::new(layer.parameters(), 1.0);
    opt.step();
    assert_eq!(layer.weight.value(), array![[2.0, -3.0]].into_dyn());
}

/// A module of one's own that does not give its slots cannot be frozen silently.
#[test]
#[should_panic(expected = "the module lists 1 parameters but parameters_mut gives 0 slots")]
fn freeze_needs_parameters_mut() {
    struct Scale(Var<f64>);
    impl Module<f64> for Scale {
        fn forward(&self, x: &Var<f64>) -> Var<f64> {
            x * &self.0
        }
        fn parameters(&self) -> Vec<Var<f64>> {
            vec![self.0.clone()]
        }
    }
    Scale(Var::new(array![1.0].into_dyn())).freeze();
}
