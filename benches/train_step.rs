//! One training step of an MLP 784-256-10 (ReLU), batch 64, mean softmax cross-entropy, SGD
//! lr 0.01, in f32: forward, backward and update (workload W9 of `benches/PEERS.md`).
//!
//! Two variants: the library's `Linear` layers (runtime `einsum()`), and the same layers with
//! their product written as `einsum!` (`mlp_784_256_10_batch64_train_step_macro`).
//!
//! Run: `cargo bench --bench train_step`

use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array2;
use slowgrad::loss::cross_entropy;
use slowgrad::nn::{Linear, Module, ReLU, Sequential};
use slowgrad::optim::{Optimizer, SGD};
use slowgrad::{Float, Rng, Var};

/// `Linear`, with its product as a compile-time `einsum!` (2-D input).
struct MacroLinear<T: Float>(Linear<T>);

impl<T: Float> Module<T> for MacroLinear<T> {
    fn forward(&self, x: &Var<T>) -> Var<T> {
        let y = slowgrad::einsum!("bi,oi->bo", x, &self.0.weight).as_dyn();
        match &self.0.bias {
            Some(b) => &y + b,
            None => y,
        }
    }

    fn parameters(&self) -> Vec<Var<T>> {
        self.0.parameters()
    }
}

fn train_step(c: &mut Criterion) {
    for with_macro in [false, true] {
        step(c, with_macro);
    }
}

fn step(c: &mut Criterion, with_macro: bool) {
    let mut rng = Rng::new(0);
    let (l1, l2) = (Linear::with_rng(784, 256, true, &mut rng), Linear::with_rng(256, 10, true, &mut rng));
    let model: Sequential<f32> = if with_macro {
        Sequential::new(vec![MacroLinear(l1).boxed(), ReLU.boxed(), MacroLinear(l2).boxed()])
    } else {
        Sequential::new(vec![l1.boxed(), ReLU.boxed(), l2.boxed()])
    };
    let x = Var::constant(Array2::from_shape_simple_fn((64, 784), || rng.uniform(0.0, 1.0) as f32).into_dyn());
    let y: Vec<usize> = (0..64).map(|_| rng.below(10)).collect();
    let mut opt = SGD::new(model.parameters(), 0.01);
    let id = if with_macro { "mlp_784_256_10_batch64_train_step_macro" } else { "mlp_784_256_10_batch64_train_step" };
    c.bench_function(id, |b| {
        b.iter(|| {
            opt.zero_grad();
            let loss = cross_entropy(&model.forward(&x), &y);
            loss.backward();
            opt.step();
            loss.item()
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = train_step
}
criterion_main!(benches);
