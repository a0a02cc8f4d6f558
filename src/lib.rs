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

/// Einstein summation whose pattern is read at compile time, with specialised kernels for the
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
/// Patterns without `...` are planned at compile time (the plan
/// [`explain`] prints): each step and each of its gradients is a generated kernel.
/// Patterns with `...` have ranks known only at run time, so they run through the runtime
/// interpreter (`run_equation` / `einsum_array`) with the same semantics.
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
pub use slowgrad_macros::einsum;
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
pub use slowgrad_macros::try_einsum;
pub use slowgrad_runtime::*;

#[doc(hidden)]
pub mod __private;

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
    pub use slowgrad_macros::{einsum, try_einsum};
    pub use slowgrad_runtime::nn::Module;
    pub use slowgrad_runtime::optim::{LrSchedule, Optimizer};
    pub use slowgrad_runtime::{einsum, no_grad, seq, BackwardOptions, Float, Rng, Var};
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
