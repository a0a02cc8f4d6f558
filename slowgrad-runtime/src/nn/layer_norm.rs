//! `LayerNorm`: normalisation over the last axis with a learned scale and shift.

use super::Module;
use crate::{Float, Var};
use ndarray::{ArrayD, IxDyn};
use std::fmt;

/// `y = (x − mean) / sqrt(var + eps) · γ + β` over the last axis of size `dim`
/// (see [`Var::layer_norm`]); `γ` starts at 1 and `β` at 0.
///
/// **Panics** in `forward` if the input's last axis does not have size `dim`.
///
/// ```
/// use slowgrad::nn::{LayerNorm, Module};
/// use slowgrad::Var;
/// let ln = LayerNorm::<f64>::new(3);
/// let y = ln.forward(&Var::constant(ndarray::array![[1.0, 2.0, 6.0]].into_dyn())).value();
/// assert!(y.sum().abs() < 1e-12);
/// ```
#[derive(Debug, Clone)]
pub struct LayerNorm<T: Float> {
    /// The scale γ, `(dim,)`.
    pub weight: Var<T>,
    /// The shift β, `(dim,)`.
    pub bias: Var<T>,
    /// Added to the variance.
    pub eps: T,
}

impl<T: Float> LayerNorm<T> {
    /// Normalisation over a last axis of size `dim`, `eps = 1e-5`.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{LayerNorm, Module};
    /// use slowgrad::Var;
    /// let mut ln = LayerNorm::<f64>::new(2);
    /// assert_eq!(ln.eps, 1e-5);
    /// assert_eq!((ln.weight.value(), ln.bias.value()), (array![1.0, 1.0].into_dyn(), array![0.0, 0.0].into_dyn()));
    /// // each row becomes (−1, 1) before the scale and shift
    /// ln.eps = 0.0;
    /// ln.weight.set_value(array![2.0, 3.0].into_dyn());
    /// ln.bias.set_value(array![0.5, 0.0].into_dyn());
    /// let y = ln.forward(&Var::constant(array![[1.0, 3.0], [10.0, 0.0]].into_dyn()));
    /// assert_eq!(y.value(), array![[-1.5, 3.0], [2.5, -3.0]].into_dyn());
    /// ```
    pub fn new(dim: usize) -> LayerNorm<T> {
        LayerNorm {
            weight: Var::new(ArrayD::from_elem(IxDyn(&[dim]), T::one())),
            bias: Var::new(ArrayD::zeros(IxDyn(&[dim]))),
            eps: T::cast(1e-5),
        }
    }
}

impl<T: Float> Module<T> for LayerNorm<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>) -> Var<T> {
        let dim = self.weight.shape()[0];
        let xs = x.shape();
        assert!(xs.last() == Some(&dim), "LayerNorm({dim}) applied to input of shape {xs:?}");
        &(&x.layer_norm(self.eps) * &self.weight) + &self.bias
    }

    fn parameters(&self) -> Vec<Var<T>> {
        vec![self.weight.clone(), self.bias.clone()]
    }

    fn named_parameters(&self) -> Vec<(String, Var<T>)> {
        vec![("weight".to_string(), self.weight.clone()), ("bias".to_string(), self.bias.clone())]
    }

    fn parameters_mut(&mut self) -> Vec<&mut Var<T>> {
        vec![&mut self.weight, &mut self.bias]
    }

    fn fmt_module(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LayerNorm(({},), eps={})", self.weight.shape()[0], self.eps)
    }
}

super::display_module!(LayerNorm);
