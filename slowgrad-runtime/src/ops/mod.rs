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
//! | `extremum.rs` | argmax/argmin, max/min (along an axis or overall), clamp |
//! | `shape.rs` | reshape, flatten, squeeze/unsqueeze, permute, transpose |
//! | `index.rs` | index_select, gather, slice_axis, concat/cat, stack, unfold1d/unfold2d (conv windows) |
//! | `cast.rs` | cast between `f32` and `f64` |
//! | `softmax.rs` | softmax, log_softmax, logsumexp |
//! | `norm.rs` | layer_norm |
//! | `dropout.rs` | dropout |
//!
//! A new op goes in the file of its family, with a gradcheck test in `tests/ops.rs`.
//!
//! The operators `+ - * /` work between `&Var`s (or owned `Var`s) of any two dimensions that
//! broadcast, numpy-style, and between a `Var` and an `f32` or `f64` scalar on either side; `-x`
//! negates. The gradient of a broadcast operand is summed back to its shape.
//!
//! **Panics**: `+ - * /` between two `Var`s panic if their shapes do not broadcast.
//!
//! ```
//! use ndarray::array;
//! use slowgrad::Var;
//! let a = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
//! let b = Var::new(array![10.0f64, 20.0]);
//! // `b` is broadcast over the rows of `a`
//! let y = (&a * &b).sum();
//! assert_eq!(y.item(), 10.0 + 40.0 + 30.0 + 80.0);
//! y.backward();
//! assert_eq!(a.grad().unwrap(), array![[10.0, 20.0], [10.0, 20.0]]);
//! assert_eq!(b.grad().unwrap(), array![4.0, 6.0]); // summed over the broadcast rows
//! // scalars on either side, and negation
//! assert_eq!((1.0 - &b).value(), array![-9.0, -19.0]);
//! assert_eq!((&b / 4.0).value(), array![2.5, 5.0]);
//! assert_eq!((2.0 / &b).value(), array![0.2, 0.1]);
//! assert_eq!((-&a).value(), array![[-1.0, -2.0], [-3.0, -4.0]]);
//! ```

mod arith;
mod cast;
mod dropout;
mod extremum;
mod index;
mod norm;
mod reduce;
mod shape;
mod softmax;
mod unary;

pub use reduce::{broadcast_to, sum_to};
