//! Dropout: multiply by a random mask of `0` and `1 / (1 − p)` (inverted scaling, so the
//! expected value is unchanged and evaluation is the identity). The mask is a constant, so the
//! backward is the product rule of `*`.

use crate::{Float, Rng, Var};
use ndarray::{ArrayD, Dimension, IxDyn};

impl<T: Float, D: Dimension> Var<T, D> {
    /// Zeroes each element with probability `p` and scales the rest by `1 / (1 − p)`, drawing
    /// from `rng`; returns `self` unchanged when `training` is false or `p` is 0.
    ///
    /// **Panics** if `p` is not in `[0, 1]`.
    ///
    /// ```
    /// use slowgrad::{Rng, Var};
    /// let x = Var::new(ndarray::Array1::<f64>::ones(1000));
    /// let y = x.dropout(0.5, true, &mut Rng::new(1)).value();
    /// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
    /// assert!((y.sum() / 1000.0 - 1.0).abs() < 0.1);
    /// assert_eq!(x.dropout(0.5, false, &mut Rng::new(1)).value(), x.value().into_dyn());
    /// ```
    #[track_caller]
    pub fn dropout(&self, p: f64, training: bool, rng: &mut Rng) -> Var<T, IxDyn> {
        assert!((0.0..=1.0).contains(&p), "dropout probability must be in [0, 1], got {p}");
        let x = self.as_dyn();
        if !training || p == 0.0 {
            return x;
        }
        let keep = if p < 1.0 { T::cast(1.0 / (1.0 - p)) } else { T::zero() };
        let shape = x.shape();
        let mask = ArrayD::from_shape_simple_fn(IxDyn(&shape), || if rng.next_f64() < p { T::zero() } else { keep });
        &x * &Var::constant(mask)
    }
}
