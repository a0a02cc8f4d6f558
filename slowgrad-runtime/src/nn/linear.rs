//! `Linear`: `y = x Wᵀ + b`, the einsum `...i,oi->...o`.

use super::init::{kaiming_uniform, with_default_rng};
use super::Module;
use crate::{einsum, Float, Rng, Var};

/// A fully connected layer: `y = einsum("...i,oi->...o", x, W) + b`, with `W` of shape
/// `(out, in)` as in PyTorch. Leading axes of `x` are batch axes.
///
/// Initialised as PyTorch does: `W` and `b` from `U(-1/√in, 1/√in)`.
///
/// ```
/// use slowgrad_runtime::nn::{Linear, Module};
/// use slowgrad_runtime::Var;
/// let layer = Linear::<f64>::new(3, 2, true);
/// let y = layer.forward(&Var::constant(ndarray::Array3::zeros((4, 5, 3)).into_dyn()));
/// assert_eq!(y.shape(), vec![4, 5, 2]);
/// ```
#[derive(Debug, Clone)]
pub struct Linear<T: Float> {
    /// The weight, `(out, in)`.
    pub weight: Var<T>,
    /// The bias, `(out,)`, if any.
    pub bias: Option<Var<T>>,
}

impl<T: Float> Linear<T> {
    /// A layer from `inp` to `out` features, drawn from the thread's default generator.
    pub fn new(inp: usize, out: usize, bias: bool) -> Linear<T> {
        with_default_rng(|rng| Linear::with_rng(inp, out, bias, rng))
    }

    /// A layer drawn from `rng`.
    pub fn with_rng(inp: usize, out: usize, bias: bool, rng: &mut Rng) -> Linear<T> {
        let gain = (1.0f64 / 3.0).sqrt();
        let weight = kaiming_uniform(&[out, inp], inp, gain, rng);
        let bias = bias.then(|| kaiming_uniform(&[out], inp, gain, rng));
        Linear { weight, bias }
    }

    /// A layer with the given parameters (`weight` is `(out, in)`).
    ///
    /// **Panics** if the shapes do not fit.
    #[track_caller]
    pub fn from_parameters(weight: Var<T>, bias: Option<Var<T>>) -> Linear<T> {
        let w = weight.shape();
        assert!(w.len() == 2, "Linear weight must be (out, in), got shape {w:?}");
        if let Some(b) = &bias {
            assert!(b.shape() == [w[0]], "Linear bias must be ({},), got shape {:?}", w[0], b.shape());
        }
        Linear { weight, bias }
    }
}

impl<T: Float> Module<T> for Linear<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>) -> Var<T> {
        let y = einsum("...i,oi->...o", &[x, &self.weight]).unwrap_or_else(|e| {
            panic!("Linear with weight {:?} applied to input of shape {:?}: {e}", self.weight.shape(), x.shape())
        });
        match &self.bias {
            Some(b) => &y + b,
            None => y,
        }
    }

    fn parameters(&self) -> Vec<Var<T>> {
        let mut p = vec![self.weight.clone()];
        p.extend(self.bias.clone());
        p
    }
}
