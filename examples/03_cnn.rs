//! A small convolutional network on the 8×8 digits: two `Conv2d` layers (unfold + einsum
//! `bkl,ok->bol`), ReLU, and a linear classifier. Held-out accuracy is printed.
//!
//! Run: `cargo run --release --example cnn`

#[path = "shared/digits.rs"]
mod digits;

use slowgrad::nn::{Conv2d, Flatten, Linear, Module, ReLU, Reshape, Sequential};
use slowgrad::Rng;
use std::time::Instant;

fn main() {
    let start = Instant::now();
    let data = digits::load_digits();
    let (train, test) = digits::split(&data, 0.2, 0);
    let mut rng = Rng::new(1);
    let model: Sequential<f32> = Sequential::new(vec![
        Reshape::new(&[1, 8, 8]).boxed(),
        Conv2d::with_rng(1, 16, (3, 3), (1, 1), (1, 1), true, &mut rng).boxed(), // 16 × 8 × 8
        ReLU.boxed(),
        Conv2d::with_rng(16, 32, (3, 3), (2, 2), (1, 1), true, &mut rng).boxed(), // 32 × 4 × 4
        ReLU.boxed(),
        Flatten.boxed(),
        Linear::with_rng(32 * 4 * 4, 10, true, &mut rng).boxed(),
    ]);
    println!(
        "CNN: conv 3x3 1->16, ReLU, conv 3x3 stride 2 16->32, ReLU, linear 512->10; {} parameters",
        model.num_parameters()
    );
    let cfg = digits::Config { epochs: 15, batch: 32, lr: 3e-3, seed: 1 };
    let mut epoch_losses = vec![0.0f32; cfg.epochs];
    let losses = digits::train(&model, &train, &cfg, |epoch, loss| epoch_losses[epoch] += loss);
    let per_epoch = losses.len() / cfg.epochs;
    for (e, total) in epoch_losses.iter().enumerate() {
        if e % 3 == 0 || e + 1 == cfg.epochs {
            println!("epoch {:2}: mean training loss {:.4}", e + 1, total / per_epoch as f32);
        }
    }
    println!("held-out test accuracy: {:.2}% ({} images)", 100.0 * digits::accuracy(&model, &test), test.len());
    println!("wall time: {:.2} s", start.elapsed().as_secs_f64());
}
