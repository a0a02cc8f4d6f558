//! `Linear`: `y = x Wᵀ + b`, the einsum `...i,oi->...o`.

use super::init::{kaiming_uniform, with_default_rng};
use super::Module;
use crate::{einsum, Float, Rng, Var};
use std::fmt;

/// A fully connected layer: `y = einsum("...i,oi->...o", x, W) + b`, with `W` of shape
/// `(out, in)` as in PyTorch. Leading axes of `x` are batch axes.
///
/// Initialised as PyTorch does: `W` and `b` from `U(-1/√in, 1/√in)`.
///
/// **Panics** in `forward` if the input's last axis does not have size `in`.
///
/// ```
/// use slowgrad::nn::{Linear, Module};
/// use slowgrad::Var;
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
    /// A layer from `inp` to `out` features, with a bias if `bias`, drawn from the thread's
    /// default generator.
    ///
    /// ```
    /// use slowgrad::nn::{Linear, Module};
    /// let layer = Linear::<f64>::new(4, 3, false);
    /// assert_eq!(layer.weight.shape(), vec![3, 4]); // (out, in)
    /// assert!(layer.bias.is_none() && layer.num_parameters() == 12);
    /// assert!(layer.weight.value().iter().all(|w| w.abs() <= 0.5)); // 1/√4
    /// ```
    pub fn new(inp: usize, out: usize, bias: bool) -> Linear<T> {
        with_default_rng(|rng| Linear::with_rng(inp, out, bias, rng))
    }

    /// A layer drawn from `rng`.
    ///
    /// ```
    /// use slowgrad::nn::Linear;
    /// use slowgrad::Rng;
    /// let a = Linear::<f64>::with_rng(9, 2, true, &mut Rng::new(8));
    /// let b = Linear::<f64>::with_rng(9, 2, true, &mut Rng::new(8));
    /// assert_eq!(a.weight.value(), b.weight.value());
    /// let bias = a.bias.unwrap().value();
    /// assert!(bias.shape() == [2] && bias.iter().all(|v| v.abs() <= 1.0 / 3.0));
    /// ```
    pub fn with_rng(inp: usize, out: usize, bias: bool, rng: &mut Rng) -> Linear<T> {
        let gain = (1.0f64 / 3.0).sqrt();
        let weight = kaiming_uniform(&[out, inp], inp, gain, rng);
        let bias = bias.then(|| kaiming_uniform(&[out], inp, gain, rng));
        Linear { weight, bias }
    }

    /// A layer with the given parameters (`weight` is `(out, in)`).
    ///
    /// **Panics** if `weight` is not 2-D or `bias` is not `(out,)`.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Linear, Module};
    /// use slowgrad::Var;
    /// let w = Var::new(array![[1.0, 2.0], [3.0, 4.0], [0.0, -1.0]].into_dyn());
    /// let b = Var::new(array![0.5, -0.5, 0.0].into_dyn());
    /// let layer = Linear::from_parameters(w.clone(), Some(b.clone()));
    /// let y = layer.forward(&Var::constant(array![[1.0, 1.0], [2.0, 0.0]].into_dyn()));
    /// assert_eq!(y.value(), array![[3.5, 6.5, -1.0], [2.5, 5.5, 0.0]].into_dyn());
    /// // the layer holds the same nodes: gradients reach `w` and `b`
    /// y.sum().backward();
    /// assert_eq!(w.grad().unwrap(), array![[3.0, 1.0], [3.0, 1.0], [3.0, 1.0]].into_dyn());
    /// assert_eq!(b.grad().unwrap(), array![2.0, 2.0, 2.0].into_dyn());
    /// ```
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
        let (w, xs) = (self.weight.shape(), x.shape());
        assert!(
            xs.last() == Some(&w[1]),
            "Linear(in_features={}, out_features={}) needs an input whose last axis has size {}, got shape {xs:?}",
            w[1],
            w[0],
            w[1]
        );
        // a batch of rows (the common case) runs the kernels `einsum!` generates for `bi,oi->bo`;
        // other ranks the runtime einsum with `...`
        let y = if xs.len() == 2 {
            crate::try_einsum!("bi,oi->bo", x, &self.weight).map(|y| y.as_dyn())
        } else {
            einsum("...i,oi->...o", &[x, &self.weight])
        }
        .unwrap_or_else(|e| {
            panic!("Linear with weight {:?} applied to input of shape {:?}: {e}", self.weight.shape(), x.shape())
        });
        match &self.bias {
            Some(b) => &y + b,
            None => y,
        }
    }

    fn parameters(&self) -> Vec<Var<T>> {
        super::weight_and_bias(&self.weight, &self.bias)
    }

    fn named_parameters(&self) -> Vec<(String, Var<T>)> {
        super::named_weight_and_bias(&self.weight, &self.bias)
    }

    fn parameters_mut(&mut self) -> Vec<&mut Var<T>> {
        super::weight_and_bias_mut(&mut self.weight, &mut self.bias)
    }

    fn fmt_module(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.weight.shape();
        write!(f, "Linear(in_features={}, out_features={}, bias={})", w[1], w[0], self.bias.is_some())
    }
}

super::display_module!(Linear);
