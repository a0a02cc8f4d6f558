//! Sums and broadcasts, written as extended einsums.

use crate::einsum::ext_einsum;
use crate::{Float, Var};
use ndarray::{Dimension, IxDyn};
use slowgrad_core::ExtEinsum;

fn labels(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("d{i}")).collect()
}

/// Sums `x` down to `shape`, numpy's broadcasting in reverse: leading dimensions are summed
/// away and dimensions where `shape` has 1 are summed to 1.
///
/// **Panics** if `x` does not broadcast from `shape`.
///
/// ```
/// use ndarray::array;
/// use slowgrad_runtime::{sum_to, Var};
/// let x = Var::new(array![[1.0, 2.0], [3.0, 4.0]]).as_dyn();
/// assert_eq!(sum_to(&x, &[1, 2]).value(), array![[4.0, 6.0]].into_dyn());
/// assert_eq!(sum_to(&x, &[2]).value(), array![4.0, 6.0].into_dyn());
/// ```
#[track_caller]
pub fn sum_to<T: Float>(x: &Var<T, IxDyn>, shape: &[usize]) -> Var<T, IxDyn> {
    let n = x.ndim();
    if x.shape() == shape {
        return x.clone();
    }
    assert!(shape.len() <= n, "cannot sum shape {:?} to {:?}", x.shape(), shape);
    let spec = ExtEinsum { inputs: vec![(0..n).collect()], output: (n - shape.len()..n).collect(), names: labels(n) };
    ext_einsum(spec, std::slice::from_ref(x), Some(shape))
        .unwrap_or_else(|e| panic!("cannot sum shape {:?} to {:?}: {e}", x.shape(), shape))
}

/// Broadcasts `x` to `shape` (numpy rules), without copying more than the result.
///
/// **Panics** if `x` does not broadcast to `shape`.
#[track_caller]
pub fn broadcast_to<T: Float>(x: &Var<T, IxDyn>, shape: &[usize]) -> Var<T, IxDyn> {
    let n = shape.len();
    if x.shape() == shape {
        return x.clone();
    }
    let m = x.ndim();
    assert!(m <= n, "cannot broadcast shape {:?} to {:?}", x.shape(), shape);
    let spec = ExtEinsum { inputs: vec![(n - m..n).collect()], output: (0..n).collect(), names: labels(n) };
    ext_einsum(spec, std::slice::from_ref(x), Some(shape))
        .unwrap_or_else(|e| panic!("cannot broadcast shape {:?} to {:?}: {e}", x.shape(), shape))
}

impl<T: Float, D: Dimension> Var<T, D> {
    /// The sum of all elements, as a 0-dimensional `Var`.
    pub fn sum(&self) -> Var<T, ndarray::Ix0> {
        let x = self.as_dyn();
        let s = sum_to(&x, &[]);
        s.into_dimensionality().expect("rank 0")
    }

    /// The mean of all elements, as a 0-dimensional `Var`.
    pub fn mean(&self) -> Var<T, ndarray::Ix0> {
        let n = self.shape().iter().product::<usize>();
        let s = self.sum();
        s.mul_scalar(T::one() / T::cast(n as f64))
    }
}
