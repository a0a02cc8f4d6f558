//! Layer normalisation over the last axis: a composite of primitives (mean and variance are
//! extended-einsum reductions), so its backward needs no code of its own.

use crate::{Float, Var};
use ndarray::{Dimension, IxDyn};

impl<T: Float, D: Dimension> Var<T, D> {
    /// `(x − mean) / sqrt(var + eps)` over the last axis, with the biased variance (as
    /// `torch.nn.functional.layer_norm` without weight and bias).
    ///
    /// **Panics** if `self` is 0-dimensional.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let y = Var::new(array![[1.0, 2.0, 3.0]]).layer_norm(0.0).value();
    /// let s = 1.5f64.sqrt();
    /// assert!((y[[0, 0]] + s).abs() < 1e-12 && y[[0, 1]] == 0.0);
    /// ```
    #[track_caller]
    pub fn layer_norm(&self, eps: T) -> Var<T, IxDyn> {
        let x = self.as_dyn();
        assert!(x.ndim() > 0, "layer_norm needs at least one axis, got a scalar");
        let last = x.ndim() - 1;
        let centred = &x - &x.mean_axes(&[last], true);
        let var = (&centred * &centred).mean_axes(&[last], true);
        &centred / &var.add_scalar(eps).sqrt()
    }
}
