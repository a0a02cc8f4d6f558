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
/// use slowgrad::{sum_to, Var};
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
///
/// ```
/// use ndarray::array;
/// use slowgrad::{broadcast_to, Var};
/// let b = Var::new(array![1.0, 2.0]).as_dyn();
/// let y = broadcast_to(&b, &[3, 2]);
/// assert_eq!(y.value(), array![[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]].into_dyn());
/// // the gradient sums over the copies
/// y.sum().backward();
/// assert_eq!(b.grad().unwrap(), array![3.0, 3.0].into_dyn());
/// ```
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
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
    /// let s = x.sum();
    /// assert_eq!(s.item(), 10.0);
    /// s.backward();
    /// assert_eq!(x.grad().unwrap(), array![[1.0, 1.0], [1.0, 1.0]]);
    /// ```
    pub fn sum(&self) -> Var<T, ndarray::Ix0> {
        let x = self.as_dyn();
        let s = sum_to(&x, &[]);
        s.into_dimensionality().expect("rank 0")
    }

    /// The mean of all elements, as a 0-dimensional `Var` (NaN for an empty value).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![[1.0, 2.0], [3.0, 6.0]]);
    /// let m = x.mean();
    /// assert_eq!(m.item(), 3.0);
    /// m.backward();
    /// assert_eq!(x.grad().unwrap(), array![[0.25, 0.25], [0.25, 0.25]]);
    /// ```
    pub fn mean(&self) -> Var<T, ndarray::Ix0> {
        let n = self.shape().iter().product::<usize>();
        let s = self.sum();
        s.mul_scalar(T::one() / T::cast(n as f64))
    }
}

/// Checks that `axes` are distinct axes of a rank-`ndim` value.
#[track_caller]
fn check_axes(op: &str, shape: &[usize], axes: &[usize]) {
    for (i, &a) in axes.iter().enumerate() {
        assert!(a < shape.len(), "{op}: axis {a} is out of range for shape {shape:?}");
        assert!(!axes[..i].contains(&a), "{op}: axis {a} is given twice (axes {axes:?})");
    }
}

/// Sums `x` over `axes` as one extended einsum; with `keepdim` the summed axes stay with size 1.
#[track_caller]
pub(crate) fn sum_axes_dyn<T: Float>(x: &Var<T, IxDyn>, axes: &[usize], keepdim: bool) -> Var<T, IxDyn> {
    let shape = x.shape();
    check_axes("sum_axes", &shape, axes);
    let n = shape.len();
    let (output, out_shape): (Vec<usize>, Vec<usize>) = if keepdim {
        ((0..n).collect(), shape.iter().enumerate().map(|(i, &d)| if axes.contains(&i) { 1 } else { d }).collect())
    } else {
        (0..n).filter(|i| !axes.contains(i)).map(|i| (i, shape[i])).unzip()
    };
    let spec = ExtEinsum { inputs: vec![(0..n).collect()], output, names: labels(n) };
    ext_einsum(spec, std::slice::from_ref(x), Some(&out_shape))
        .unwrap_or_else(|e| panic!("sum_axes of shape {shape:?} over {axes:?}: {e}"))
}

/// The maximum of `x`'s value along `axis`, kept with size 1, as a constant (no gradient).
pub(crate) fn max_along_const<T: Float>(x: &Var<T, IxDyn>, axis: usize) -> Var<T, IxDyn> {
    let m = x.with_value(|v| {
        v.fold_axis(ndarray::Axis(axis), T::neg_infinity(), |&a, &b| if b > a { b } else { a })
            .insert_axis(ndarray::Axis(axis))
    });
    // an all -inf row would give nan after subtracting; shift by 0 there instead
    Var::constant(m.mapv(|v| if v.is_finite() { v } else { T::zero() }))
}

impl<T: Float, D: Dimension> Var<T, D> {
    /// The sum over `axes`; with `keepdim` the summed axes stay with size 1 (like
    /// `torch.sum(x, dim, keepdim)`). Written as one extended einsum, e.g. `ijk->ik`.
    ///
    /// **Panics** if an axis is out of range or repeated.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(x.sum_axes(&[1], false).value(), array![6.0, 15.0].into_dyn());
    /// assert_eq!(x.sum_axes(&[0], true).value(), array![[5.0, 7.0, 9.0]].into_dyn());
    /// ```
    #[track_caller]
    pub fn sum_axes(&self, axes: &[usize], keepdim: bool) -> Var<T, IxDyn> {
        sum_axes_dyn(&self.as_dyn(), axes, keepdim)
    }

    /// The mean over `axes`; with `keepdim` the reduced axes stay with size 1.
    ///
    /// **Panics** if an axis is out of range or repeated.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(x.mean_axes(&[1], true).value(), array![[2.0], [5.0]].into_dyn());
    /// ```
    #[track_caller]
    pub fn mean_axes(&self, axes: &[usize], keepdim: bool) -> Var<T, IxDyn> {
        let shape = self.shape();
        check_axes("mean_axes", &shape, axes);
        let n: usize = axes.iter().map(|&a| shape[a]).product();
        sum_axes_dyn(&self.as_dyn(), axes, keepdim).mul_scalar(T::one() / T::cast(n as f64))
    }
}
