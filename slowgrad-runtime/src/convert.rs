//! Conversions into `Var`: from ndarray arrays, from fixed-rank `Var`s to dynamic ones, and
//! lists of parameters of any rank ([`IntoParams`]) for optimisers and gradient tools.
//!
//! ```
//! use ndarray::{array, Ix2};
//! use slowgrad::optim::{Optimizer, SGD};
//! use slowgrad::Var;
//! let w: Var<f64, Ix2> = array![[1.0, 2.0]].into(); // a leaf that requires a gradient
//! let b = Var::new(array![0.5]);
//! let mut opt = SGD::new((&w, &b), 0.5); // parameters of different ranks
//! (&w.sum() + &b.sum()).backward();
//! opt.step();
//! assert_eq!((w.value(), b.value()), (array![[0.5, 1.5]], array![0.0]));
//! let d: Var<f64> = w.clone().into(); // the same node, with a dynamic dimension
//! assert_eq!(d.id(), w.id());
//! ```

use crate::{Float, Var};
use ndarray::{Array, Dimension, Ix0, Ix1, Ix2, Ix3, Ix4, Ix5, Ix6, IxDyn};

/// A leaf that requires a gradient, as [`Var::new`].
///
/// ```
/// use ndarray::array;
/// use slowgrad::Var;
/// let x: Var<f64, ndarray::Ix1> = Var::from(array![1.0, 2.0]);
/// assert!(x.requires_grad() && x.is_leaf());
/// assert_eq!(x.value(), array![1.0, 2.0]);
/// ```
impl<T: Float, D: Dimension> From<Array<T, D>> for Var<T, D> {
    fn from(value: Array<T, D>) -> Var<T, D> {
        Var::new(value)
    }
}

/// `From` a fixed-rank `Var` (and a reference to one) to the same node with a dynamic
/// dimension, as [`Var::as_dyn`].
macro_rules! into_dyn {
    ($($d:ident),*) => {$(
        #[doc = concat!("The same node with a dynamic dimension: `Var<T, ", stringify!($d), ">` into `Var<T>`.")]
        impl<T: Float> From<Var<T, $d>> for Var<T, IxDyn> {
            fn from(v: Var<T, $d>) -> Var<T, IxDyn> {
                v.as_dyn()
            }
        }

        #[doc = concat!("Another handle to the node with a dynamic dimension: `&Var<T, ", stringify!($d), ">` into `Var<T>`.")]
        impl<T: Float> From<&Var<T, $d>> for Var<T, IxDyn> {
            fn from(v: &Var<T, $d>) -> Var<T, IxDyn> {
                v.as_dyn()
            }
        }
    )*};
}
into_dyn!(Ix0, Ix1, Ix2, Ix3, Ix4, Ix5, Ix6);

/// A list of parameters, of any rank: what optimisers and the gradient tools take.
///
/// Implemented for `Vec<Var<T>>` (such as `model.parameters()`), for a `Var` or `&Var` of any
/// dimension, for arrays, slices and `&Vec`s of `Var`s or `&Var`s of one dimension, and for
/// tuples of up to four lists, so that parameters of different ranks go together:
/// `(&w, &b)`. A `Vec` of fixed-rank `Var`s is not one (an empty `vec![]` must stay a
/// `Vec<Var<T>>`): call `.as_dyn()` or `.into()` on its elements, or pass an array.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{IntoParams, Var};
/// let w = Var::new(array![[1.0, 2.0]]); // Var<f64, Ix2>
/// let b = Var::new(array![3.0]); // Var<f64, Ix1>
/// let list = (&w, [b.clone()], vec![w.as_dyn()]).into_params();
/// assert_eq!(list.iter().map(|p| p.id()).collect::<Vec<_>>(), [w.id(), b.id(), w.id()]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of parameters",
    label = "expected parameters here",
    note = "pass `model.parameters()`, a `Var` or `&Var`, an array or slice of `Var`s of one rank, or a tuple such as `(&w, &b)`",
    note = "a `Vec` of fixed-rank `Var`s is not one: call `.as_dyn()` (or `.into()`) on each element to make it a `Vec<Var<T>>`"
)]
pub trait IntoParams<T: Float> {
    /// The parameters, as handles with a dynamic dimension.
    ///
    /// ```
    /// use slowgrad::{IntoParams, Var};
    /// let x = Var::new(ndarray::array![1.0f32]);
    /// assert_eq!(x.into_params()[0].shape(), [1]);
    /// ```
    fn into_params(self) -> Vec<Var<T>>;
}

impl<T: Float> IntoParams<T> for Vec<Var<T>> {
    fn into_params(self) -> Vec<Var<T>> {
        self
    }
}

impl<T: Float, D: Dimension> IntoParams<T> for &Vec<Var<T, D>> {
    fn into_params(self) -> Vec<Var<T>> {
        self.iter().map(Var::as_dyn).collect()
    }
}

impl<T: Float, D: Dimension> IntoParams<T> for Var<T, D> {
    fn into_params(self) -> Vec<Var<T>> {
        vec![self.as_dyn()]
    }
}

impl<T: Float, D: Dimension> IntoParams<T> for &Var<T, D> {
    fn into_params(self) -> Vec<Var<T>> {
        vec![self.as_dyn()]
    }
}

impl<T: Float, D: Dimension, const N: usize> IntoParams<T> for [Var<T, D>; N] {
    fn into_params(self) -> Vec<Var<T>> {
        self.iter().map(Var::as_dyn).collect()
    }
}

impl<T: Float, D: Dimension, const N: usize> IntoParams<T> for [&Var<T, D>; N] {
    fn into_params(self) -> Vec<Var<T>> {
        self.iter().map(|v| v.as_dyn()).collect()
    }
}

impl<T: Float, D: Dimension> IntoParams<T> for &[Var<T, D>] {
    fn into_params(self) -> Vec<Var<T>> {
        self.iter().map(Var::as_dyn).collect()
    }
}

impl<T: Float, D: Dimension> IntoParams<T> for &[&Var<T, D>] {
    fn into_params(self) -> Vec<Var<T>> {
        self.iter().map(|v| v.as_dyn()).collect()
    }
}

/// Tuples of lists: their parameters one after another.
macro_rules! tuple_params {
    ($($p:ident),*) => {
        impl<T: Float, $($p: IntoParams<T>),*> IntoParams<T> for ($($p,)*) {
            #[allow(non_snake_case)]
            fn into_params(self) -> Vec<Var<T>> {
                let ($($p,)*) = self;
                let mut all = Vec::new();
                $(all.extend($p.into_params());)*
                all
            }
        }
    };
}
tuple_params!(A, B);
tuple_params!(A, B, C);
tuple_params!(A, B, C, E);
