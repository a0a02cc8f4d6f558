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
///
/// A training loop written against the trait works with every optimiser:
///
/// ```
/// use ndarray::array;
/// use slowgrad_runtime::optim::{Adam, Optimizer, SGD};
/// use slowgrad_runtime::Var;
///
/// /// Minimises (w − 3)² from w = 0.
/// fn fit(opt: &mut dyn Optimizer, w: &Var<f64>, steps: usize) {
///     for _ in 0..steps {
///         opt.zero_grad();
///         let d = w.add_scalar(-3.0);
///         (&d * &d).sum().backward();
///         opt.step();
///     }
/// }
///
/// let w = Var::new(array![0.0].into_dyn());
/// fit(&mut SGD::new(vec![w.clone()], 0.25), &w, 30);
/// assert!((w.value()[0] - 3.0).abs() < 1e-6);
/// let w = Var::new(array![0.0].into_dyn());
/// fit(&mut Adam::new(vec![w.clone()], 0.1), &w, 300);
/// assert!((w.value()[0] - 3.0).abs() < 0.05);
/// ```
pub trait Optimizer {
    /// Updates every parameter that has a gradient; parameters without one are left as they are.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad_runtime::optim::{Optimizer, SGD};
    /// use slowgrad_runtime::Var;
    /// let (a, b) = (Var::new(array![1.0].into_dyn()), Var::new(array![1.0].into_dyn()));
    /// let mut opt = SGD::new(vec![a.clone(), b.clone()], 0.1);
    /// (&a * &a).sum().backward(); // only `a` gets a gradient, 2a = 2
    /// opt.step();
    /// assert_eq!(a.value()[0], 1.0 - 0.1 * 2.0);
    /// assert_eq!(b.value()[0], 1.0);
    /// ```
    fn step(&mut self);

    /// Clears the gradients of the parameters.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad_runtime::optim::{Optimizer, SGD};
    /// use slowgrad_runtime::Var;
    /// let w = Var::new(array![1.0].into_dyn());
    /// let mut opt = SGD::new(vec![w.clone()], 0.1);
    /// (&w * &w).sum().backward();
    /// opt.zero_grad();
    /// assert!(w.grad().is_none());
    /// opt.step(); // nothing to apply
    /// assert_eq!(w.value()[0], 1.0);
    /// ```
    fn zero_grad(&self);

    /// The current learning rate.
    ///
    /// ```
    /// use slowgrad_runtime::optim::{AdamW, Optimizer};
    /// let opt = AdamW::<f32>::new(vec![], 3e-4);
    /// assert_eq!(opt.lr(), 3e-4);
    /// ```
    fn lr(&self) -> f64;

    /// Sets the learning rate (used by schedules).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad_runtime::optim::{LrSchedule, Optimizer, StepLR, SGD};
    /// use slowgrad_runtime::Var;
    /// let w = Var::new(array![0.0].into_dyn());
    /// let mut opt = SGD::new(vec![w.clone()], 1.0);
    /// let schedule = StepLR { base: 1.0, step_size: 1, gamma: 0.5 };
    /// for step in 0..3 {
    ///     opt.set_lr(schedule.lr(step));
    ///     opt.zero_grad();
    ///     w.sum().backward(); // gradient 1: each step moves w by −lr
    ///     opt.step();
    /// }
    /// assert_eq!(opt.lr(), 0.25);
    /// assert_eq!(w.value()[0], -(1.0 + 0.5 + 0.25));
    /// ```
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
