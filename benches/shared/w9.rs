//! Workload W9 (one SGD step of an MLP 784-256-10, ReLU, batch 64, mean softmax cross-entropy,
//! lr 0.01, f32) written by hand in plain ndarray: forward, manual backward and update, with no
//! tape. Shared by `benches/train_step.rs` and `tests/w9_baseline.rs` (included with `#[path]`),
//! together with the check that it computes the same step as the library.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayD, ArrayView2, Axis, Dimension, Ix1, Ix2, Zip};
use slowgrad::loss::cross_entropy;
use slowgrad::nn::{Linear, Module, ReLU, Sequential};
use slowgrad::optim::{Optimizer, SGD};
use slowgrad::Rng;

pub const BATCH: usize = 64;
pub const INPUTS: usize = 784;
pub const HIDDEN: usize = 256;
pub const CLASSES: usize = 10;
pub const LR: f32 = 0.01;

/// The workload's two layers, inputs and targets, drawn from `Rng::new(0)` in this order: layer 1
/// (weight, bias), layer 2 (weight, bias), the inputs from `U(0, 1)`, the targets.
pub fn setup() -> (Linear<f32>, Linear<f32>, Array2<f32>, Vec<usize>) {
    let mut rng = Rng::new(0);
    let l1 = Linear::with_rng(INPUTS, HIDDEN, true, &mut rng);
    let l2 = Linear::with_rng(HIDDEN, CLASSES, true, &mut rng);
    let x = Array2::from_shape_simple_fn((BATCH, INPUTS), || rng.uniform(0.0, 1.0) as f32);
    let y = (0..BATCH).map(|_| rng.below(CLASSES)).collect();
    (l1, l2, x, y)
}

/// The MLP's parameters (weights `(out, in)` as in `Linear`), the gradients of the last step
/// and the activations of one step, all allocated once.
pub struct Handwritten {
    pub w1: Array2<f32>,
    pub b1: Array1<f32>,
    pub w2: Array2<f32>,
    pub b2: Array1<f32>,
    pub dw1: Array2<f32>,
    pub db1: Array1<f32>,
    pub dw2: Array2<f32>,
    pub db2: Array1<f32>,
    /// `relu(x·W1ᵀ + b1)`, `(batch, hidden)`.
    h: Array2<f32>,
    /// The logits, then their gradient, `(batch, classes)`.
    logits: Array2<f32>,
    /// The gradient of `h`, then of the hidden pre-activation, `(batch, hidden)`.
    dh: Array2<f32>,
}

fn fixed<D: Dimension>(a: ArrayD<f32>) -> ndarray::Array<f32, D> {
    a.into_dimensionality::<D>().expect("parameter rank")
}

impl Handwritten {
    /// A copy of the parameters of `l1` and `l2`, for batches of `batch` rows.
    pub fn new(l1: &Linear<f32>, l2: &Linear<f32>, batch: usize) -> Handwritten {
        let bias = |l: &Linear<f32>| fixed::<Ix1>(l.bias.as_ref().expect("layer has a bias").value());
        let (w1, b1) = (fixed::<Ix2>(l1.weight.value()), bias(l1));
        let (w2, b2) = (fixed::<Ix2>(l2.weight.value()), bias(l2));
        let (hidden, classes) = (w1.nrows(), w2.nrows());
        Handwritten {
            dw1: Array2::zeros(w1.raw_dim()),
            db1: Array1::zeros(hidden),
            dw2: Array2::zeros(w2.raw_dim()),
            db2: Array1::zeros(classes),
            h: Array2::zeros((batch, hidden)),
            logits: Array2::zeros((batch, classes)),
            dh: Array2::zeros((batch, hidden)),
            w1,
            b1,
            w2,
            b2,
        }
    }

    /// One SGD step with learning rate `lr` on inputs `x` `(batch, inputs)` and class targets
    /// `y`; returns the loss before the update.
    pub fn train_step(&mut self, x: ArrayView2<f32>, y: &[usize], lr: f32) -> f32 {
        let inv_batch = 1.0 / x.nrows() as f32;

        // Forward: h = relu(x·W1ᵀ + b1), logits = h·W2ᵀ + b2.
        self.h.assign(&self.b1);
        general_mat_mul(1.0, &x, &self.w1.t(), 1.0, &mut self.h);
        self.h.mapv_inplace(|v| v.max(0.0));
        self.logits.assign(&self.b2);
        general_mat_mul(1.0, &self.h, &self.w2.t(), 1.0, &mut self.logits);

        // Loss: mean of logsumexp(z) − z_target, with the row maximum subtracted first; the
        // logits become their gradient (softmax − onehot) / batch.
        let mut loss = 0.0;
        for (mut z, &t) in self.logits.rows_mut().into_iter().zip(y) {
            let max = z.fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let target = z[t] - max;
            z.mapv_inplace(|v| (v - max).exp());
            let sum = z.sum();
            loss += sum.ln() - target;
            z.mapv_inplace(|e| e / sum * inv_batch);
            z[t] -= inv_batch;
        }
        loss *= inv_batch;

        // Backward: dW2 = dlogitsᵀ·h, db2 = Σ_rows dlogits, dh = dlogits·W2 where h > 0,
        // dW1 = dhᵀ·x, db1 = Σ_rows dh.
        general_mat_mul(1.0, &self.logits.t(), &self.h, 0.0, &mut self.dw2);
        self.db2.assign(&self.logits.sum_axis(Axis(0)));
        general_mat_mul(1.0, &self.logits, &self.w2, 0.0, &mut self.dh);
        Zip::from(&mut self.dh).and(&self.h).for_each(|d, &h| {
            if h <= 0.0 {
                *d = 0.0;
            }
        });
        general_mat_mul(1.0, &self.dh.t(), &x, 0.0, &mut self.dw1);
        self.db1.assign(&self.dh.sum_axis(Axis(0)));

        // SGD: p ← p − lr·∇p.
        self.w1.scaled_add(-lr, &self.dw1);
        self.b1.scaled_add(-lr, &self.db1);
        self.w2.scaled_add(-lr, &self.dw2);
        self.b2.scaled_add(-lr, &self.db2);
        loss
    }
}

/// `max |got − want| / max |want|`.
fn rel_err<D: Dimension>(got: &ndarray::Array<f32, D>, want: &ArrayD<f32>) -> f32 {
    assert_eq!(got.shape(), want.shape(), "shapes differ");
    let diff = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0f32, |m, d| {
        if d.is_nan() {
            f32::INFINITY
        } else {
            m.max(d)
        }
    });
    let scale = want.iter().fold(0.0f32, |m, b| m.max(b.abs()));
    diff / scale.max(f32::MIN_POSITIVE)
}

/// Runs `steps` steps of the hand-written code and of the library (`Linear`, `ReLU`,
/// `cross_entropy`, `SGD`) from the same parameters and data, and asserts that every loss, every
/// gradient and every updated parameter agree to a relative error of 1e-4.
///
/// **Panics** if they do not.
pub fn assert_matches_library(steps: usize) {
    let (l1, l2, x, y) = setup();
    let mut hand = Handwritten::new(&l1, &l2, BATCH);
    let model: Sequential<f32> = Sequential::new(vec![l1.clone().boxed(), ReLU.boxed(), l2.clone().boxed()]);
    let mut opt = SGD::new(model.parameters(), f64::from(LR));
    let xv = slowgrad::Var::constant(x.clone().into_dyn());
    let tol = 1e-4;
    for step in 0..steps {
        opt.zero_grad();
        let loss = cross_entropy(&model.forward(&xv), &y);
        loss.backward();
        opt.step();
        let (want, got) = (loss.item(), hand.train_step(x.view(), &y, LR));
        let e = (got - want).abs() / want.abs();
        assert!(e <= tol, "step {step}: loss {got} by hand, {want} by the library (relative error {e:e})");
        let b1 = l1.bias.as_ref().expect("bias");
        let b2 = l2.bias.as_ref().expect("bias");
        let checks: [(&str, f32); 8] = [
            ("dW1", rel_err(&hand.dw1, &l1.weight.grad().expect("gradient"))),
            ("db1", rel_err(&hand.db1, &b1.grad().expect("gradient"))),
            ("dW2", rel_err(&hand.dw2, &l2.weight.grad().expect("gradient"))),
            ("db2", rel_err(&hand.db2, &b2.grad().expect("gradient"))),
            ("W1", rel_err(&hand.w1, &l1.weight.value())),
            ("b1", rel_err(&hand.b1, &b1.value())),
            ("W2", rel_err(&hand.w2, &l2.weight.value())),
            ("b2", rel_err(&hand.b2, &b2.value())),
        ];
        for (what, e) in checks {
            assert!(e <= tol, "step {step}: {what} differs between hand-written and library (relative error {e:e})");
        }
    }
}
