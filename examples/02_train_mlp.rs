//! Trains an MLP classifier (64 → 64 → ReLU → 10) on the UCI handwritten digits (8×8 images,
//! `data/digits.csv`), with a held-out test set, a progress bar, and the loss curve saved as a
//! PNG.
//!
//! Run: `cargo run --release --example train_mlp`

#[path = "shared/digits.rs"]
mod digits;
#[path = "shared/plot.rs"]
mod plot;

use indicatif::{ProgressBar, ProgressStyle};
use slowgrad::nn::Module;
use slowgrad::Rng;
use std::time::Instant;

fn main() {
    let start = Instant::now();
    let data = digits::load_digits();
    let (train, test) = digits::split(&data, 0.2, 0);
    println!("digits: {} training and {} test images of 8x8 pixels, 10 classes", train.len(), test.len());

    let model = digits::mlp(&mut Rng::new(0));
    println!("model: 64 -> 64 -> ReLU -> 10, {} parameters", model.num_parameters());
    let cfg = digits::Config::default();

    let steps = cfg.epochs * train.len().div_ceil(cfg.batch);
    let bar = ProgressBar::new(steps as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} steps  epoch {msg}").expect("valid template"));
    let losses = digits::train(&model, &train, &cfg, |epoch, loss| {
        bar.inc(1);
        bar.set_message(format!("{}/{}  loss {loss:.4}", epoch + 1, cfg.epochs));
    });
    bar.finish();

    let first = losses[..10].iter().sum::<f32>() / 10.0;
    let last = losses[losses.len() - 10..].iter().sum::<f32>() / 10.0;
    println!("training loss: {first:.4} (first 10 steps) -> {last:.4} (last 10 steps)");
    println!("train accuracy: {:.2}%", 100.0 * digits::accuracy(&model, &train));
    println!("held-out test accuracy: {:.2}%", 100.0 * digits::accuracy(&model, &test));

    let path = std::env::temp_dir().join("slowgrad_train_mlp_loss.png");
    let title = "Training loss: MLP 64-64-10 on the UCI digits";
    plot::save_loss_curve(&path, &losses, train.len().div_ceil(cfg.batch), title).expect("writing the loss curve");
    println!("loss curve (log scale, per step and per epoch): {}", path.display());
    println!("wall time: {:.2} s", start.elapsed().as_secs_f64());
}
