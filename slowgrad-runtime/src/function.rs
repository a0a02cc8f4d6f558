//! User-defined ops with a hand-written backward (PyTorch's `autograd.Function`).
//!
//! ```
//! use ndarray::{array, ArrayD, ArrayViewD};
//! use slowgrad::function::{apply, Function, Saved};
//! use slowgrad::gradcheck::{gradcheck, gradgradcheck, GradcheckOptions};
//! use slowgrad::Var;
//!
//! /// eˣ, whose backward reuses the output.
//! struct Exp;
//! impl Function<f64> for Exp {
//!     fn forward(&self, x: &[ArrayViewD<'_, f64>], _: &mut Saved<f64>) -> ArrayD<f64> {
//!         x[0].mapv(f64::exp)
//!     }
//!     fn backward(&self, _: &Saved<f64>, g: &Var<f64>, _: &[Var<f64>], y: &Var<f64>) -> Vec<Option<Var<f64>>> {
//!         vec![Some(g * y)]
//!     }
//! }
//!
//! let x = [array![0.5, -1.0].into_dyn()];
//! let opts = GradcheckOptions::default();
//! assert!(gradcheck(&|xs| apply(Exp, &[&xs[0]]), &x, opts).is_ok());
//! // the backward is made of ops on `Var`s, so it is differentiable too
//! assert!(gradgradcheck(&|xs| apply(Exp, &[&xs[0]]), &x, opts).is_ok());
//! ```

use crate::tape::record;
use crate::tape::with_views;
use crate::Float;
use crate::Operand;
use crate::Var;
use ndarray::{ArrayD, ArrayViewD, IxDyn};

/// Arrays a [`Function`]'s forward keeps for its backward (a mask, a factorisation, ...).
/// They live as long as the graph and are released with it.
///
/// ```
/// use ndarray::array;
/// use slowgrad::function::Saved;
/// let mut saved = Saved::default();
/// let mask = saved.push(array![1.0, 0.0].into_dyn());
/// let scale = saved.push(array![2.5].into_dyn());
/// assert_eq!(saved.get(scale), &array![2.5].into_dyn());
/// assert_eq!(saved.var(mask).value(), array![1.0, 0.0].into_dyn());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Saved<T> {
    arrays: Vec<ArrayD<T>>,
}

impl<T: Float> Saved<T> {
    /// Keeps `a`; returns its position for [`Saved::get`], counting from 0 in the order of
    /// the pushes.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::function::Saved;
    /// let mut saved = Saved::default();
    /// assert_eq!(saved.push(array![1.0f32].into_dyn()), 0);
    /// assert_eq!(saved.push(array![2.0f32].into_dyn()), 1);
    /// ```
    pub fn push(&mut self, a: ArrayD<T>) -> usize {
        self.arrays.push(a);
        self.arrays.len() - 1
    }

    /// The array kept at position `i`.
    ///
    /// **Panics** if nothing was saved there.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::function::Saved;
    /// let mut saved = Saved::default();
    /// let i = saved.push(array![[1.0, 2.0]].into_dyn());
    /// assert_eq!(saved.get(i)[[0, 1]], 2.0);
    /// ```
    #[track_caller]
    pub fn get(&self, i: usize) -> &ArrayD<T> {
        &self.arrays[i]
    }

    /// The array kept at position `i` as a constant `Var`.
    ///
    /// **Panics** if nothing was saved there.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::function::Saved;
    /// let mut saved = Saved::default();
    /// let i = saved.push(array![3.0, 4.0].into_dyn());
    /// let v = saved.var(i);
    /// assert_eq!(v.value(), array![3.0, 4.0].into_dyn());
    /// assert!(!v.requires_grad()); // no gradient flows into saved arrays
    /// ```
    #[track_caller]
    pub fn var(&self, i: usize) -> Var<T, IxDyn> {
        Var::constant(self.arrays[i].clone())
    }
}

/// An op with its own forward and backward.
///
/// `backward` gets the upstream gradient, the op's inputs and output as `Var`s and what the
/// forward saved, and returns one gradient per input (`None` for none). Written with ops on
/// `Var`s it is differentiable again (for Hessians and `gradgradcheck`); written on arrays
/// (wrapped with `Var::constant`) it serves first-order gradients.
///
/// ```
/// use ndarray::{array, ArrayD, ArrayViewD, IxDyn};
/// use slowgrad::function::{apply, Function, Saved};
/// use slowgrad::Var;
///
/// /// y = A x with a hand-written backward: dL/dA = g xᵀ, dL/dx = Aᵀ g.
/// struct MatVec;
/// impl Function<f64> for MatVec {
///     fn forward(&self, x: &[ArrayViewD<'_, f64>], _: &mut Saved<f64>) -> ArrayD<f64> {
///         let a = x[0].view().into_dimensionality::<ndarray::Ix2>().unwrap();
///         let v = x[1].view().into_dimensionality::<ndarray::Ix1>().unwrap();
///         a.dot(&v).into_dyn()
///     }
///     fn backward(&self, _: &Saved<f64>, g: &Var<f64>, x: &[Var<f64>], _: &Var<f64>) -> Vec<Option<Var<f64>>> {
///         let ga = slowgrad::einsum("i,j->ij", &[g, &x[1]]).unwrap();
///         let gx = slowgrad::einsum("ij,i->j", &[&x[0], g]).unwrap();
///         vec![Some(ga), Some(gx)]
///     }
/// }
///
/// let a = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
/// let x = Var::new(array![1.0, -1.0]);
/// let y = apply(MatVec, &[&a, &x]);
/// assert_eq!(y.value(), array![-1.0, -1.0].into_dyn());
/// y.backward_with(array![1.0, 0.0]);
/// assert_eq!(x.grad().unwrap(), array![1.0, 2.0]);
/// ```
pub trait Function<T: Float>: 'static {
    /// The op's name on the tape (in a `Var`'s debug output and in backward errors);
    /// `"function"` unless overridden.
    ///
    /// ```
    /// use ndarray::{array, ArrayD, ArrayViewD};
    /// use slowgrad::function::{apply, Function, Saved};
    /// use slowgrad::{BackwardError, BackwardOptions, Var};
    /// struct Cube;
    /// impl Function<f64> for Cube {
    ///     fn name(&self) -> &'static str {
    ///         "cube"
    ///     }
    ///     fn forward(&self, x: &[ArrayViewD<'_, f64>], _: &mut Saved<f64>) -> ArrayD<f64> {
    ///         x[0].mapv(|v| v * v * v)
    ///     }
    ///     fn backward(&self, _: &Saved<f64>, g: &Var<f64>, x: &[Var<f64>], _: &Var<f64>) -> Vec<Option<Var<f64>>> {
    ///         vec![Some(&(g * &(&x[0] * &x[0])) * 3.0)]
    ///     }
    /// }
    /// let y = apply(Cube, &[&Var::new(array![2.0])]);
    /// assert!(format!("{y:?}").contains("op: cube"));
    /// y.backward();
    /// // a second pass through the released graph names the op
    /// let err = y.try_backward(BackwardOptions::default()).unwrap_err();
    /// assert_eq!(err, BackwardError::GraphFreed { op: "cube" });
    /// ```
    fn name(&self) -> &'static str {
        "function"
    }

    /// Computes the result from the inputs' values, saving what the backward needs.
    ///
    /// ```
    /// use ndarray::{array, ArrayD, ArrayViewD};
    /// use slowgrad::function::{apply, Function, Saved};
    /// use slowgrad::Var;
    /// /// max(x, 0), keeping the mask of positive entries for the backward.
    /// struct Relu;
    /// impl Function<f64> for Relu {
    ///     fn forward(&self, x: &[ArrayViewD<'_, f64>], saved: &mut Saved<f64>) -> ArrayD<f64> {
    ///         saved.push(x[0].mapv(|v| if v > 0.0 { 1.0 } else { 0.0 }));
    ///         x[0].mapv(|v| v.max(0.0))
    ///     }
    ///     fn backward(&self, saved: &Saved<f64>, g: &Var<f64>, _: &[Var<f64>], _: &Var<f64>) -> Vec<Option<Var<f64>>> {
    ///         vec![Some(g * &saved.var(0))]
    ///     }
    /// }
    /// let x = Var::new(array![-1.0, 2.0]);
    /// let y = apply(Relu, &[&x]);
    /// assert_eq!(y.value(), array![0.0, 2.0].into_dyn());
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap(), array![0.0, 1.0]);
    /// ```
    fn forward(&self, inputs: &[ArrayViewD<'_, T>], saved: &mut Saved<T>) -> ArrayD<T>;

    /// Computes the inputs' gradients: one entry per input, in order, `None` where no gradient
    /// flows. A gradient must have its input's shape, or the backward pass fails with
    /// [`BackwardError::GradientShape`](crate::BackwardError::GradientShape); another number of
    /// entries fails with [`BackwardError::GradientCount`](crate::BackwardError::GradientCount).
    ///
    /// ```
    /// use ndarray::{array, ArrayD, ArrayViewD};
    /// use slowgrad::function::{apply, Function, Saved};
    /// use slowgrad::Var;
    /// /// x · mask, where the mask is not differentiated.
    /// struct Masked;
    /// impl Function<f64> for Masked {
    ///     fn forward(&self, x: &[ArrayViewD<'_, f64>], _: &mut Saved<f64>) -> ArrayD<f64> {
    ///         &x[0] * &x[1]
    ///     }
    ///     fn backward(&self, _: &Saved<f64>, g: &Var<f64>, x: &[Var<f64>], _: &Var<f64>) -> Vec<Option<Var<f64>>> {
    ///         vec![Some(g * &x[1]), None]
    ///     }
    /// }
    /// let x = Var::new(array![3.0, 4.0]);
    /// let mask = Var::new(array![1.0, 0.0]);
    /// apply(Masked, &[&x, &mask]).sum().backward();
    /// assert_eq!(x.grad().unwrap(), array![1.0, 0.0]);
    /// assert!(mask.grad().is_none());
    /// ```
    fn backward(
        &self,
        saved: &Saved<T>,
        upstream: &Var<T, IxDyn>,
        inputs: &[Var<T, IxDyn>],
        output: &Var<T, IxDyn>,
    ) -> Vec<Option<Var<T, IxDyn>>>;
}

/// Runs `f` on `inputs` and records it on the tape. The inputs may be `Var`s of any
/// dimension; when none requires a gradient (or inside [`no_grad`](crate::no_grad)), the result
/// is a constant and nothing is recorded.
///
/// ```
/// use ndarray::{array, ArrayD, ArrayViewD};
/// use slowgrad::function::{apply, Function, Saved};
/// use slowgrad::Var;
/// struct Add;
/// impl Function<f64> for Add {
///     fn forward(&self, x: &[ArrayViewD<'_, f64>], _: &mut Saved<f64>) -> ArrayD<f64> {
///         &x[0] + &x[1]
///     }
///     fn backward(&self, _: &Saved<f64>, g: &Var<f64>, _: &[Var<f64>], _: &Var<f64>) -> Vec<Option<Var<f64>>> {
///         vec![Some(g.clone()), Some(g.clone())]
///     }
/// }
/// let a = Var::new(array![1.0, 2.0]);
/// let b = Var::constant(array![10.0, 20.0].into_dyn());
/// let y = apply(Add, &[&a, &b]);
/// assert_eq!(y.value(), array![11.0, 22.0].into_dyn());
/// y.sum().backward();
/// assert_eq!(a.grad().unwrap(), array![1.0, 1.0]);
/// assert!(b.grad().is_none());
/// // constants only: nothing to record
/// let c = apply(Add, &[&b, &b]);
/// assert!(!c.requires_grad() && c.is_leaf());
/// ```
pub fn apply<T: Float, F: Function<T>>(f: F, inputs: &[&dyn Operand<T>]) -> Var<T, IxDyn> {
    let vars: Vec<Var<T, IxDyn>> = inputs.iter().map(|o| o.to_var()).collect();
    let mut saved = Saved { arrays: Vec::new() };
    let value = with_views(&vars, |views| f.forward(views, &mut saved));
    let name = f.name();
    record(name, value, &vars, move |g: &Var<T, IxDyn>, ins: &[Var<T, IxDyn>], out: &Var<T, IxDyn>| {
        f.backward(&saved, g, ins, out)
    })
}
