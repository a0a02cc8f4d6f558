//! Extrema: `argmax`/`argmin` along an axis (indices, no gradient), `max_axis`/`min_axis` and
//! `max`/`min` of all elements, and `clamp`.
//!
//! A maximum or minimum is a [`take`] of the elements at the arg-extremum, so its gradient goes
//! to that one element (the first, in row-major order, when several are equal, like
//! `torch.max(x, dim)`), and its backward is the `put` that is `take`'s adjoint: second
//! derivatives come for free. NaN counts as larger and smaller than any number, so a lane with
//! a NaN has its first NaN as maximum and minimum (NaN propagates, as in torch).

use crate::ops::index::take;
use crate::tape::record;
use crate::{Float, Var};
use ndarray::{ArrayD, ArrayView1, Axis, Dimension, Ix0, IxDyn};
use std::rc::Rc;

type Dyn<T> = Var<T, IxDyn>;

/// Which extremum.
#[derive(Clone, Copy)]
enum Ext {
    Max,
    Min,
}

impl Ext {
    fn name(self, op: &str) -> String {
        format!("{}{op}", if matches!(self, Ext::Max) { "max" } else { "min" })
    }

    /// Whether `v` replaces `best` (strictly better, or the first NaN).
    fn beats<T: Float>(self, v: T, best: T) -> bool {
        if best.is_nan() {
            return false;
        }
        v.is_nan()
            || match self {
                Ext::Max => v > best,
                Ext::Min => v < best,
            }
    }

    /// The position of the extremum of a non-empty lane (the first of equal ones).
    fn arg<T: Float>(self, lane: ArrayView1<'_, T>) -> usize {
        let mut best = 0;
        for (i, &v) in lane.iter().enumerate().skip(1) {
            if self.beats(v, lane[best]) {
                best = i;
            }
        }
        best
    }
}

/// Checks that `axis` is a non-empty axis of `shape`.
#[track_caller]
fn check_axis(op: &str, shape: &[usize], axis: usize) {
    assert!(axis < shape.len(), "{op}: axis {axis} is out of range for shape {shape:?}");
    assert!(shape[axis] > 0, "{op}: axis {axis} of shape {shape:?} is empty: it has no extremum");
}

/// The arg-extremum along `axis`, with that axis removed.
#[track_caller]
fn arg_along<T: Float>(x: &Dyn<T>, axis: usize, ext: Ext, op: &str) -> ArrayD<usize> {
    check_axis(op, &x.shape(), axis);
    x.with_value(|v| v.map_axis(Axis(axis), |lane| ext.arg(lane)))
}

/// The extremum along `axis`: a `take` of the arg-extremum's elements.
#[track_caller]
fn along<T: Float>(x: &Dyn<T>, axis: usize, keepdim: bool, ext: Ext) -> Dyn<T> {
    let shape = x.shape();
    let args = arg_along(x, axis, ext, &ext.name("_axis"));
    let (n, inner): (usize, usize) = (shape[axis], shape[axis + 1..].iter().product());
    // output position p = (o, i) over (before axis, after axis); it reads x at (o, k, i)
    let idx: Vec<usize> = args.iter().enumerate().map(|(p, &k)| ((p / inner) * n + k) * inner + p % inner).collect();
    let mut out_shape = shape;
    if keepdim {
        out_shape[axis] = 1;
    } else {
        out_shape.remove(axis);
    }
    take(x, Rc::new(idx), out_shape)
}

/// The extremum of all elements, as a rank-0 `Var`.
#[track_caller]
fn overall<T: Float>(x: &Dyn<T>, ext: Ext) -> Var<T, Ix0> {
    let shape = x.shape();
    let op = ext.name("");
    assert!(shape.iter().product::<usize>() > 0, "{op}: the value of shape {shape:?} is empty: it has no extremum");
    let flat = x.reshape(&[shape.iter().product()]);
    along(&flat, 0, false, ext).into_dimensionality().expect("rank 0")
}

impl<T: Float, D: Dimension> Var<T, D> {
    /// The index of the largest element along `axis` (the first if several are equal, the
    /// first NaN if there is one), with that axis removed, like `torch.argmax(x, dim)`. It has
    /// no gradient.
    ///
    /// **Panics** if `axis` is out of range or has size 0.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![[1.0, 5.0, 5.0], [7.0, -1.0, 2.0]]);
    /// assert_eq!(x.argmax(1), array![1, 0].into_dyn()); // the first of the two 5s
    /// assert_eq!(x.argmax(0), array![1, 0, 0].into_dyn());
    /// ```
    #[track_caller]
    pub fn argmax(&self, axis: usize) -> ArrayD<usize> {
        arg_along(&self.as_dyn(), axis, Ext::Max, "argmax")
    }

    /// The index of the smallest element along `axis` (the first if several are equal, the
    /// first NaN if there is one), with that axis removed, like `torch.argmin(x, dim)`. It has
    /// no gradient.
    ///
    /// **Panics** if `axis` is out of range or has size 0.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![[1.0, -5.0, -5.0], [7.0, 9.0, 2.0]]);
    /// assert_eq!(x.argmin(1), array![1, 2].into_dyn());
    /// ```
    #[track_caller]
    pub fn argmin(&self, axis: usize) -> ArrayD<usize> {
        arg_along(&self.as_dyn(), axis, Ext::Min, "argmin")
    }

    /// The largest element along `axis` (`torch.amax(x, dim, keepdim)`'s values, with
    /// `torch.max(x, dim)`'s gradient): with `keepdim` the axis stays with size 1. The gradient
    /// goes to the element [`Var::argmax`] picks: the first of equal ones.
    ///
    /// **Panics** if `axis` is out of range or has size 0.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![[1.0, 3.0, 3.0], [4.0, 0.0, 2.0]]);
    /// let m = x.max_axis(1, false);
    /// assert_eq!(m.value(), array![3.0, 4.0].into_dyn());
    /// assert_eq!(x.max_axis(0, true).value(), array![[4.0, 3.0, 3.0]].into_dyn());
    /// m.sum().backward();
    /// assert_eq!(x.grad().unwrap(), array![[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]);
    /// ```
    #[track_caller]
    pub fn max_axis(&self, axis: usize, keepdim: bool) -> Var<T, IxDyn> {
        along(&self.as_dyn(), axis, keepdim, Ext::Max)
    }

    /// The smallest element along `axis`; with `keepdim` the axis stays with size 1. The
    /// gradient goes to the element [`Var::argmin`] picks: the first of equal ones.
    ///
    /// **Panics** if `axis` is out of range or has size 0.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![[1.0, 3.0], [4.0, 0.0]]);
    /// let m = x.min_axis(0, false);
    /// assert_eq!(m.value(), array![1.0, 0.0].into_dyn());
    /// m.sum().backward();
    /// assert_eq!(x.grad().unwrap(), array![[1.0, 0.0], [0.0, 1.0]]);
    /// ```
    #[track_caller]
    pub fn min_axis(&self, axis: usize, keepdim: bool) -> Var<T, IxDyn> {
        along(&self.as_dyn(), axis, keepdim, Ext::Min)
    }

    /// The largest of all elements, as a rank-0 `Var`. The gradient goes to one element: the
    /// first largest in row-major order (where `torch.max(x)` would share it among ties).
    ///
    /// **Panics** if the value is empty.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![[1.0, 6.0], [6.0, -2.0]]);
    /// let m = x.max();
    /// assert_eq!(m.item(), 6.0);
    /// m.backward();
    /// assert_eq!(x.grad().unwrap(), array![[0.0, 1.0], [0.0, 0.0]]);
    /// ```
    #[track_caller]
    pub fn max(&self) -> Var<T, Ix0> {
        overall(&self.as_dyn(), Ext::Max)
    }

    /// The smallest of all elements, as a rank-0 `Var`. The gradient goes to one element: the
    /// first smallest in row-major order.
    ///
    /// **Panics** if the value is empty.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![3.0, -1.0, 2.0]);
    /// let m = x.min();
    /// assert_eq!(m.item(), -1.0);
    /// m.backward();
    /// assert_eq!(x.grad().unwrap(), array![0.0, 1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn min(&self) -> Var<T, Ix0> {
        overall(&self.as_dyn(), Ext::Min)
    }

    /// Each element limited to `[min, max]` (`torch.clamp`); NaN stays NaN. The gradient is 1
    /// where `min ≤ x ≤ max` (bounds included, as in torch) and 0 elsewhere. For one bound
    /// only, pass an infinity as the other.
    ///
    /// **Panics** if `min > max` or either is NaN.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![-2.0, -0.5, 0.5, 3.0]);
    /// let y = x.clamp(-1.0, 1.0);
    /// assert_eq!(y.value(), array![-1.0, -0.5, 0.5, 1.0]);
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap(), array![0.0, 1.0, 1.0, 0.0]);
    /// assert_eq!(x.clamp(0.0, f64::INFINITY).value(), array![0.0, 0.0, 0.5, 3.0]);
    /// ```
    #[track_caller]
    pub fn clamp(&self, min: T, max: T) -> Var<T, D> {
        assert!(min <= max, "clamp: min {min} must not be greater than max {max} (nor either be NaN)");
        let x = self.as_dyn();
        let value = x.with_value(|v| {
            v.mapv(|e| {
                if e < min {
                    min
                } else if e > max {
                    max
                } else {
                    e
                }
            })
        });
        let y = record("clamp", value, std::slice::from_ref(&x), move |g: &Dyn<T>, ins: &[Dyn<T>], _: &Dyn<T>| {
            let inside = ins[0].with_value(|v| v.mapv(|e| if (min..=max).contains(&e) { T::one() } else { T::zero() }));
            vec![Some(g * &Var::constant(inside))]
        });
        y.into_dimensionality().expect("same rank")
    }
}
