//! Finite-difference gradient checks (f64) of every `nn` module, with respect to its input and
//! every parameter, and checks of the optimisers' update rules.

mod common;

use common::{gradcheck, rand, weighted};
use ndarray::{ArrayD, IxDyn};
use slowgrad::nn::{
    manual_seed, Conv1d, Conv2d, Dropout, Embedding, LayerNorm, Linear, Module, MultiHeadAttention, ReLU, Sigmoid,
    Tanh, GELU,
};
use slowgrad::optim::{Adam, AdamW, CosineLR, LrSchedule, Optimizer, StepLR, SGD};
use slowgrad::{no_grad, seq, Var};

/// Checks the gradients of `Σ m(x) ⊙ R` with respect to `x` (when `input_grad`) and every
/// parameter of `m`.
#[track_caller]
fn check_module(name: &str, m: &dyn Module<f64>, x: ArrayD<f64>, input_grad: bool) {
    let params = m.parameters();
    let saved: Vec<ArrayD<f64>> = params.iter().map(|p| p.value()).collect();
    let xv = if input_grad { Var::new(x.clone()) } else { Var::constant(x.clone()) };
    m.zero_grad();
    weighted(&m.forward(&xv)).backward();
    let skip = usize::from(!input_grad);
    let mut inputs = vec![x.clone()];
    inputs.extend(saved.iter().cloned());
    let mut analytic = vec![xv.grad().unwrap_or_else(|| ArrayD::zeros(IxDyn(&xv.shape())))];
    analytic.extend(params.iter().map(|p| p.grad().expect("every parameter gets a gradient")));
    let f = |xs: &[ArrayD<f64>]| {
        let xs: Vec<ArrayD<f64>> = if input_grad { xs.to_vec() } else { [&[x.clone()][..], xs].concat() };
        for (p, v) in params.iter().zip(&xs[1..]) {
            p.set_value(v.clone());
        }
        let y = no_grad(|| weighted(&m.forward(&Var::constant(xs[0].clone()))).item());
        for (p, v) in params.iter().zip(&saved) {
            p.set_value(v.clone());
        }
        y
    };
    let (inputs, analytic) = (&inputs[skip..], &analytic[skip..]);
    if let Err(e) = gradcheck(&f, inputs, analytic, 1e-6) {
        panic!("{name}: {e} (operands: the input if checked, then the parameters in order)");
    }
}

#[test]
fn linear_and_activations() {
    manual_seed(1);
    check_module("linear", &Linear::new(3, 4, true), rand(&[5, 3], -1.0, 1.0, 1), true);
    check_module("linear no bias, 3-D input", &Linear::new(3, 2, false), rand(&[2, 4, 3], -1.0, 1.0, 2), true);
    let x = rand(&[4, 3], -2.0, 2.0, 3);
    for (name, m) in
        [("sigmoid", Sigmoid.boxed()), ("tanh", Tanh.boxed()), ("relu", ReLU.boxed()), ("gelu", GELU.boxed())]
    {
        check_module(name, &m, x.clone(), true);
    }
}

#[test]
fn sequential() {
    manual_seed(2);
    let model = seq![Linear::new(2, 4, true), Sigmoid, Linear::new(4, 4, true), Tanh, Linear::new(4, 1, true)];
    assert_eq!(model.parameters().len(), 6);
    check_module("sequential", &model, rand(&[6, 2], -1.0, 1.0, 4), true);
}

#[test]
fn convolutions() {
    manual_seed(3);
    check_module("conv1d", &Conv1d::new(2, 3, 3, 2, 1), rand(&[2, 2, 7], -1.0, 1.0, 5), true);
    check_module("conv2d", &Conv2d::new(2, 3, (3, 2), (2, 1), (1, 1)), rand(&[2, 2, 5, 4], -1.0, 1.0, 6), true);
    let c = Conv2d::<f64>::new(1, 2, (3, 3), (1, 1), (1, 1));
    assert_eq!(c.forward(&Var::constant(rand(&[3, 1, 8, 8], 0.0, 1.0, 7))).shape(), vec![3, 2, 8, 8]);
}

#[test]
fn embedding_layer_norm_dropout() {
    manual_seed(4);
    let emb = Embedding::new(5, 3);
    let ids = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![0.0, 4.0, 4.0, 1.0, 0.0, 2.0]).unwrap();
    check_module("embedding", &emb, ids, false);
    let ln = LayerNorm::new(4);
    ln.weight.set_value(rand(&[4], 0.5, 1.5, 8));
    ln.bias.set_value(rand(&[4], -0.5, 0.5, 9));
    check_module("layer norm", &ln, rand(&[2, 3, 4], -1.0, 1.0, 10), true);
    // dropout: reseed before each evaluation so that every call draws the same mask
    struct Fixed(f64);
    impl Module<f64> for Fixed {
        fn forward(&self, x: &Var<f64>) -> Var<f64> {
            let d = Dropout::new(self.0, 11);
            d.forward(x)
        }
        fn parameters(&self) -> Vec<Var<f64>> {
            Vec::new()
        }
    }
    check_module("dropout", &Fixed(0.4), rand(&[3, 5], -1.0, 1.0, 12), true);
    let d = Dropout::new(0.4, 11);
    let model = seq![Linear::new(5, 5, true), d];
    let x = Var::constant(rand(&[3, 5], -1.0, 1.0, 13));
    model.eval();
    assert_eq!(model.forward(&x).value(), model.forward(&x).value(), "eval mode is deterministic");
    model.train();
    assert_ne!(model.forward(&x).value(), model.forward(&x).value(), "training mode draws new masks");
}

#[test]
fn attention() {
    manual_seed(5);
    check_module("attention", &MultiHeadAttention::new(4, 2, false), rand(&[2, 3, 4], -1.0, 1.0, 14), true);
    let causal = MultiHeadAttention::new(6, 3, true);
    check_module("causal attention", &causal, rand(&[2, 4, 6], -1.0, 1.0, 15), true);
    // causality: changing the last position leaves the earlier outputs unchanged
    let x = rand(&[1, 4, 6], -1.0, 1.0, 16);
    let mut x2 = x.clone();
    x2[[0, 3, 0]] += 1.0;
    let (a, b) = (causal.forward(&Var::constant(x)).value(), causal.forward(&Var::constant(x2)).value());
    for t in 0..3 {
        for c in 0..6 {
            assert!((a[[0, t, c]] - b[[0, t, c]]).abs() < 1e-12);
        }
    }
    assert!((0..6).any(|c| (a[[0, 3, c]] - b[[0, 3, c]]).abs() > 1e-6));
}

#[test]
fn seeded_initialisation_is_reproducible() {
    manual_seed(7);
    let a = Linear::<f64>::new(4, 3, true);
    manual_seed(7);
    let b = Linear::<f64>::new(4, 3, true);
    assert_eq!(a.weight.value(), b.weight.value());
    let bound = 0.5; // 1 / sqrt(4)
    assert!(a.weight.value().iter().all(|w| w.abs() <= bound));
    let c = Linear::<f64>::new(4, 3, true);
    assert_ne!(a.weight.value(), c.weight.value());
}

/// One step of each optimiser on `p` with gradient `g`, against the update rules written out.
#[test]
fn optimiser_updates() {
    let p0 = ndarray::array![1.0, -2.0].into_dyn();
    let grad = |p: &Var<f64>| (&(p * p) * 0.5).sum().backward(); // gradient = p
                                                                 // SGD with momentum and weight decay, two steps
    let p = Var::new(p0.clone());
    let mut opt = SGD::new(vec![p.clone()], 0.1).momentum(0.9).weight_decay(0.01);
    let mut want = p0.clone();
    let mut v = p0.mapv(|_| 0.0);
    for step in 0..2 {
        opt.zero_grad();
        grad(&p);
        opt.step();
        let g = &want + &(&want * 0.01);
        v = if step == 0 { g } else { &v * 0.9 + &g };
        want = &want - &(&v * 0.1);
    }
    assert!(p.value().iter().zip(want.iter()).all(|(a, b)| (a - b).abs() < 1e-15), "{:?} vs {want:?}", p.value());
    // Adam and AdamW, two steps
    for decoupled in [false, true] {
        let p = Var::new(p0.clone());
        let mut opt: Box<dyn Optimizer> = if decoupled {
            Box::new(AdamW::new(vec![p.clone()], 0.1).weight_decay(0.1))
        } else {
            Box::new(Adam::new(vec![p.clone()], 0.1).weight_decay(0.1))
        };
        let mut want = p0.clone();
        let (mut m, mut s) = (p0.mapv(|_| 0.0), p0.mapv(|_| 0.0));
        for t in 1..=2 {
            opt.zero_grad();
            grad(&p);
            opt.step();
            let g = if decoupled {
                want = &want * (1.0 - 0.1 * 0.1);
                want.clone() / (1.0 - 0.01) // the gradient was taken before the decay
            } else {
                &want + &(&want * 0.1)
            };
            m = &m * 0.9 + &(&g * 0.1);
            s = &s * 0.999 + &(&g * &g * 0.001);
            let mhat = &m / (1.0 - 0.9f64.powi(t));
            let shat = &s / (1.0 - 0.999f64.powi(t));
            want = &want - &(&mhat * 0.1 / (shat.mapv(f64::sqrt) + 1e-8));
        }
        let got = p.value();
        assert!(got.iter().zip(want.iter()).all(|(a, b)| (a - b).abs() < 1e-12), "{got:?} vs {want:?}");
    }
    assert_eq!(StepLR { base: 0.1, step_size: 2, gamma: 0.1 }.lr(3), 0.1 * 0.1);
    assert!((CosineLR { base: 1.0, min: 0.1, total: 10 }.lr(5) - 0.55).abs() < 1e-12);
}
