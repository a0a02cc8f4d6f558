//! Differentiable ops on [`Var`](crate::Var).
//!
//! Layout: one file per family of ops, each op's forward and backward side by side. Every op
//! records through [`record`](crate::record), and every backward is written with ops on `Var`s,
//! so it is recorded when a backward pass creates a graph. Reductions and broadcasts go through
//! the extended einsum ([`ext_einsum`](crate::ext_einsum)) rather than kernels of their own.
//! A new op goes in the file of its family, with a gradcheck test in `tests/ops.rs`.

mod arith;
mod reduce;
mod unary;

pub use reduce::{broadcast_to, sum_to};
