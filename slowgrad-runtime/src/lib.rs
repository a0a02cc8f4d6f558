//! The runtime of slowgrad: [`Var`] and its tape, the runtime-parsed [`einsum`], the
//! extended-einsum interpreter, differentiable ops, losses, `nn` layers and optimisers.
//!
//! Users depend on the `slowgrad` facade, which re-exports this crate.
#![warn(missing_docs)]

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
