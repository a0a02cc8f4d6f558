//! The element types slowgrad computes with.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// A floating-point element type: implemented for `f32` and `f64`.
///
/// Code generic over `T: Float` runs in either precision:
///
/// ```
/// use ndarray::array;
/// use slowgrad::{Float, Var};
/// /// The gradient of Σ xᵢ² at `x`, in any precision.
/// fn grad_of_square<T: Float>(x: ndarray::Array1<T>) -> ndarray::Array1<T> {
///     let v = Var::new(x);
///     (&v * &v).sum().backward();
///     v.grad().unwrap()
/// }
/// assert_eq!(grad_of_square(array![1.5f32, -2.0]), array![3.0f32, -4.0]);
/// assert_eq!(grad_of_square(array![1.5f64, -2.0]), array![3.0f64, -4.0]);
/// ```
pub trait Float:
    num_traits::Float
    + num_traits::FromPrimitive
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + 'static
{
    /// Converts from `f64` (rounding for `f32`).
    ///
    /// ```
    /// use slowgrad::Float;
    /// assert_eq!(<f32 as Float>::cast(0.1), 0.1f32);
    /// assert_eq!(<f64 as Float>::cast(0.1), 0.1f64);
    /// assert_eq!(<f32 as Float>::cast(1e300), f32::INFINITY); // out of f32's range
    /// ```
    fn cast(x: f64) -> Self;
    /// Converts to `f64` (exactly).
    ///
    /// ```
    /// use slowgrad::Float;
    /// assert_eq!(0.5f32.as_f64(), 0.5);
    /// assert_eq!(0.1f32.as_f64(), 0.100000001490116119384765625); // the f32 nearest 0.1
    /// ```
    fn as_f64(self) -> f64;
}

impl Float for f32 {
    fn cast(x: f64) -> Self {
        x as f32
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Float for f64 {
    fn cast(x: f64) -> Self {
        x
    }
    fn as_f64(self) -> f64 {
        self
    }
}
