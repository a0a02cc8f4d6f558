//! Reshaping and permuting axes: `reshape`, `flatten`, `squeeze`, `unsqueeze`, `permute` (an
//! extended einsum) and `transpose`.

use crate::einsum::ext_einsum;
use crate::tape::record;
use crate::{Float, Var};
use ndarray::{Dimension, IxDyn};
use slowgrad_core::ExtEinsum;

type Dyn<T> = Var<T, IxDyn>;

/// `x` with shape `shape` (row-major order, like `torch.reshape`); the backward reshapes back.
#[track_caller]
pub(crate) fn reshape<T: Float>(x: &Dyn<T>, shape: &[usize]) -> Dyn<T> {
    let from = x.shape();
    let n = from.iter().product::<usize>();
    let Some(m) = shape.iter().try_fold(1usize, |m, &d| m.checked_mul(d)) else {
        panic!("cannot reshape shape {from:?} ({n} elements) to {shape:?}: the product of those sizes overflows usize");
    };
    assert!(n == m, "cannot reshape shape {from:?} ({n} elements) to {shape:?} ({m} elements)");
    if from == shape {
        return x.clone();
    }
    let value = x.with_value(|v| v.to_shape(IxDyn(shape)).expect("element counts agree").into_owned());
    record("reshape", value, std::slice::from_ref(x), move |g: &Dyn<T>, _: &[Dyn<T>], _: &Dyn<T>| {
        vec![Some(reshape(g, &from))]
    })
}

impl<T: Float, D: Dimension> Var<T, D> {
    /// The same elements with shape `shape`, in row-major order (like `torch.reshape`).
    ///
    /// **Panics** if the element counts differ (or the new sizes' product overflows `usize`).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(x.reshape(&[3, 2]).value(), array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]].into_dyn());
    /// ```
    #[track_caller]
    pub fn reshape(&self, shape: &[usize]) -> Var<T, IxDyn> {
        reshape(&self.as_dyn(), shape)
    }

    /// Merges the axes from `start` on into one (`torch.flatten(x, start)`).
    ///
    /// **Panics** if `start` is not an axis.
    ///
    /// ```
    /// use slowgrad::Var;
    /// let x = Var::new(ndarray::Array3::<f64>::zeros((2, 3, 4)));
    /// assert_eq!(x.flatten(1).shape(), vec![2, 12]);
    /// ```
    #[track_caller]
    pub fn flatten(&self, start: usize) -> Var<T, IxDyn> {
        let shape = self.shape();
        assert!(start < shape.len(), "flatten: axis {start} is out of range for shape {shape:?}");
        let mut new: Vec<usize> = shape[..start].to_vec();
        new.push(shape[start..].iter().product());
        self.reshape(&new)
    }

    /// Removes axis `axis`, which must have size 1 (`torch.squeeze(x, dim)`, but like numpy an
    /// axis of another size is an error rather than left alone); the backward puts it back.
    ///
    /// **Panics** if `axis` is out of range or its size is not 1.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![[1.0, 2.0, 3.0]]);
    /// let y = x.squeeze(0);
    /// assert_eq!(y.value(), array![1.0, 2.0, 3.0].into_dyn());
    /// y.unsqueeze(1).sum().backward();
    /// assert_eq!(x.grad().unwrap(), array![[1.0, 1.0, 1.0]]);
    /// ```
    #[track_caller]
    pub fn squeeze(&self, axis: usize) -> Var<T, IxDyn> {
        let mut shape = self.shape();
        assert!(axis < shape.len(), "squeeze: axis {axis} is out of range for shape {shape:?}");
        assert!(shape[axis] == 1, "squeeze: axis {axis} of shape {shape:?} has size {}, not 1", shape[axis]);
        shape.remove(axis);
        self.reshape(&shape)
    }

    /// Inserts an axis of size 1 at position `axis` (`0..=ndim`, `torch.unsqueeze`); the
    /// backward removes it.
    ///
    /// **Panics** if `axis` is greater than the number of axes.
    ///
    /// ```
    /// use slowgrad::Var;
    /// let x = Var::new(ndarray::Array2::<f64>::zeros((2, 3)));
    /// assert_eq!(x.unsqueeze(0).shape(), vec![1, 2, 3]);
    /// assert_eq!(x.unsqueeze(1).shape(), vec![2, 1, 3]);
    /// assert_eq!(x.unsqueeze(2).shape(), vec![2, 3, 1]);
    /// ```
    #[track_caller]
    pub fn unsqueeze(&self, axis: usize) -> Var<T, IxDyn> {
        let mut shape = self.shape();
        assert!(
            axis <= shape.len(),
            "unsqueeze: axis {axis} is out of range for shape {shape:?} (at most {})",
            shape.len()
        );
        shape.insert(axis, 1);
        self.reshape(&shape)
    }

    /// The axes reordered: axis `i` of the result is axis `perm[i]` of `self`. An extended
    /// einsum (`ijk->kij`), whose gradient is the inverse permutation.
    ///
    /// **Panics** if `perm` is not a permutation of the axes.
    ///
    /// ```
    /// use slowgrad::Var;
    /// let x = Var::new(ndarray::Array3::<f64>::zeros((2, 3, 4)));
    /// assert_eq!(x.permute(&[2, 0, 1]).shape(), vec![4, 2, 3]);
    /// ```
    #[track_caller]
    pub fn permute(&self, perm: &[usize]) -> Var<T, IxDyn> {
        let shape = self.shape();
        let n = shape.len();
        let mut seen = vec![false; n];
        let ok = perm.len() == n && perm.iter().all(|&p| p < n && !std::mem::replace(&mut seen[p], true));
        assert!(ok, "permute: {perm:?} is not a permutation of the axes of shape {shape:?}");
        let spec = ExtEinsum {
            inputs: vec![(0..n).collect()],
            output: perm.to_vec(),
            names: (0..n).map(|i| format!("d{i}")).collect(),
        };
        ext_einsum(spec, &[self.as_dyn()], None).expect("a permutation fits its operand")
    }

    /// Swaps axes `a` and `b`.
    ///
    /// **Panics** if either is out of range.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![[1.0, 2.0]]);
    /// assert_eq!(x.transpose(0, 1).value(), array![[1.0], [2.0]].into_dyn());
    /// ```
    #[track_caller]
    pub fn transpose(&self, a: usize, b: usize) -> Var<T, IxDyn> {
        let n = self.ndim();
        assert!(a < n && b < n, "transpose: axes {a} and {b} out of range for shape {:?}", self.shape());
        let mut perm: Vec<usize> = (0..n).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }
}
