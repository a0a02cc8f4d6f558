//! One training step of an MLP 784-256-10 (ReLU), batch 64, mean softmax cross-entropy, SGD
//! lr 0.01, in f32: forward, backward and update (workload W9 of `benches/PEERS.md`).
//!
//! Three variants from the same parameters and data: the library's `Linear` layers (runtime
//! `einsum()`), the same layers with their product written as `einsum!`
//! (`mlp_784_256_10_batch64_train_step_macro`), and a hand-written baseline in plain ndarray
//! (`general_mat_mul`, manual backward, in-place SGD; `benches/shared/w9.rs`), checked before
//! timing to compute the same step as the library (`mlp_784_256_10_batch64_train_step_handwritten`).
//!
//! Run: `cargo bench --bench train_step`

#[path = "shared/w9.rs"]
mod w9;

use criterion::{criterion_group, criterion_main, Criterion};
use slowgrad::loss::cross_entropy;
use slowgrad::nn::{Linear, Module, ReLU, Sequential};
use slowgrad::optim::{Optimizer, SGD};
use slowgrad::{Float, Var};
use std::hint::black_box;

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
    handwritten(c);
}

fn step(c: &mut Criterion, with_macro: bool) {
    let (l1, l2, x, y) = w9::setup();
    let model: Sequential<f32> = if with_macro {
        Sequential::new(vec![MacroLinear(l1).boxed(), ReLU.boxed(), MacroLinear(l2).boxed()])
    } else {
        Sequential::new(vec![l1.boxed(), ReLU.boxed(), l2.boxed()])
    };
    let x = Var::constant(x.into_dyn());
    let mut opt = SGD::new(model.parameters(), f64::from(w9::LR));
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

fn handwritten(c: &mut Criterion) {
    w9::assert_matches_library(1);
    let (l1, l2, x, y) = w9::setup();
    let mut mlp = w9::Handwritten::new(&l1, &l2, w9::BATCH);
    c.bench_function("mlp_784_256_10_batch64_train_step_handwritten", |b| {
        b.iter(|| mlp.train_step(black_box(x.view()), &y, w9::LR))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = train_step
}
criterion_main!(benches);
