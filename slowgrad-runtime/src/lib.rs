//! The runtime of slowgrad: [`Var`] and its tape, the runtime-parsed [`einsum()`], the
//! extended-einsum interpreter, differentiable ops, losses, `nn` layers and optimisers.
//!
//! Users depend on the `slowgrad` facade, which re-exports this crate.
//!
//! ```
//! use ndarray::array;
//! use slowgrad::optim::{Optimizer, SGD};
//! use slowgrad::{einsum, Var};
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
//!
//! # The pattern language
//!
//! `einsum!` and [`einsum()`] read the same patterns: numpy's and torch's einsum plus named
//! labels.
//!
//! ```text
//! pattern := inputs [ "->" output ]
//! inputs  := term ( "," term )*
//! term    := letter-term | named-term
//! letter-term := ( letter | "..." )*           -- each ASCII letter a-z A-Z is one label
//! named-term  := token ( ws+ token )*          -- token: identifier or "..."
//! ```
//!
//! White space around terms, commas and the arrow is ignored; an empty term is a scalar. A
//! label repeated in an input term takes a diagonal; without `->` the output is the labels seen
//! once, in ASCII order (upper case first), after the `...` dimensions; `...` broadcasts numpy
//! style and, left out of an explicit output, is summed; a label of size 1 in one operand
//! broadcasts against a larger size. A pattern uses **named labels** when some term contains two
//! tokens separated by white space (`"batch inp, out inp -> batch out"`); a multi-letter token
//! seen once whose letters are all one-letter labels of the same pattern is rejected as
//! ambiguous. [`explain`] prints what a pattern runs as.
//!
//! # Threads
//!
//! A [`Var`] and its tape are per thread: `Var` holds reference-counted nodes and is neither
//! `Send` nor `Sync`, so a graph is built, differentiated and dropped on one thread (send the
//! values, `Var::value()`, across threads instead). Grad mode ([`no_grad`]), the default random
//! generator of the `nn` initialisers ([`nn::manual_seed`]) and the caches of plans and
//! prepared steps are per thread too. Large contractions use rayon's thread pool internally;
//! that is invisible to the caller.
#![warn(missing_docs)]

#[doc(hidden)]
#[path = "macro_support/mod.rs"]
pub mod __private;
pub mod checkpoint;
mod convert;
mod einsum;
pub(crate) mod exec;
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
mod tape;
mod var;

pub use convert::IntoParams;
pub use einsum::{
    einsum, einsum_array, einsum_reference, explain, explain_for, ext_einsum, ext_einsum_array, run_equation, run_ext,
    Interpreted, Operand,
};
pub use float::Float;
pub use ops::{broadcast_to, sum_to};
pub use rng::Rng;
pub use slowgrad_core::{EinsumError, Equation, ExtEinsum, Plan};
pub use tape::{
    apply_kernel, enable_grad, gradients, is_grad_enabled, no_grad, record, BackwardError, BackwardFn, BackwardOptions,
    Kernel,
};
pub use var::Var;

/// Einstein summation whose pattern is read at compile time, with a loop nest written for the
/// forward pass and for every gradient.
///
/// `einsum!(pattern, operand, ...)`: the pattern is a string literal in the language of the
/// runtime [`einsum()`] (numpy/torch einsum plus named labels), and the operands are either all
/// `&Var<T, D>` — the result is a `Var` whose backward is recorded on the tape, differentiable to
/// any order — or all ndarray arrays (`&Array`, `&ArrayView`), giving an `Array` (forward only).
/// `T` is `f32` or `f64`. The result has a static dimension (`Ix0`..`Ix6`) when the pattern has no
/// `...`, `IxDyn` otherwise.
///
/// A malformed pattern, an operand count that differs from the number of terms, or an operand
/// whose static rank differs from its term is a compile error. Shapes (and ranks of `IxDyn`
/// operands) are checked at run time with the runtime's [`EinsumError`] messages.
///
/// **What runs.** A pattern without `...` is planned at compile time (the plan [`explain`]
/// prints) into steps of one or two operands. For each step and each gradient of a step (and
/// theirs, to any order) the macro writes a kernel: a size check, then `for` loops in the
/// kernel's loop order, each advancing only the operands its label indexes (a diagonal as the
/// sum of its axes' strides, a broadcast or size-1 sum-back as stride 0), with the innermost
/// loops calling the runtime's microkernels (a dot product, an axpy, or register-blocked rows
/// for matrix-product classes), compiled for AVX2+FMA and for the baseline and chosen at run
/// time. Work of 12³ multiply-adds or more goes instead to the executor as the class chosen at
/// compile time (the GEMM for matrix products; for a batched matrix-matrix product, the work of
/// one product counts, unless the whole is large enough for threads). A pattern with `...` has ranks known only at
/// run time, so it runs through the runtime interpreter with the same semantics.
///
/// **Panics** with the [`EinsumError`]'s message if the shapes do not fit; [`try_einsum!`]
/// returns the `Result` instead.
///
/// ```
/// use ndarray::{array, Array2};
/// use slowgrad::{einsum, Var};
///
/// // Var operands: the result records its backward
/// let x = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
/// let w = Var::new(array![[0.5, -1.0], [2.0, 0.0]]);
/// let z = einsum!("ij,jk->ik", &x, &w);
/// z.backward_with(Array2::ones((2, 2)));
/// assert_eq!(x.grad().unwrap(), array![[-0.5, 2.0], [-0.5, 2.0]]);
///
/// // ndarray operands: forward only, the result is an Array2
/// let a = array![[1.0, 2.0], [3.0, 4.0]];
/// let b = array![[0.5, -1.0], [2.0, 0.0]];
/// let c: Array2<f64> = einsum!("ij,jk->ik", &a, &b.view());
/// assert_eq!(c, a.dot(&b));
/// assert!(z.value() == c);
/// ```
#[macro_export]
macro_rules! einsum {
    ($($args:tt)*) => {
        $crate::__private::expand_einsum!([$crate] $($args)*)
    };
}

/// [`einsum!`] returning `Result<_, EinsumError>` instead of panicking when the operands' shapes
/// do not fit the pattern.
///
/// **Errors** with the error the runtime [`einsum()`] would return.
///
/// ```
/// use ndarray::Array2;
/// use slowgrad::try_einsum;
/// let a = Array2::<f64>::zeros((2, 3));
/// let b = Array2::<f64>::zeros((4, 5));
/// let err = try_einsum!("ij,jk->ik", &a, &b).unwrap_err();
/// assert!(err.to_string().starts_with("label `j` has size 3 in operand 0 but 4 in operand 1"));
/// ```
#[macro_export]
macro_rules! try_einsum {
    ($($args:tt)*) => {
        $crate::__private::expand_try_einsum!([$crate] $($args)*)
    };
}
