//! `softmax`, `log_softmax` and `logsumexp` along an axis: composites of primitives (no backward
//! of their own), made stable by subtracting the axis maximum, a constant (softmax does not
//! change when a constant is added along the axis, so the gradient is unaffected).

use super::reduce::{max_along_const, sum_axes_dyn};
use crate::{Float, Var};
use ndarray::{Dimension, IxDyn};

#[track_caller]
fn check_axis(op: &str, shape: &[usize], axis: usize) {
    assert!(axis < shape.len(), "{op}: axis {axis} is out of range for shape {shape:?}");
}

impl<T: Float, D: Dimension> Var<T, D> {
    /// `ln Σ exp(x)` along `axis`, stably; with `keepdim` the axis stays with size 1.
    ///
    /// **Panics** if `axis` is out of range.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![[1000.0, 1000.0]]);
    /// let l = x.logsumexp(1, false).value();
    /// assert!((l[0] - (1000.0 + 2f64.ln())).abs() < 1e-9);
    /// ```
    #[track_caller]
    pub fn logsumexp(&self, axis: usize, keepdim: bool) -> Var<T, IxDyn> {
        let x = self.as_dyn();
        check_axis("logsumexp", &x.shape(), axis);
        let m = max_along_const(&x, axis);
        let s = sum_axes_dyn(&(&x - &m).exp(), &[axis], true).ln();
        let l = &s + &m;
        if keepdim {
            l
        } else {
            let mut shape = l.shape();
            shape.remove(axis);
            l.reshape(&shape)
        }
    }

    /// `x − logsumexp(x)` along `axis`: log-probabilities, stable for large logits.
    ///
    /// **Panics** if `axis` is out of range.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let p = Var::new(array![[0.0, 0.0]]).log_softmax(1).value();
    /// assert!((p[[0, 0]] + 2f64.ln()).abs() < 1e-12);
    /// ```
    #[track_caller]
    pub fn log_softmax(&self, axis: usize) -> Var<T, IxDyn> {
        let x = self.as_dyn();
        check_axis("log_softmax", &x.shape(), axis);
        let z = &x - &max_along_const(&x, axis);
        let lse = sum_axes_dyn(&z.exp(), &[axis], true).ln();
        &z - &lse
    }

    /// `exp(x) / Σ exp(x)` along `axis`, stably.
    ///
    /// **Panics** if `axis` is out of range.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let p = Var::new(array![[1.0f64, 2.0, 3.0], [-1e4, 0.0, 1e4]]).softmax(1).value();
    /// assert!((p.sum() - 2.0).abs() < 1e-12 && p[[1, 2]] == 1.0);
    /// ```
    #[track_caller]
    pub fn softmax(&self, axis: usize) -> Var<T, IxDyn> {
        let x = self.as_dyn();
        check_axis("softmax", &x.shape(), axis);
        let e = (&x - &max_along_const(&x, axis)).exp();
        let s = sum_axes_dyn(&e, &[axis], true);
        &e / &s
    }
}
