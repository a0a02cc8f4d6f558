//! [`Var`]: a handle to a node of the tape, with its dimension type. This file holds the type,
//! its constructors, access to its value and its conversions; `grad.rs` its gradient and
//! backward-pass methods, `fmt.rs` its `Debug` and `Display` and [`Var::graph`].

mod fmt;
mod grad;

use crate::tape::{Node, Origin};
use crate::Float;
use ndarray::{Array, ArrayD, Dimension, IxDyn};
use std::marker::PhantomData;
use std::rc::Rc;

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
    /// The node (shared by every handle of the value).
    pub(crate) node: Rc<Node<T>>,
    _dim: PhantomData<D>,
}

impl<T: Float, D: Dimension> Clone for Var<T, D> {
    fn clone(&self) -> Self {
        Var { node: self.node.clone(), _dim: PhantomData }
    }
}

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

    /// A handle of `node`.
    pub(crate) fn from_node(node: Rc<Node<T>>) -> Var<T, D> {
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
}
