//! The gradient methods of [`Var`]: reading, setting and scaling the accumulated gradient, and
//! starting a backward pass from a value.

use crate::tape::{backward, BackwardError, BackwardOptions, Origin};
use crate::{Float, Var};
use ndarray::{Array, ArrayD, Dimension, IxDyn};
use smallvec::smallvec;
use std::rc::Rc;

impl<T: Float, D: Dimension> Var<T, D> {
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

    /// Backward pass from a single-element output, seeded with 1.
    ///
    /// **Panics** if the value does not require a gradient (it was computed from constants
    /// only, or under [`no_grad`](crate::no_grad)), if it has more than one element (use
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
