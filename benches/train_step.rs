//! One training step of an MLP 784-256-10 (ReLU), batch 64, mean softmax cross-entropy, SGD
//! lr 0.01, in f32: forward, backward and update (workload W9 of `shared/bench/PEERS.md`).
//!
//! Run: `cargo bench --bench train_step`

use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::Array2;
use slowgrad::loss::cross_entropy;
use slowgrad::nn::{Linear, Module, ReLU, Sequential};
use slowgrad::optim::{Optimizer, SGD};
use slowgrad::{Rng, Var};

fn train_step(c: &mut Criterion) {
    let mut rng = Rng::new(0);
    let model: Sequential<f32> = Sequential::new(vec![
        Linear::with_rng(784, 256, true, &mut rng).boxed(),
        ReLU.boxed(),
        Linear::with_rng(256, 10, true, &mut rng).boxed(),
    ]);
    let x = Var::constant(Array2::from_shape_simple_fn((64, 784), || rng.uniform(0.0, 1.0) as f32).into_dyn());
    let y: Vec<usize> = (0..64).map(|_| rng.below(10)).collect();
    let mut opt = SGD::new(model.parameters(), 0.01);
    c.bench_function("mlp_784_256_10_batch64_train_step", |b| {
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
