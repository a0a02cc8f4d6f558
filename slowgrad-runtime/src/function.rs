//! User-defined ops with a hand-written backward (PyTorch's `autograd.Function`).

use crate::einsum::{with_views, Operand};
use crate::var::{record, Var};
use crate::Float;
use ndarray::{ArrayD, ArrayViewD, IxDyn};

/// Arrays a [`Function`]'s forward keeps for its backward (a mask, a factorisation, ...).
/// They live as long as the graph and are released with it.
#[derive(Debug, Clone, Default)]
pub struct Saved<T> {
    arrays: Vec<ArrayD<T>>,
}

impl<T: Float> Saved<T> {
    /// Keeps `a`; returns its position for [`Saved::get`].
    pub fn push(&mut self, a: ArrayD<T>) -> usize {
        self.arrays.push(a);
        self.arrays.len() - 1
    }

    /// The array kept at position `i`.
    ///
    /// **Panics** if nothing was saved there.
    #[track_caller]
    pub fn get(&self, i: usize) -> &ArrayD<T> {
        &self.arrays[i]
    }

    /// The array kept at position `i` as a constant `Var`.
    ///
    /// **Panics** if nothing was saved there.
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
/// use slowgrad_runtime::function::{apply, Function, Saved};
/// use slowgrad_runtime::Var;
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
///         let ga = slowgrad_runtime::einsum("i,j->ij", &[g, &x[1]]).unwrap();
///         let gx = slowgrad_runtime::einsum("ij,i->j", &[&x[0], g]).unwrap();
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
    /// The op's name on the tape.
    fn name(&self) -> &'static str {
        "function"
    }

    /// Computes the result from the inputs' values, saving what the backward needs.
    fn forward(&self, inputs: &[ArrayViewD<'_, T>], saved: &mut Saved<T>) -> ArrayD<T>;

    /// Computes the inputs' gradients.
    fn backward(
        &self,
        saved: &Saved<T>,
        upstream: &Var<T, IxDyn>,
        inputs: &[Var<T, IxDyn>],
        output: &Var<T, IxDyn>,
    ) -> Vec<Option<Var<T, IxDyn>>>;
}

/// Runs `f` on `inputs` and records it on the tape.
pub fn apply<T: Float, F: Function<T>>(f: F, inputs: &[&dyn Operand<T>]) -> Var<T, IxDyn> {
    let vars: Vec<Var<T, IxDyn>> = inputs.iter().map(|o| o.to_var()).collect();
    let mut saved = Saved { arrays: Vec::new() };
    let value = with_views(&vars, |views| f.forward(views, &mut saved));
    let name = f.name();
    record(name, value, &vars, move |g: &Var<T, IxDyn>, ins: &[Var<T, IxDyn>], out: &Var<T, IxDyn>| {
        f.backward(&saved, g, ins, out)
    })
}
