//! slowgrad: automatic differentiation built around einsum.
//!
//! ```
//! use ndarray::array;
//! use slowgrad::{einsum, Var};
//! let x = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
//! let w = Var::new(array![[0.5, -1.0], [2.0, 0.0]]);
//! let loss = einsum("ij,jk->", &[&x, &w]).unwrap();
//! loss.backward();
//! assert_eq!(w.grad().unwrap(), array![[4.0, 4.0], [6.0, 6.0]]);
//! ```
#![warn(missing_docs)]

pub use slowgrad_runtime::*;

/// The names most programs need.
///
/// ```
/// use ndarray::array;
/// use slowgrad::nn::Linear;
/// use slowgrad::optim::{StepLR, SGD};
/// use slowgrad::prelude::*;
/// let model = seq![Linear::<f64>::new(2, 1, true)];
/// let x = Var::constant(array![[1.0, 2.0], [3.0, 4.0]].into_dyn());
/// let mut opt = SGD::new(model.parameters(), 0.1);
/// let schedule = StepLR { base: 0.1, step_size: 10, gamma: 0.5 };
/// opt.set_lr(schedule.lr(10));
/// let y = model.forward(&x);
/// let loss = einsum!("ij,ij->", &y, &y); // Σ y²
/// loss.backward();
/// let bias = &model.parameters()[1];
/// let (before, g) = (bias.value()[0], bias.grad().unwrap()[0]);
/// opt.step();
/// // one SGD step at the scheduled rate 0.05
/// assert!((bias.value()[0] - (before - 0.05 * g)).abs() < 1e-12);
/// assert!(!no_grad(|| model.forward(&x)).requires_grad());
/// ```
pub mod prelude {
    pub use slowgrad_runtime::nn::Module;
    pub use slowgrad_runtime::optim::{LrSchedule, Optimizer};
    pub use slowgrad_runtime::{einsum, no_grad, seq, try_einsum, BackwardOptions, Float, Rng, Var};
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
