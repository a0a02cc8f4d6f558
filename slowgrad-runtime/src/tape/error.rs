//! [`BackwardError`]: what can go wrong in a backward pass, with its messages.

use std::fmt;

/// What can go wrong in a backward pass.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum, BackwardError, BackwardOptions, Var};
/// let x = Var::new(array![1.0, 2.0]);
/// let y = einsum("i->i", &[&x]).unwrap();
/// assert_eq!(y.try_backward(BackwardOptions::default()), Err(BackwardError::NotScalar { shape: vec![2] }));
/// let s = einsum("i->", &[&x]).unwrap();
/// s.try_backward(BackwardOptions::default()).unwrap();
/// let again = s.try_backward(BackwardOptions::default()).unwrap_err();
/// assert!(matches!(again, BackwardError::GraphFreed { .. }));
/// assert!(again.to_string().contains("retain_graph"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackwardError {
    /// The value does not require a gradient: it was computed from constants only
    /// ([`Var::constant`](crate::Var::constant), [`Var::detach`](crate::Var::detach)) or under
    /// [`no_grad`](super::no_grad), so it has no graph to go back through.
    NoGrad,
    /// `backward()` without a seed needs a single-element output.
    NotScalar {
        /// The output's shape.
        shape: Vec<usize>,
    },
    /// The seed's shape differs from the output's.
    SeedShape {
        /// The output's shape.
        expected: Vec<usize>,
        /// The seed's shape.
        got: Vec<usize>,
    },
    /// The graph was released by an earlier backward pass.
    GraphFreed {
        /// The op whose saved values are gone.
        op: &'static str,
    },
    /// A backward function returned a gradient of the wrong shape (a bug in that op).
    GradientShape {
        /// The op.
        op: &'static str,
        /// The input's shape.
        expected: Vec<usize>,
        /// The gradient's shape.
        got: Vec<usize>,
    },
    /// The vector of a Jacobian- or Hessian-vector product (`functional::jvp`, `hvp`) does not
    /// have the shape of the point.
    VectorShape {
        /// The point's shape.
        expected: Vec<usize>,
        /// The vector's shape.
        got: Vec<usize>,
    },
    /// A backward function returned another number of gradients than its op has inputs (a bug
    /// in that op: it must return one entry per input, `None` where no gradient flows).
    GradientCount {
        /// The op.
        op: &'static str,
        /// The op's number of inputs.
        expected: usize,
        /// The number of gradients returned.
        got: usize,
    },
}

impl fmt::Display for BackwardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackwardError::NoGrad => write!(
                f,
                "backward() from a value that does not require grad: it was computed from constants only (Var::constant, detach) or under no_grad, so no gradient can flow to any leaf; make the inputs with Var::new and compute outside no_grad"
            ),
            BackwardError::NotScalar { shape } => write!(
                f,
                "backward() needs a single-element output, but the output has shape {shape:?}: use backward_with(upstream) to seed the gradient"
            ),
            BackwardError::SeedShape { expected, got } => {
                write!(f, "the upstream gradient has shape {got:?} but the output has shape {expected:?}")
            }
            BackwardError::GraphFreed { op } => write!(
                f,
                "backward through `{op}` a second time: its saved values were released after the first backward; pass retain_graph to keep them"
            ),
            BackwardError::GradientShape { op, expected, got } => {
                write!(f, "the backward of `{op}` returned a gradient of shape {got:?} for an input of shape {expected:?}")
            }
            BackwardError::VectorShape { expected, got } => write!(
                f,
                "the vector v has shape {got:?} but the point x has shape {expected:?}: a Jacobian- or Hessian-vector product needs v of x's shape"
            ),
            BackwardError::GradientCount { op, expected, got } => write!(
                f,
                "the backward of `{op}` returned {got} gradients for {expected} inputs: it must return one entry per input (None where no gradient flows)"
            ),
        }
    }
}

impl std::error::Error for BackwardError {}
