//! The runtime of slowgrad: [`Var`] and its tape, the runtime-parsed [`einsum`], the
//! extended-einsum interpreter, differentiable ops, losses, `nn` layers and optimisers.
//!
//! Users depend on the `slowgrad` facade, which re-exports this crate.
//!
//! ```
//! use ndarray::array;
//! use slowgrad_runtime::optim::{Optimizer, SGD};
//! use slowgrad_runtime::{einsum, Var};
//! // least squares: find w with X w = y, for y = X (2, −1)
//! let x = Var::constant(array![[1.0f64, 0.0], [0.0, 1.0], [1.0, 1.0]]);
//! let y = Var::constant(array![2.0, -1.0, 1.0]);
//! let w = Var::new(array![0.0, 0.0]);
//! let mut opt = SGD::new(vec![w.as_dyn()], 0.5);
//! for _ in 0..100 {
//!     opt.zero_grad();
//!     let r = &einsum("ij,j->i", &[&x, &w]).unwrap() - &y.as_dyn();
//!     (&r * &r).mean().backward();
//!     opt.step();
//! }
//! let w = w.value();
//! assert!((w[0] - 2.0).abs() < 1e-6 && (w[1] + 1.0).abs() < 1e-6);
//! ```
#![warn(missing_docs)]

pub mod checkpoint;
mod convert;
mod einsum;
pub mod exec;
mod float;
pub mod function;
pub mod functional;
pub mod gradcheck;
pub mod loss;
pub mod nn;
pub mod ops;
pub mod optim;
mod ring;
mod rng;
mod var;

pub use convert::IntoParams;
pub use einsum::{
    apply_kernel, einsum, einsum_array, explain, explain_for, ext_einsum, run_equation, run_ext, Interpreted, Kernel,
    Operand,
};
pub use float::Float;
pub use ops::{broadcast_to, sum_to};
pub use rng::Rng;
pub use slowgrad_core::{EinsumError, Equation, ExtEinsum, Plan};
pub use var::{
    enable_grad, gradients, is_grad_enabled, no_grad, record, BackwardError, BackwardFn, BackwardOptions, Var,
};
