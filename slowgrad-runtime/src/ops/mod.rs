//! Differentiable ops on [`Var`](crate::Var).
//!
//! Layout: one file per family of ops, each op's forward and backward side by side. Every op
//! records through [`record`](crate::record), and every backward is written with ops on `Var`s,
//! so it is recorded when a backward pass creates a graph. Reductions, permutations and
//! broadcasts go through the extended einsum ([`ext_einsum`](crate::ext_einsum)) rather than
//! kernels of their own. Composites (softmax, layer norm, dropout, losses) are built from
//! primitives and have no backward of their own.
//!
//! | file | ops |
//! | --- | --- |
//! | `arith.rs` | `+ - * /` with broadcasting and scalars, negation |
//! | `unary.rs` | exp, ln/log, sqrt, powf, abs, sigmoid, tanh, relu, gelu, softplus |
//! | `reduce.rs` | sum/mean (all, or over axes with keepdim), `sum_to`, `broadcast_to` |
//! | `shape.rs` | reshape, flatten, permute, transpose |
//! | `index.rs` | index_select, gather, slice_axis, concat, unfold1d/unfold2d (conv windows) |
//! | `softmax.rs` | softmax, log_softmax, logsumexp |
//! | `norm.rs` | layer_norm |
//! | `dropout.rs` | dropout |
//!
//! A new op goes in the file of its family, with a gradcheck test in `tests/ops.rs`.

mod arith;
mod dropout;
mod index;
mod norm;
mod reduce;
mod shape;
mod softmax;
mod unary;

pub use reduce::{broadcast_to, sum_to};
