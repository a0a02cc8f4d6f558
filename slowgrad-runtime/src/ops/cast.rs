//! Casting between element types: `cast` (f32 ↔ f64), whose gradient is cast back.

use crate::tape::record_cast;
use crate::{Float, Var};
use ndarray::{Dimension, IxDyn};
use std::any::Any;

impl<T: Float, D: Dimension> Var<T, D> {
    /// The value converted to element type `U` (`f32` ↔ `f64`; to `f32` rounds to nearest),
    /// recorded on the tape: the gradient is cast back to `T` and flows into `self`'s graph.
    /// Casting to the same type returns the same node.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![0.1f64, -2.0]);
    /// let y = x.cast::<f32>();
    /// assert_eq!(y.value(), array![0.1f32, -2.0]);
    /// // an f32 loss, differentiated back into the f64 leaf: d/dx Σ 3x = 3
    /// y.mul_scalar(3.0).sum().backward();
    /// assert_eq!(x.grad().unwrap(), array![3.0, 3.0]);
    /// assert_eq!(x.cast::<f64>().id(), x.id());
    /// ```
    pub fn cast<U: Float>(&self) -> Var<U, D> {
        let x = self.as_dyn();
        let same: Option<&Var<U, IxDyn>> = (&x as &dyn Any).downcast_ref();
        let y = match same {
            Some(same) => same.clone(),
            None => record_cast(&x, x.with_value(|v| v.mapv(|e| U::cast(e.as_f64())))),
        };
        y.into_dimensionality().expect("a cast keeps the rank")
    }
}
