//! `LayerNorm`: normalisation over the last axis with a learned scale and shift.

use super::Module;
use crate::{Float, Var};
use ndarray::{ArrayD, IxDyn};

/// `y = (x − mean) / sqrt(var + eps) · γ + β` over the last axis of size `dim`
/// (see [`Var::layer_norm`]); `γ` starts at 1 and `β` at 0.
///
/// ```
/// use slowgrad_runtime::nn::{LayerNorm, Module};
/// use slowgrad_runtime::Var;
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
}
