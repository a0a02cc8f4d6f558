//! `Var` and the tape.
//!
//! Every `Var` is a node: its value, and for results of recorded ops, the op's inputs and a
//! backward function. Nodes get increasing ids as they are created, and an op's inputs always
//! exist before its result, so sorting the nodes reachable from the output by decreasing id is a
//! topological order: `backward` is one loop over it. Nodes hold their inputs (never their
//! results), so there are no reference cycles, and a graph is freed when its last `Var` is
//! dropped. After a backward pass the saved inputs of the graph are released unless
//! [`BackwardOptions::retain_graph`] is set.

use crate::Float;
use ndarray::{Array, ArrayD, Dimension, IxDyn};
use smallvec::{smallvec, SmallVec};
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;

thread_local! {
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops currently record on the tape (false inside [`no_grad`]).
///
/// ```
/// use slowgrad::{is_grad_enabled, no_grad};
/// assert!(is_grad_enabled());
/// assert!(!no_grad(is_grad_enabled));
/// assert!(is_grad_enabled()); // restored on leaving no_grad
/// ```
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Restores the previous grad mode when dropped.
struct GradMode(bool);

impl GradMode {
    fn set(on: bool) -> GradMode {
        GradMode(GRAD_ENABLED.with(|g| g.replace(on)))
    }
}

impl Drop for GradMode {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.0));
    }
}

/// Runs `f` without recording: every `Var` created inside is a constant.
///
/// ```
/// use slowgrad::{no_grad, Var};
/// let x = Var::new(ndarray::array![1.0, 2.0]);
/// let y = no_grad(|| slowgrad::einsum("i->", &[&x]).unwrap());
/// assert!(!y.requires_grad());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _mode = GradMode::set(false);
    f()
}

/// Runs `f` with recording on, even inside [`no_grad`] or a backward pass that does not create a
/// graph: for a custom backward that differentiates a local computation of its own.
///
/// ```
/// use slowgrad::{enable_grad, no_grad, Var};
/// let y = no_grad(|| enable_grad(|| Var::new(ndarray::array![1.0]).mul_scalar(2.0)));
/// assert!(y.requires_grad());
/// ```
pub fn enable_grad<R>(f: impl FnOnce() -> R) -> R {
    let _mode = GradMode::set(true);
    f()
}

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

struct Op<T: Float> {
    name: &'static str,
    /// The inputs, inline for up to two (nearly every op): no allocation of their own.
    inputs: SmallVec<[Var<T, IxDyn>; 2]>,
    backward: Backward<T>,
}

/// How a recorded op computes its inputs' gradients.
enum Backward<T: Float> {
    /// A backward function.
    Fn(Box<dyn BackwardFn<T>>),
    /// The gradient kernels of a kernel (stored as it is, without a second box).
    Kernel(Box<dyn crate::einsum::Kernel<T>>),
    /// A cast from another element type: the gradient is cast back and sent into the input's
    /// graph, which a pass of that type goes through after this one (see [`backward`]).
    Cast(Box<dyn CastSource<T>>),
}

/// The input of a cast to `U`, of another element type.
trait CastSource<U: Float> {
    /// The input's id.
    fn id(&self) -> u64;
    /// The input's element type.
    fn type_name(&self) -> &'static str;
    /// Casts `g` (the gradient of the cast's result) to the input's type and adds it to the
    /// seeds of the pass through the input's graph.
    fn defer(&self, g: &Var<U, IxDyn>, later: &mut Vec<Box<dyn Deferred>>);
}

/// A cast's input of element type `S`.
struct Source<S: Float>(Var<S, IxDyn>);

impl<S: Float, U: Float> CastSource<U> for Source<S> {
    fn id(&self) -> u64 {
        self.0.node.id
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<S>()
    }

    fn defer(&self, g: &Var<U, IxDyn>, later: &mut Vec<Box<dyn Deferred>>) {
        let seed = (self.0.node.clone(), g.cast::<S>());
        match later.iter_mut().find_map(|d| d.as_any_mut().downcast_mut::<Seeds<S>>()) {
            Some(seeds) => seeds.0.push(seed),
            None => later.push(Box::new(Seeds(smallvec![seed]))),
        }
    }
}

/// The gradients found for the targets of a pass (see [`gradients`]), each a `Var<T, IxDyn>`
/// of the targets' element type; a target reached by several passes appears once per pass.
type Found = Vec<(u64, Box<dyn Any>)>;

/// The seeds of a pass of another element type, run after the current one.
trait Deferred {
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn run(self: Box<Self>, opts: BackwardOptions, targets: Option<&[u64]>) -> Result<Found, BackwardError>;
}

/// Nodes of element type `S` and the gradients flowing into them.
struct Seeds<S: Float>(Roots<S>);

impl<S: Float> Deferred for Seeds<S> {
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn run(self: Box<Self>, opts: BackwardOptions, targets: Option<&[u64]>) -> Result<Found, BackwardError> {
        backward(self.0, opts, targets)
    }
}

enum Origin<T: Float> {
    /// Created by the user (`Var::new`, `Var::constant`) or under `no_grad`.
    Leaf,
    /// The result of a recorded op.
    Op(Op<T>),
    /// A recorded op whose graph was released by a backward pass.
    Freed(&'static str),
}

pub(crate) struct Node<T: Float> {
    id: u64,
    value: RefCell<ArrayD<T>>,
    requires_grad: bool,
    grad: RefCell<Option<Var<T, IxDyn>>>,
    origin: RefCell<Origin<T>>,
    /// The number of the last backward pass that reached the node (see [`backward`]);
    /// `u64::MAX`, which no pass gets, before any did.
    mark: Cell<u64>,
}

impl<T: Float> Node<T> {
    fn new(value: ArrayD<T>, requires_grad: bool, origin: Origin<T>) -> Rc<Node<T>> {
        let id = next_number();
        Rc::new(Node {
            id,
            value: RefCell::new(value),
            requires_grad,
            grad: RefCell::new(None),
            origin: RefCell::new(origin),
            mark: Cell::new(u64::MAX),
        })
    }
}

impl<T: Float> Drop for Node<T> {
    // Long chains (an RNN unrolled over many steps) would otherwise drop recursively.
    fn drop(&mut self) {
        // Only inputs that this drop releases are taken on the stack (the others are merely
        // released), so dropping a node whose inputs live on allocates nothing.
        let mut stack = Vec::new();
        let take = |op: Op<T>, stack: &mut Vec<Rc<Node<T>>>| {
            stack.extend(op.inputs.into_iter().map(|v| v.node).filter(|n| Rc::strong_count(n) == 1));
        };
        if let Origin::Op(op) = std::mem::replace(self.origin.get_mut(), Origin::Leaf) {
            take(op, &mut stack);
        }
        while let Some(rc) = stack.pop() {
            if let Ok(mut node) = Rc::try_unwrap(rc) {
                if let Origin::Op(op) = std::mem::replace(node.origin.get_mut(), Origin::Leaf) {
                    take(op, &mut stack);
                }
            }
        }
    }
}

/// A differentiable value: an ndarray array of `T` with dimension `D`, and its place on the tape.
///
/// Cloning a `Var` is cheap and gives another handle to the same node.
///
/// ```
/// use ndarray::array;
/// use slowgrad::Var;
/// let x = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
/// let w = Var::new(array![[0.5, -1.0], [2.0, 0.0]]);
/// let z = slowgrad::einsum("ij,jk->ik", &[&x, &w]).unwrap();
/// z.backward_with(ndarray::Array2::ones((2, 2)));
/// assert_eq!(x.grad().unwrap(), array![[-0.5, 2.0], [-0.5, 2.0]]);
/// ```
pub struct Var<T: Float, D: Dimension = IxDyn> {
    node: Rc<Node<T>>,
    _dim: PhantomData<D>,
}

impl<T: Float, D: Dimension> Clone for Var<T, D> {
    fn clone(&self) -> Self {
        Var { node: self.node.clone(), _dim: PhantomData }
    }
}

/// Options of a backward pass.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum, BackwardOptions, Var};
/// let x = Var::new(array![1.0, 2.0]);
/// let y = einsum("i,i->", &[&x, &x]).unwrap();
/// let keep = BackwardOptions { retain_graph: true, ..Default::default() };
/// y.try_backward(keep).unwrap();
/// y.try_backward(BackwardOptions::default()).unwrap(); // the graph was kept for a second pass
/// assert_eq!(x.grad().unwrap(), array![4.0, 8.0]); // 2x, accumulated twice
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackwardOptions {
    /// Keep the graph's saved values so that backward can run through it again.
    pub retain_graph: bool,
    /// Record the backward pass itself, so that gradients can be differentiated again
    /// (implies `retain_graph`). A gradient accumulated this way into a leaf's `grad` refers to
    /// the graph it came from, and so to the leaf itself: call [`Var::zero_grad`] when done with
    /// it to release that graph, or use [`gradients`], which stores nothing in the leaves.
    pub create_graph: bool,
}

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
    /// ([`Var::constant`], [`Var::detach`]) or under [`no_grad`], so it has no graph to go
    /// back through.
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

impl<T: Float, D: Dimension> Var<T, D> {
    /// A leaf that requires a gradient: `backward` accumulates into [`Var::grad`].
    ///
    /// ```
    /// use slowgrad::Var;
    /// let x = Var::new(ndarray::array![1.0, 2.0]);
    /// assert!(x.requires_grad() && x.is_leaf());
    /// ```
    pub fn new(value: Array<T, D>) -> Var<T, D> {
        Var::from_node(Node::new(value.into_dyn(), true, Origin::Leaf))
    }

    /// A constant: no gradient is computed for it.
    ///
    /// ```
    /// use slowgrad::{einsum, Var};
    /// let c = Var::constant(ndarray::array![1.0, 2.0]);
    /// let x = Var::new(ndarray::array![3.0, 4.0]);
    /// einsum("i,i->", &[&c, &x]).unwrap().backward();
    /// assert!(c.grad().is_none());
    /// assert_eq!(x.grad().unwrap(), ndarray::array![1.0, 2.0]);
    /// ```
    pub fn constant(value: Array<T, D>) -> Var<T, D> {
        Var::from_node(Node::new(value.into_dyn(), false, Origin::Leaf))
    }

    fn from_node(node: Rc<Node<T>>) -> Var<T, D> {
        Var { node, _dim: PhantomData }
    }

    /// The forward value (a copy).
    ///
    /// **Panics** if the value's rank does not fit `D` (only possible after `set_value` on an
    /// `IxDyn` handle shared with a static one), or if called inside an [`Var::update`] of the
    /// same value.
    ///
    /// ```
    /// use slowgrad::Var;
    /// let x = Var::new(ndarray::array![[1.0, 2.0]]);
    /// let v: ndarray::Array2<f64> = x.value();
    /// assert_eq!(v, ndarray::array![[1.0, 2.0]]);
    /// ```
    #[track_caller]
    pub fn value(&self) -> Array<T, D> {
        self.value_ref("value").clone().into_dimensionality::<D>().expect("value rank fits the Var's dimension")
    }

    /// Calls `f` with a borrow of the value, without copying it.
    ///
    /// **Panics** if called inside an [`Var::update`] of the same value. Inside `f`, the value
    /// may be read but not changed ([`Var::set_value`] and [`Var::update`] panic).
    ///
    /// ```
    /// use slowgrad::Var;
    /// let x = Var::new(ndarray::array![1.0, 2.0, 3.0]);
    /// assert_eq!(x.with_value(|v| v.sum()), 6.0);
    /// ```
    #[track_caller]
    pub fn with_value<R>(&self, f: impl FnOnce(&ArrayD<T>) -> R) -> R {
        f(&self.value_ref("with_value"))
    }

    /// The value's shape.
    ///
    /// **Panics** if called inside an [`Var::update`] of the same value.
    ///
    /// ```
    /// let x = slowgrad::Var::new(ndarray::Array3::<f32>::zeros((2, 3, 4)));
    /// assert_eq!(x.shape(), [2, 3, 4]);
    /// ```
    #[track_caller]
    pub fn shape(&self) -> Vec<usize> {
        self.value_ref("shape").shape().to_vec()
    }

    /// The value's number of dimensions.
    ///
    /// **Panics** if called inside an [`Var::update`] of the same value.
    ///
    /// ```
    /// let x = slowgrad::Var::new(ndarray::Array3::<f32>::zeros((2, 3, 4)));
    /// assert_eq!(x.ndim(), 3);
    /// ```
    #[track_caller]
    pub fn ndim(&self) -> usize {
        self.value_ref("ndim").ndim()
    }

    /// The single element of a one-element value.
    ///
    /// **Panics** if the value does not have exactly one element, or if called inside an
    /// [`Var::update`] of the same value.
    ///
    /// ```
    /// use slowgrad::{einsum, Var};
    /// let x = Var::new(ndarray::array![1.0, 2.0]);
    /// assert_eq!(einsum("i,i->", &[&x, &x]).unwrap().item(), 5.0);
    /// ```
    #[track_caller]
    pub fn item(&self) -> T {
        let v = self.value_ref("item");
        assert!(v.len() == 1, "item() needs a single-element value, got shape {:?}", v.shape());
        *v.iter().next().expect("one element")
    }

    /// Replaces the value (used by optimisers). The shape may not change.
    ///
    /// **Panics** if the shape differs, or if the value is borrowed at the time (by a
    /// [`Var::with_value`] or [`Var::update`] of the same node that is still running).
    ///
    /// ```
    /// let x = slowgrad::Var::new(ndarray::array![1.0, 2.0]);
    /// x.set_value(ndarray::array![5.0, 6.0]);
    /// assert_eq!(x.value(), ndarray::array![5.0, 6.0]);
    /// ```
    #[track_caller]
    pub fn set_value(&self, value: Array<T, D>) {
        let value = value.into_dyn();
        let mut v = self.value_mut("set_value");
        assert!(
            v.shape() == value.shape(),
            "set_value may not change the shape: the value has shape {:?}, the new one {:?}",
            v.shape(),
            value.shape()
        );
        *v = value;
    }

    /// Updates the value in place (used by optimisers).
    ///
    /// **Panics** if `f` changes the shape, or if the value is borrowed at the time (by a
    /// [`Var::with_value`] or [`Var::update`] of the same node that is still running; `f` may
    /// not read the value through another handle either).
    ///
    /// ```
    /// let x = slowgrad::Var::new(ndarray::array![1.0, 2.0]);
    /// x.update(|v| *v *= 10.0);
    /// assert_eq!(x.value(), ndarray::array![10.0, 20.0]);
    /// ```
    #[track_caller]
    pub fn update(&self, f: impl FnOnce(&mut ArrayD<T>)) {
        let mut v = self.value_mut("update");
        let shape = v.shape().to_vec();
        f(&mut v);
        assert!(
            v.shape() == &shape[..],
            "update may not change the shape: it was {shape:?}, it became {:?}",
            v.shape()
        );
    }

    /// The value, borrowed for writing by `op`, with a clear panic if it is borrowed already.
    #[track_caller]
    fn value_mut(&self, op: &str) -> std::cell::RefMut<'_, ArrayD<T>> {
        match self.node.value.try_borrow_mut() {
            Ok(v) => v,
            Err(_) => panic!(
                "{op} on Var #{} while its value is borrowed (by a with_value or update of the same value that is still running): change the value after that closure returns",
                self.node.id
            ),
        }
    }

    /// The value, borrowed for reading by `op`, with a clear panic if it is being updated.
    #[track_caller]
    fn value_ref(&self, op: &str) -> std::cell::Ref<'_, ArrayD<T>> {
        match self.node.value.try_borrow() {
            Ok(v) => v,
            Err(_) => panic!(
                "{op} on Var #{} while its value is being changed (inside an update of the same value): read it before or after the update",
                self.node.id
            ),
        }
    }

    /// The accumulated gradient of a leaf (a copy), `None` before any backward pass reached it.
    ///
    /// ```
    /// use slowgrad::{einsum, Var};
    /// let x = Var::new(ndarray::array![1.0, -2.0]);
    /// assert!(x.grad().is_none()); // no backward pass yet
    /// einsum("i,i->", &[&x, &x]).unwrap().backward();
    /// assert_eq!(x.grad().unwrap(), ndarray::array![2.0, -4.0]);
    /// ```
    pub fn grad(&self) -> Option<Array<T, D>> {
        self.node
            .grad
            .borrow()
            .as_ref()
            .map(|g| g.value_dyn().into_dimensionality::<D>().expect("gradient has the value's rank"))
    }

    /// Calls `f` with a borrow of the accumulated gradient (`None` before any backward pass
    /// reached this value), without copying it: for optimisers and other code that reads large
    /// gradients.
    ///
    /// ```
    /// use slowgrad::{einsum, Var};
    /// let x = Var::new(ndarray::array![1.0, 2.0]);
    /// assert!(x.with_grad(|g| g.is_none()));
    /// einsum("i,i->", &[&x, &x]).unwrap().backward();
    /// assert_eq!(x.with_grad(|g| g.map(|g| g.sum())), Some(6.0));
    /// ```
    pub fn with_grad<R>(&self, f: impl FnOnce(Option<&ArrayD<T>>) -> R) -> R {
        let grad = self.node.grad.borrow();
        match grad.as_ref() {
            Some(g) => f(Some(&g.node.value.borrow())),
            None => f(None),
        }
    }

    /// The accumulated gradient as a `Var`: with `create_graph` it carries its own graph.
    ///
    /// ```
    /// use slowgrad::{einsum, BackwardOptions, Var};
    /// let x = Var::new(ndarray::array![3.0]);
    /// let y = einsum("i,i,i->", &[&x, &x, &x]).unwrap(); // x³
    /// y.try_backward(BackwardOptions { create_graph: true, ..Default::default() }).unwrap();
    /// let g = x.grad_var().unwrap(); // 3x², with its own graph
    /// x.zero_grad();
    /// einsum("i->", &[&g]).unwrap().backward();
    /// assert_eq!(x.grad().unwrap(), ndarray::array![18.0]); // 6x
    /// ```
    pub fn grad_var(&self) -> Option<Var<T, D>> {
        self.node.grad.borrow().as_ref().map(|g| Var::from_node(g.node.clone()))
    }

    /// Clears the accumulated gradient.
    ///
    /// ```
    /// use slowgrad::{einsum, Var};
    /// let x = Var::new(ndarray::array![1.0]);
    /// einsum("i->", &[&x]).unwrap().backward();
    /// x.zero_grad();
    /// assert!(x.grad().is_none());
    /// ```
    pub fn zero_grad(&self) {
        *self.node.grad.borrow_mut() = None;
    }

    /// Whether a gradient flows to this value.
    ///
    /// ```
    /// use slowgrad::{einsum, Var};
    /// let (x, c) = (Var::new(ndarray::array![1.0]), Var::constant(ndarray::array![2.0]));
    /// assert!(x.requires_grad() && !c.requires_grad());
    /// assert!(einsum("i,i->i", &[&x, &c]).unwrap().requires_grad());
    /// assert!(!einsum("i,i->i", &[&c, &c]).unwrap().requires_grad());
    /// ```
    pub fn requires_grad(&self) -> bool {
        self.node.requires_grad
    }

    /// Whether this is a leaf (not the result of a recorded op).
    ///
    /// ```
    /// use slowgrad::{einsum, Var};
    /// let x = Var::new(ndarray::array![1.0]);
    /// assert!(x.is_leaf());
    /// assert!(!einsum("i->i", &[&x]).unwrap().is_leaf());
    /// ```
    pub fn is_leaf(&self) -> bool {
        !matches!(*self.node.origin.borrow(), Origin::Op(_) | Origin::Freed(_))
    }

    /// A constant with the same value, cut off from the graph.
    ///
    /// ```
    /// use slowgrad::{einsum, Var};
    /// let x = Var::new(ndarray::array![2.0]);
    /// let d = x.detach();
    /// assert!(!d.requires_grad() && d.value() == x.value());
    /// einsum("i,i->", &[&x, &d]).unwrap().backward();
    /// assert_eq!(x.grad().unwrap(), ndarray::array![2.0]); // d counts as a constant
    /// ```
    pub fn detach(&self) -> Var<T, D> {
        Var::from_node(Node::new(self.node.value.borrow().clone(), false, Origin::Leaf))
    }

    /// The same node with a dynamic dimension.
    ///
    /// ```
    /// let x = slowgrad::Var::new(ndarray::array![[1.0, 2.0]]);
    /// let d = x.as_dyn();
    /// assert_eq!((d.id(), d.shape()), (x.id(), vec![1, 2]));
    /// ```
    pub fn as_dyn(&self) -> Var<T, IxDyn> {
        Var::from_node(self.node.clone())
    }

    /// The same node with dimension `D2`.
    ///
    /// **Errors** (returning `None`) if the rank does not fit `D2`.
    ///
    /// ```
    /// use ndarray::{Ix1, Ix2};
    /// let x = slowgrad::Var::new(ndarray::array![[1.0, 2.0]]).as_dyn();
    /// assert!(x.clone().into_dimensionality::<Ix1>().is_none());
    /// let m = x.into_dimensionality::<Ix2>().unwrap();
    /// assert_eq!(m.value(), ndarray::array![[1.0, 2.0]]);
    /// ```
    pub fn into_dimensionality<D2: Dimension>(self) -> Option<Var<T, D2>> {
        match D2::NDIM {
            Some(n) if n != self.ndim() => None,
            _ => Some(Var::from_node(self.node)),
        }
    }

    /// A unique id of the node (creation order).
    ///
    /// ```
    /// use slowgrad::Var;
    /// let (a, b) = (Var::new(ndarray::array![1.0]), Var::new(ndarray::array![2.0]));
    /// assert!(a.id() < b.id());
    /// assert_eq!(a.clone().id(), a.id());
    /// ```
    pub fn id(&self) -> u64 {
        self.node.id
    }

    pub(crate) fn borrow_value(&self) -> std::cell::Ref<'_, ArrayD<T>> {
        self.node.value.borrow()
    }

    pub(crate) fn value_dyn(&self) -> ArrayD<T> {
        self.node.value.borrow().clone()
    }

    /// Backward pass from a single-element output, seeded with 1.
    ///
    /// **Panics** if the value does not require a gradient (it was computed from constants
    /// only, or under [`no_grad`]), if it has more than one element (use
    /// [`Var::backward_with`]), or if the graph was released by an earlier backward pass.
    ///
    /// ```
    /// use slowgrad::{einsum, Var};
    /// let x = Var::new(ndarray::array![1.0, 2.0]);
    /// einsum("i,i->", &[&x, &x]).unwrap().backward();
    /// assert_eq!(x.grad().unwrap(), ndarray::array![2.0, 4.0]);
    /// ```
    #[track_caller]
    pub fn backward(&self) {
        if let Err(e) = self.try_backward(BackwardOptions::default()) {
            panic!("{e}");
        }
    }

    /// Backward pass from a single-element output with options.
    ///
    /// **Errors** as [`Var::backward`] panics.
    ///
    /// ```
    /// use slowgrad::{einsum, no_grad, BackwardError, BackwardOptions, Var};
    /// let x = Var::new(ndarray::array![1.0, 2.0]);
    /// let y = einsum("i->i", &[&x]).unwrap();
    /// assert!(y.try_backward(BackwardOptions::default()).is_err()); // two elements: needs a seed
    /// let c = no_grad(|| einsum("i->", &[&x]).unwrap()); // made under no_grad: no graph
    /// assert_eq!(c.try_backward(BackwardOptions::default()), Err(BackwardError::NoGrad));
    /// ```
    pub fn try_backward(&self, opts: BackwardOptions) -> Result<(), BackwardError> {
        if !self.node.requires_grad {
            return Err(BackwardError::NoGrad);
        }
        let shape = self.shape();
        if shape.iter().product::<usize>() != 1 {
            return Err(BackwardError::NotScalar { shape });
        }
        self.try_backward_with(ArrayD::from_elem(IxDyn(&shape), T::one()), opts)
    }

    /// Backward pass seeded with `upstream` = dL/d(self); gradients accumulate into the leaves.
    ///
    /// **Panics** if the value does not require a gradient, if `upstream`'s shape differs from
    /// the value's, or if the graph was released.
    ///
    /// ```
    /// use slowgrad::{einsum, Var};
    /// let x = Var::new(ndarray::array![1.0, 2.0]);
    /// einsum("i->i", &[&x]).unwrap().backward_with(ndarray::array![10.0, 20.0]);
    /// assert_eq!(x.grad().unwrap(), ndarray::array![10.0, 20.0]);
    /// ```
    #[track_caller]
    pub fn backward_with<D2: Dimension>(&self, upstream: Array<T, D2>) {
        if let Err(e) = self.try_backward_with(upstream, BackwardOptions::default()) {
            panic!("{e}");
        }
    }

    /// Backward pass with a seed and options.
    ///
    /// **Errors** if the value does not require a gradient, the seed's shape differs from the
    /// value's, or the graph was released.
    ///
    /// ```
    /// use slowgrad::{einsum, BackwardError, BackwardOptions, Var};
    /// let x = Var::new(ndarray::array![1.0, 2.0]);
    /// let y = einsum("i->i", &[&x]).unwrap();
    /// let e = y.try_backward_with(ndarray::array![1.0], BackwardOptions::default()).unwrap_err();
    /// assert_eq!(e, BackwardError::SeedShape { expected: vec![2], got: vec![1] });
    /// let c = Var::constant(ndarray::array![1.0, 2.0]);
    /// let e = c.try_backward_with(ndarray::array![1.0, 1.0], BackwardOptions::default()).unwrap_err();
    /// assert_eq!(e, BackwardError::NoGrad);
    /// ```
    pub fn try_backward_with<D2: Dimension>(
        &self,
        upstream: Array<T, D2>,
        opts: BackwardOptions,
    ) -> Result<(), BackwardError> {
        if !self.node.requires_grad {
            return Err(BackwardError::NoGrad);
        }
        let expected = self.shape();
        if upstream.shape() != &expected[..] {
            return Err(BackwardError::SeedShape { expected, got: upstream.shape().to_vec() });
        }
        backward(smallvec![(self.node.clone(), Var::constant(upstream.into_dyn()))], opts, None).map(drop)
    }

    /// Backward pass seeded with a `Var` (which may itself carry a graph when creating one).
    ///
    /// **Errors** as [`Var::try_backward_with`].
    ///
    /// ```
    /// use slowgrad::{einsum, BackwardOptions, Var};
    /// let x = Var::new(ndarray::array![1.0, 2.0]);
    /// let seed = Var::constant(ndarray::array![3.0, 4.0]).as_dyn();
    /// einsum("i->i", &[&x]).unwrap().try_backward_with_var(&seed, BackwardOptions::default()).unwrap();
    /// assert_eq!(x.grad().unwrap(), ndarray::array![3.0, 4.0]);
    /// ```
    pub fn try_backward_with_var(&self, upstream: &Var<T, IxDyn>, opts: BackwardOptions) -> Result<(), BackwardError> {
        if !self.node.requires_grad {
            return Err(BackwardError::NoGrad);
        }
        if !self.node.value.borrow().shape().eq(upstream.node.value.borrow().shape()) {
            return Err(BackwardError::SeedShape { expected: self.shape(), got: upstream.shape() });
        }
        backward(smallvec![(self.node.clone(), upstream.clone())], opts, None).map(drop)
    }

    /// Replaces the stored gradient (`None` clears it, as [`Var::zero_grad`] does); the next
    /// backward pass accumulates onto it.
    ///
    /// **Panics** if the gradient's shape differs from the value's.
    ///
    /// ```
    /// use slowgrad::Var;
    /// let x = Var::new(ndarray::array![1.0, 2.0]);
    /// x.set_grad(Some(ndarray::array![0.5, -0.5]));
    /// (&x * &x).sum().backward(); // adds 2x
    /// assert_eq!(x.grad().unwrap(), ndarray::array![2.5, 3.5]);
    /// ```
    #[track_caller]
    pub fn set_grad(&self, grad: Option<Array<T, D>>) {
        let grad = grad.map(|g| g.into_dyn());
        if let Some(g) = &grad {
            let shape = self.node.value.borrow().shape().to_vec();
            assert!(g.shape() == shape, "set_grad: a gradient of shape {:?} for a value of shape {shape:?}", g.shape());
        }
        *self.node.grad.borrow_mut() = grad.map(Var::constant);
    }

    /// Multiplies the stored gradient by `factor` (nothing happens without one). A gradient
    /// that carried a graph (from `create_graph`) becomes a constant.
    ///
    /// ```
    /// use slowgrad::Var;
    /// let x = Var::new(ndarray::array![1.0, -3.0]);
    /// (&x * &x).sum().backward(); // 2x
    /// x.scale_grad(0.5);
    /// assert_eq!(x.grad().unwrap(), ndarray::array![1.0, -3.0]);
    /// ```
    pub fn scale_grad(&self, factor: T) {
        let mut slot = self.node.grad.borrow_mut();
        let Some(g) = slot.as_mut() else { return };
        if Rc::strong_count(&g.node) == 1 && matches!(*g.node.origin.borrow(), Origin::Leaf) {
            g.node.value.borrow_mut().mapv_inplace(|e| e * factor);
        } else {
            let scaled = g.node.value.borrow().mapv(|e| e * factor);
            *g = Var::constant(scaled);
        }
    }
}

/// Records the result of an op on the tape.
///
/// `value` is the forward result, `inputs` the op's operands, and `backward` computes their
/// gradients. When no input requires a gradient, or inside [`no_grad`], the result is a constant
/// and nothing is recorded. This is the one recording helper every op uses, and the way to add a
/// custom op.
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
    kernel: Box<dyn crate::einsum::Kernel<T>>,
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

/// The gradients of `output` with respect to `inputs`, seeded with `seed` (dL/d`output`),
/// returned instead of accumulated into the leaves (PyTorch's `autograd.grad`). An input that
/// `output` does not depend on gets `None`.
///
/// With `create_graph` the gradients carry their own graph and can be differentiated again.
///
/// **Errors** if the seed's shape differs from the output's or the graph was released.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum, gradients, BackwardOptions, Var};
/// let x = Var::new(array![1.0, 2.0]).as_dyn();
/// let y = einsum("i,i->", &[&x, &x]).unwrap();
/// let g = gradients(&y, &[&x], None, BackwardOptions::default()).unwrap();
/// assert_eq!(g[0].as_ref().unwrap().value(), array![2.0, 4.0].into_dyn());
/// assert!(x.grad().is_none()); // nothing accumulated
/// ```
pub fn gradients<T: Float, D: Dimension>(
    output: &Var<T, D>,
    inputs: &[&Var<T, IxDyn>],
    seed: Option<&Var<T, IxDyn>>,
    opts: BackwardOptions,
) -> Result<Vec<Option<Var<T, IxDyn>>>, BackwardError> {
    let expected = output.shape();
    let seed = match seed {
        Some(s) if s.shape() != expected => return Err(BackwardError::SeedShape { expected, got: s.shape() }),
        Some(s) => s.clone(),
        None if expected.iter().product::<usize>() != 1 => return Err(BackwardError::NotScalar { shape: expected }),
        None => Var::constant(ArrayD::from_elem(IxDyn(&expected), T::one())),
    };
    let ids: Vec<u64> = inputs.iter().map(|v| v.id()).collect();
    let found = backward(smallvec![(output.node.clone(), seed)], opts, Some(&ids))?;
    // a target reached through casts to another type and back may be found by several passes
    let sum = |id: &u64| {
        let mut parts = found.iter().filter(|(f, _)| f == id);
        let first = parts.next().map(|(_, g)| downcast::<T>(g.as_ref()).clone());
        parts.fold(first, |acc, (_, g)| acc.map(|a| &a + downcast::<T>(g.as_ref())))
    };
    Ok(ids.iter().map(sum).collect())
}

/// A found gradient (always of the targets' element type).
fn downcast<T: Float>(g: &dyn Any) -> &Var<T, IxDyn> {
    g.downcast_ref::<Var<T, IxDyn>>().expect("a target's gradient has the target's element type")
}

/// The next number of this thread's sequence, unique on the thread: node ids, and the numbers
/// by which a backward pass marks the nodes it reaches (`Node::mark`) without a set of ids.
fn next_number() -> u64 {
    NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    })
}

/// A node of a backward pass and the gradient flowing into it so far.
type Pending<T> = (Rc<Node<T>>, Option<Var<T, IxDyn>>);

/// The nodes a backward pass starts from, with their seeds (one, but for the passes that
/// casts to another element type start).
type Roots<T> = SmallVec<[(Rc<Node<T>>, Var<T, IxDyn>); 1]>;

/// One backward pass from `roots`. Without `targets`, gradients accumulate into the leaves;
/// with them, the gradients of the target nodes are returned (id and gradient) and no leaf is
/// touched.
///
/// A pass goes through the nodes of one element type. Where it meets a cast from another
/// type, the gradient is cast back and kept; when the pass is done, one pass of that type runs
/// from all such casts' inputs (and so on, for casts back). Gradients add up linearly, so
/// running a part of the graph in a later pass gives the same sums.
fn backward<T: Float>(roots: Roots<T>, opts: BackwardOptions, targets: Option<&[u64]>) -> Result<Found, BackwardError> {
    let mut found: Found = Vec::new();
    let retain = opts.retain_graph || opts.create_graph;
    // the nodes reachable from the roots that require a gradient, each once: the list is its
    // own work queue, and the pass's mark says whether a node is in it already
    let pass = next_number();
    // each node with the gradient flowing into it so far
    // (inline for small graphs: no allocation)
    let mut nodes: SmallVec<[Pending<T>; 8]> = SmallVec::new();
    for (root, seed) in roots {
        if !root.requires_grad {
            continue;
        }
        if root.mark.replace(pass) != pass {
            nodes.push((root, Some(seed)));
        } else if let Some((_, slot)) = nodes.iter_mut().find(|(n, _)| Rc::ptr_eq(n, &root)) {
            *slot = Some(match slot.take() {
                Some(old) => &old + &seed,
                None => seed,
            });
        }
    }
    let mut next = 0;
    while next < nodes.len() {
        let n = nodes[next].0.clone();
        if let Origin::Op(op) = &*n.origin.borrow() {
            for p in &op.inputs {
                if p.node.requires_grad && p.node.mark.replace(pass) != pass {
                    nodes.push((p.node.clone(), None));
                }
            }
        }
        next += 1;
    }
    // decreasing ids: a topological order
    nodes.sort_unstable_by_key(|(n, _)| std::cmp::Reverse(n.id));
    let _mode = GradMode::set(opts.create_graph);
    // passes of other element types, to run after this one
    let mut later: Vec<Box<dyn Deferred>> = Vec::new();
    for at in 0..nodes.len() {
        let Some(g) = nodes[at].1.take() else { continue };
        let node = nodes[at].0.clone();
        if let Some(t) = targets {
            if t.contains(&node.id) {
                found.push((node.id, Box::new(g.clone())));
            }
        }
        let origin = node.origin.borrow();
        match &*origin {
            Origin::Leaf if targets.is_some() => {}
            Origin::Leaf => {
                let mut slot = node.grad.borrow_mut();
                *slot = Some(match slot.take() {
                    Some(old) => &old + &g,
                    None => g,
                });
            }
            Origin::Freed(op) => return Err(BackwardError::GraphFreed { op }),
            Origin::Op(op) => {
                // adds the gradient of input `i` to what flows into it
                let mut add = |i: usize, gi: Var<T, IxDyn>| -> Result<(), BackwardError> {
                    let inp = &op.inputs[i].node;
                    if !inp.requires_grad {
                        return Ok(());
                    }
                    if !gi.node.value.borrow().shape().eq(inp.value.borrow().shape()) {
                        let expected = inp.value.borrow().shape().to_vec();
                        return Err(BackwardError::GradientShape { op: op.name, expected, got: gi.shape() });
                    }
                    // every input that requires a gradient was collected above, after this node
                    let found = nodes[at + 1..]
                        .binary_search_by_key(&std::cmp::Reverse(inp.id), |(n, _)| std::cmp::Reverse(n.id));
                    if let Ok(j) = found {
                        let slot = &mut nodes[at + 1 + j].1;
                        *slot = Some(match slot.take() {
                            Some(old) => &old + &gi,
                            None => gi,
                        });
                    }
                    Ok(())
                };
                match &op.backward {
                    Backward::Cast(source) => source.defer(&g, &mut later),
                    Backward::Kernel(k) => crate::einsum::kernel_backward(k.as_ref(), &g, &op.inputs, add)?,
                    Backward::Fn(f) => {
                        let input_grads = f.backward(&g, &op.inputs, &Var::from_node(node.clone()));
                        if input_grads.len() != op.inputs.len() {
                            return Err(BackwardError::GradientCount {
                                op: op.name,
                                expected: op.inputs.len(),
                                got: input_grads.len(),
                            });
                        }
                        for (i, gi) in input_grads.into_iter().enumerate() {
                            if let Some(gi) = gi {
                                add(i, gi)?;
                            }
                        }
                    }
                }
            }
        }
    }
    // before this pass's graph is released: a later pass may come back through it
    for pass in later {
        found.extend(pass.run(opts, targets)?);
    }
    if !retain {
        for (node, _) in &nodes {
            let mut origin = node.origin.borrow_mut();
            if let Origin::Op(op) = &*origin {
                let name = op.name;
                *origin = Origin::Freed(name);
            }
        }
    }
    Ok(found)
}

impl<T: Float, D: Dimension> fmt::Debug for Var<T, D> {
    /// Prints the node alone: its id, the op that made it and its inputs' ids, its shape and
    /// whether it requires a gradient. It never walks the graph, so it is short and fast on any
    /// graph; [`Var::graph`] prints the graph below a node, up to a number of nodes.
    ///
    /// ```
    /// use slowgrad::Var;
    /// let x = Var::new(ndarray::array![0.5, 1.0]);
    /// let y = x.tanh();
    /// assert_eq!(
    ///     format!("{y:?}"),
    ///     format!("Var {{ id: {}, op: tanh, inputs: [{}], shape: [2], requires_grad: true }}", y.id(), x.id())
    /// );
    /// assert_eq!(format!("{x:?}"), format!("Var {{ id: {}, op: leaf, shape: [2], requires_grad: true }}", x.id()));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = &self.node;
        let mut s = f.debug_struct("Var");
        s.field("id", &n.id);
        match n.origin.try_borrow() {
            Ok(origin) => match &*origin {
                Origin::Leaf => s.field("op", &format_args!("leaf")),
                Origin::Op(Op { backward: Backward::Cast(source), .. }) => {
                    s.field("op", &format_args!("cast from {}", source.type_name())).field("inputs", &[source.id()])
                }
                Origin::Op(op) => s.field("op", &format_args!("{}", op.name)).field("inputs", &Ids(&op.inputs)),
                Origin::Freed(name) => {
                    s.field("op", &format_args!("{name}")).field("inputs", &format_args!("released by backward"))
                }
            },
            Err(_) => s.field("op", &format_args!("(in a backward pass)")),
        };
        match n.value.try_borrow() {
            Ok(v) => s.field("shape", &v.shape()),
            Err(_) => s.field("shape", &format_args!("(value being updated)")),
        };
        s.field("requires_grad", &n.requires_grad).finish()
    }
}

/// The ids of an op's inputs, printed as a list.
struct Ids<'a, T: Float>(&'a [Var<T, IxDyn>]);

impl<T: Float> fmt::Debug for Ids<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|v| v.node.id)).finish()
    }
}

impl<T: Float, D: Dimension> fmt::Display for Var<T, D> {
    /// Prints the value as ndarray does (format options such as a precision apply to the
    /// elements), then its shape and whether it requires a gradient.
    ///
    /// ```
    /// use slowgrad::Var;
    /// let x = Var::new(ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(x.to_string(), "[[1, 2],\n [3, 4]], shape=[2, 2], requires_grad=true");
    /// let c = Var::constant(ndarray::array![0.25f32, 1.0 / 3.0]);
    /// assert_eq!(format!("{c:.2}"), "[0.25, 0.33], shape=[2], requires_grad=false");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.node.value.try_borrow().map_err(|_| fmt::Error)?;
        fmt::Display::fmt(&*v, f)?;
        write!(f, ", shape={:?}, requires_grad={}", v.shape(), self.node.requires_grad)
    }
}

impl<T: Float, D: Dimension> Var<T, D> {
    /// The graph below this value, one node a line, indented by depth (up to 40 levels):
    /// `#id op [shape]`, and
    /// for leaves `#id leaf [shape]` followed by `requires_grad` if they do. A node reached
    /// again is printed once more as `#id (above)` without its inputs. At most `max_nodes`
    /// lines are printed, then a line saying where the listing stopped; the walk keeps its own
    /// stack, so any depth of graph is safe.
    ///
    /// ```
    /// use slowgrad::Var;
    /// let x = Var::new(ndarray::array![1.0, 2.0]);
    /// let y = (&x * &x).tanh();
    /// let (a, b, c) = (y.id(), y.id() - 1, x.id());
    /// assert_eq!(
    ///     y.graph(10),
    ///     format!("#{a} tanh [2]\n  #{b} mul [2]\n    #{c} leaf [2] requires_grad\n    #{c} (above)\n")
    /// );
    /// // a long chain, cut after three nodes
    /// let mut z = x.clone();
    /// for _ in 0..1000 {
    ///     z = z.tanh();
    /// }
    /// assert_eq!(z.graph(3).lines().count(), 4);
    /// assert!(z.graph(3).ends_with("... stopped after 3 nodes\n"));
    /// ```
    pub fn graph(&self, max_nodes: usize) -> String {
        use fmt::Write as _;
        let mut out = String::new();
        let mut seen = std::collections::HashSet::new();
        // (node, depth), the next to print on top
        let mut stack: Vec<(Rc<Node<T>>, usize)> = vec![(self.node.clone(), 0)];
        let mut printed = 0;
        while let Some((n, depth)) = stack.pop() {
            if printed == max_nodes {
                let _ = writeln!(out, "... stopped after {max_nodes} nodes");
                break;
            }
            printed += 1;
            let pad = "  ".repeat(depth.min(40));
            let shape = n.value.try_borrow().map(|v| v.shape().to_vec()).unwrap_or_default();
            if !seen.insert(n.id) {
                let _ = writeln!(out, "{pad}#{} (above)", n.id);
                continue;
            }
            let Ok(origin) = n.origin.try_borrow() else {
                let _ = writeln!(out, "{pad}#{} {shape:?} (in a backward pass)", n.id);
                continue;
            };
            let _ = match &*origin {
                Origin::Leaf => {
                    let rg = if n.requires_grad { " requires_grad" } else { "" };
                    writeln!(out, "{pad}#{} leaf {shape:?}{rg}", n.id)
                }
                Origin::Freed(name) => writeln!(out, "{pad}#{} {name} {shape:?} (graph released)", n.id),
                Origin::Op(Op { backward: Backward::Cast(source), .. }) => {
                    let inner = "  ".repeat((depth + 1).min(40));
                    let (id, ty) = (source.id(), source.type_name());
                    writeln!(out, "{pad}#{} cast {shape:?}\n{inner}#{id} ({ty}: its graph is not listed)", n.id)
                }
                Origin::Op(op) => {
                    // pushed in reverse, so that the inputs print in order
                    stack.extend(op.inputs.iter().rev().map(|p| (p.node.clone(), depth + 1)));
                    writeln!(out, "{pad}#{} {} {shape:?}", n.id, op.name)
                }
            };
        }
        out
    }
}
