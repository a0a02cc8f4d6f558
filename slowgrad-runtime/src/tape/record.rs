//! Recorded ops: what a result remembers of the op that made it ([`Op`], [`Backward`]), the
//! [`BackwardFn`] interface of hand-written backwards, and the functions that record ([`record`],
//! `record_kernel`, `record_cast`).

use super::cast::Source;
use super::{is_grad_enabled, Kernel, Node, Origin};
use crate::{Float, Var};
use ndarray::{ArrayD, IxDyn};
use smallvec::SmallVec;

/// A backward function: given the upstream gradient, the op's inputs and its output, returns the
/// gradient of every input (`None` where it is zero or not needed).
///
/// It runs with recording on only when the backward pass creates a graph, so writing it with
/// differentiable ops on `Var`s makes it differentiable again.
///
/// ```
/// use ndarray::{array, IxDyn};
/// use slowgrad::{record, BackwardFn, Var};
/// // y = x², written as a type: dy/dx = 2x, from the saved input
/// struct Square;
/// impl BackwardFn<f64> for Square {
///     fn backward(&self, g: &Var<f64, IxDyn>, inputs: &[Var<f64, IxDyn>], _: &Var<f64, IxDyn>) -> Vec<Option<Var<f64, IxDyn>>> {
///         vec![Some(&(g * &inputs[0]) * 2.0)]
///     }
/// }
/// let x = Var::new(array![3.0, -1.0]).as_dyn();
/// let y = record("square", x.value().mapv(|v| v * v), &[x.clone()], Square);
/// y.backward_with(array![1.0, 1.0]);
/// assert_eq!(x.grad().unwrap(), array![6.0, -2.0].into_dyn());
/// ```
pub trait BackwardFn<T: Float>: 'static {
    /// Computes the inputs' gradients.
    fn backward(
        &self,
        upstream: &Var<T, IxDyn>,
        inputs: &[Var<T, IxDyn>],
        output: &Var<T, IxDyn>,
    ) -> Vec<Option<Var<T, IxDyn>>>;
}

impl<T: Float, F> BackwardFn<T> for F
where
    F: Fn(&Var<T, IxDyn>, &[Var<T, IxDyn>], &Var<T, IxDyn>) -> Vec<Option<Var<T, IxDyn>>> + 'static,
{
    fn backward(
        &self,
        upstream: &Var<T, IxDyn>,
        inputs: &[Var<T, IxDyn>],
        output: &Var<T, IxDyn>,
    ) -> Vec<Option<Var<T, IxDyn>>> {
        self(upstream, inputs, output)
    }
}

/// A recorded op: the result's link to its inputs.
pub(crate) struct Op<T: Float> {
    /// The op's name, for messages and debug output.
    pub(crate) name: &'static str,
    /// The inputs, inline for up to two (nearly every op): no allocation of their own.
    pub(crate) inputs: SmallVec<[Var<T, IxDyn>; 2]>,
    /// How the inputs' gradients are computed.
    pub(crate) backward: Backward<T>,
}

/// How a recorded op computes its inputs' gradients.
pub(crate) enum Backward<T: Float> {
    /// A backward function.
    Fn(Box<dyn BackwardFn<T>>),
    /// The gradient kernels of a kernel (stored as it is, without a second box).
    Kernel(Box<dyn Kernel<T>>),
    /// A cast from another element type: the gradient is cast back and sent into the input's
    /// graph, which a pass of that type goes through after this one (see
    /// [`backward()`](super::backward())).
    Cast(Box<dyn super::cast::CastSource<T>>),
}

/// Records the result of an op on the tape.
///
/// `value` is the forward result, `inputs` the op's operands, and `backward` computes their
/// gradients. When no input requires a gradient, or inside [`no_grad`](super::no_grad), the
/// result is a constant and nothing is recorded. This is the one recording helper every op
/// uses, and the way to add a custom op.
///
/// ```
/// use ndarray::{array, IxDyn};
/// use slowgrad::{record, Var};
/// // y = 3x, with a hand-written backward
/// let x = Var::new(array![1.0, 2.0]).as_dyn();
/// let y = record("triple", x.value() * 3.0, &[x.clone()], |g: &Var<f64, IxDyn>, _: &[Var<f64, IxDyn>], _: &Var<f64, IxDyn>| {
///     vec![Some(g * 3.0)]
/// });
/// y.backward_with(array![1.0, 1.0]);
/// assert_eq!(x.grad().unwrap(), array![3.0, 3.0].into_dyn());
/// ```
pub fn record<T: Float>(
    name: &'static str,
    value: ArrayD<T>,
    inputs: &[Var<T, IxDyn>],
    backward: impl BackwardFn<T>,
) -> Var<T, IxDyn> {
    record_op(name, value, inputs, || Backward::Fn(Box::new(backward)), false)
}

/// [`record`] for a kernel, whose backward runs its gradient kernels.
pub(crate) fn record_kernel<T: Float>(
    name: &'static str,
    value: ArrayD<T>,
    inputs: &[Var<T, IxDyn>],
    kernel: Box<dyn Kernel<T>>,
) -> Var<T, IxDyn> {
    record_op(name, value, inputs, || Backward::Kernel(kernel), false)
}

/// Records a cast of `x` to another element type, whose value is `value`; the gradient is
/// cast back.
pub(crate) fn record_cast<S: Float, U: Float>(x: &Var<S, IxDyn>, value: ArrayD<U>) -> Var<U, IxDyn> {
    record_op("cast", value, &[], || Backward::Cast(Box::new(Source(x.clone()))), x.requires_grad())
}

fn record_op<T: Float>(
    name: &'static str,
    value: ArrayD<T>,
    inputs: &[Var<T, IxDyn>],
    backward: impl FnOnce() -> Backward<T>,
    foreign_input_requires_grad: bool,
) -> Var<T, IxDyn> {
    let needs = is_grad_enabled() && (foreign_input_requires_grad || inputs.iter().any(|v| v.requires_grad()));
    if !needs {
        return Var::from_node(Node::new(value, false, Origin::Leaf));
    }
    let op = Op { name, inputs: SmallVec::from(inputs), backward: backward() };
    Var::from_node(Node::new(value, true, Origin::Op(op)))
}
