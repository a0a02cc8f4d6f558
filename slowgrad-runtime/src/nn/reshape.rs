//! `Flatten` and `Reshape`: shape changes as modules, keeping the batch axis.

use super::Module;
use crate::{Float, Var};
use std::fmt;

/// Merges every axis after the first (the batch axis) into one: `(B, C, H, W) → (B, C·H·W)`.
///
/// **Panics** in `forward` if the input has fewer than two axes.
///
/// ```
/// use slowgrad::nn::{Flatten, Module};
/// use slowgrad::Var;
/// let x = Var::constant(ndarray::Array4::<f64>::zeros((2, 3, 4, 5)).into_dyn());
/// assert_eq!(Flatten.forward(&x).shape(), vec![2, 60]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Flatten;

impl<T: Float> Module<T> for Flatten {
    #[track_caller]
    fn forward(&self, x: &Var<T>) -> Var<T> {
        x.flatten(1)
    }
    fn parameters(&self) -> Vec<Var<T>> {
        Vec::new()
    }
}

/// Reshapes every sample: `(B, ...) → (B, shape...)`.
///
/// ```
/// use slowgrad::nn::{Module, Reshape};
/// use slowgrad::Var;
/// let x = Var::constant(ndarray::Array2::<f64>::zeros((2, 64)).into_dyn());
/// assert_eq!(Reshape::new(&[1, 8, 8]).forward(&x).shape(), vec![2, 1, 8, 8]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Reshape {
    /// The shape of one sample.
    pub shape: Vec<usize>,
}

impl Reshape {
    /// Reshapes each sample to `shape`.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Module, Reshape};
    /// use slowgrad::Var;
    /// let x = Var::constant(array![[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]].into_dyn());
    /// // each sample's elements, row-major
    /// let y = Reshape::new(&[2, 2]).forward(&x);
    /// assert_eq!(y.value(), array![[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]].into_dyn());
    /// ```
    pub fn new(shape: &[usize]) -> Reshape {
        Reshape { shape: shape.to_vec() }
    }
}

impl<T: Float> Module<T> for Reshape {
    /// **Panics** if a sample's element count differs from the shape's.
    #[track_caller]
    fn forward(&self, x: &Var<T>) -> Var<T> {
        let xs = x.shape();
        assert!(!xs.is_empty(), "Reshape needs a batch axis, got a scalar");
        let mut shape = vec![xs[0]];
        shape.extend(&self.shape);
        x.reshape(&shape)
    }
    fn parameters(&self) -> Vec<Var<T>> {
        Vec::new()
    }
    fn fmt_module(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reshape({:?})", self.shape)
    }
}

/// `Reshape([1, 8, 8])`: the shape of one sample.
///
/// ```
/// assert_eq!(slowgrad::nn::Reshape::new(&[1, 8, 8]).to_string(), "Reshape([1, 8, 8])");
/// ```
impl fmt::Display for Reshape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Module::<f64>::fmt_module(self, f)
    }
}

/// `Flatten`.
///
/// ```
/// assert_eq!(slowgrad::nn::Flatten.to_string(), "Flatten");
/// ```
impl fmt::Display for Flatten {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Flatten")
    }
}
