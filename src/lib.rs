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
pub mod prelude {
    pub use slowgrad_runtime::nn::Module;
    pub use slowgrad_runtime::optim::{LrSchedule, Optimizer};
    pub use slowgrad_runtime::{einsum, no_grad, seq, BackwardOptions, Float, Rng, Var};
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
