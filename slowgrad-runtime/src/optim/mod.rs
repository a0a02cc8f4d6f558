//! Optimisers that update parameter values in place from their gradients, and learning-rate
//! schedules.
//!
//! ```
//! use ndarray::array;
//! use slowgrad_runtime::optim::{Optimizer, SGD};
//! use slowgrad_runtime::Var;
//! let w = Var::new(array![1.0f64, -2.0].into_dyn());
//! let mut opt = SGD::new(vec![w.clone()], 0.1);
//! for _ in 0..100 {
//!     opt.zero_grad();
//!     (&w * &w).sum().backward();   // minimise |w|²
//!     opt.step();
//! }
//! assert!(w.value().iter().all(|v| v.abs() < 1e-6));
//! ```

mod adam;
mod schedule;
mod sgd;

pub use adam::{Adam, AdamW};
pub use schedule::{CosineLR, LrSchedule, StepLR};
pub use sgd::SGD;

use crate::{Float, Var};
use ndarray::ArrayD;

/// An optimiser over a fixed list of parameters.
pub trait Optimizer {
    /// Updates every parameter that has a gradient.
    fn step(&mut self);

    /// Clears the gradients of the parameters.
    fn zero_grad(&self);

    /// The current learning rate.
    fn lr(&self) -> f64;

    /// Sets the learning rate (used by schedules).
    fn set_lr(&mut self, lr: f64);
}

pub(crate) fn zero_all<T: Float>(params: &[Var<T>]) {
    for p in params {
        p.zero_grad();
    }
}

/// `state ← state · decay + x · scale`, creating the state as `x · scale` on first use.
pub(crate) fn ema<T: Float>(state: &mut Option<ArrayD<T>>, x: &ArrayD<T>, decay: T, scale: T) {
    match state {
        Some(s) => s.zip_mut_with(x, |a, &b| *a = *a * decay + b * scale),
        None => *state = Some(x.mapv(|b| b * scale)),
    }
}
