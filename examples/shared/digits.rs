//! The digits data set and the MLP classifier of `02_train_mlp.rs`, shared with
//! `03_cnn.rs` and with `tests/train_digits.rs` (included with `#[path]`).
#![allow(dead_code)]

use ndarray::{Array2, Axis};
use slowgrad::loss::cross_entropy;
use slowgrad::nn::{Linear, Module, ReLU, Sequential};
use slowgrad::optim::{Adam, CosineLR, LrSchedule, Optimizer};
use slowgrad::{no_grad, Rng, Var};

/// Images as rows of 64 pixels scaled to `[0, 1]`, and their labels.
pub struct Dataset {
    pub x: Array2<f32>,
    pub y: Vec<usize>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// The rows `idx`, as a constant `Var` and labels.
    pub fn batch(&self, idx: &[usize]) -> (Var<f32>, Vec<usize>) {
        let x = self.x.select(Axis(0), idx);
        (Var::constant(x.into_dyn()), idx.iter().map(|&i| self.y[i]).collect())
    }
}

/// Reads `data/digits.csv` (64 pixels 0..16, then the label).
pub fn load_digits() -> Dataset {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let mut pixels = Vec::new();
    let mut y = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let vals: Vec<f32> = line.split(',').map(|v| v.trim().parse().expect("a number")).collect();
        assert_eq!(vals.len(), 65, "a digits row has 64 pixels and a label");
        pixels.extend(vals[..64].iter().map(|p| p / 16.0));
        y.push(vals[64] as usize);
    }
    let x = Array2::from_shape_vec((y.len(), 64), pixels).expect("64 per row");
    Dataset { x, y }
}

/// A shuffled split: `(train, test)` with `test_fraction` of the rows held out.
pub fn split(d: &Dataset, test_fraction: f64, seed: u64) -> (Dataset, Dataset) {
    let mut idx: Vec<usize> = (0..d.len()).collect();
    Rng::new(seed).shuffle(&mut idx);
    let n_test = (d.len() as f64 * test_fraction).round() as usize;
    let (test, train) = idx.split_at(n_test);
    let take = |rows: &[usize]| Dataset { x: d.x.select(Axis(0), rows), y: rows.iter().map(|&i| d.y[i]).collect() };
    (take(train), take(test))
}

/// Training settings.
pub struct Config {
    pub epochs: usize,
    pub batch: usize,
    pub lr: f64,
    pub seed: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config { epochs: 30, batch: 32, lr: 1e-2, seed: 0 }
    }
}

/// The classifier: 64 → 64 → ReLU → 10 logits.
pub fn mlp(rng: &mut Rng) -> Sequential<f32> {
    Sequential::new(vec![
        Linear::with_rng(64, 64, true, rng).boxed(),
        ReLU.boxed(),
        Linear::with_rng(64, 10, true, rng).boxed(),
    ])
}

/// Trains `model` with Adam, a cosine schedule and mean cross-entropy on shuffled mini-batches;
/// calls `on_step(epoch, loss)` after every step and returns the loss of every step.
pub fn train(model: &dyn Module<f32>, data: &Dataset, cfg: &Config, mut on_step: impl FnMut(usize, f32)) -> Vec<f32> {
    let mut rng = Rng::new(cfg.seed ^ 0x5eed);
    let mut opt = Adam::new(model.parameters(), cfg.lr);
    let steps_per_epoch = data.len().div_ceil(cfg.batch);
    let schedule = CosineLR { base: cfg.lr, min: cfg.lr * 0.01, total: cfg.epochs * steps_per_epoch };
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut losses = Vec::with_capacity(cfg.epochs * steps_per_epoch);
    model.train();
    for epoch in 0..cfg.epochs {
        rng.shuffle(&mut order);
        for chunk in order.chunks(cfg.batch) {
            opt.set_lr(schedule.lr(losses.len()));
            let (x, y) = data.batch(chunk);
            let loss = cross_entropy(&model.forward(&x), &y);
            opt.zero_grad();
            loss.backward();
            opt.step();
            losses.push(loss.item());
            on_step(epoch, loss.item());
        }
    }
    losses
}

/// The fraction of `data` whose highest logit is the label.
pub fn accuracy(model: &dyn Module<f32>, data: &Dataset) -> f64 {
    model.eval();
    let all: Vec<usize> = (0..data.len()).collect();
    let mut correct = 0;
    for chunk in all.chunks(256) {
        let (x, y) = data.batch(chunk);
        let logits = no_grad(|| model.forward(&x)).value();
        for (row, &label) in logits.outer_iter().zip(&y) {
            let best =
                row.iter().enumerate().fold((0, f32::NEG_INFINITY), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
            correct += usize::from(best.0 == label);
        }
    }
    model.train();
    correct as f64 / data.len() as f64
}
