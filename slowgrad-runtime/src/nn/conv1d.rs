//! `Conv1d`: sliding windows (`unfold1d`) contracted with the weight by one einsum.

use super::init::{kaiming_uniform, with_default_rng};
use super::Module;
use crate::{Float, Rng, Var};
use std::fmt;

/// A 1-D convolution (cross-correlation, as in PyTorch) over `(batch, in_channels, length)`:
/// `y = einsum("bkl,ok->bol", x.unfold1d(k, stride, padding), W.reshape(out, in·k)) + b`.
///
/// Initialised as PyTorch does: `U(-1/√(in·k), 1/√(in·k))`.
///
/// **Panics** in `forward` if the input is not `(batch, in, length)` or the kernel is longer than
/// the padded input.
///
/// ```
/// use slowgrad::nn::{Conv1d, Module};
/// use slowgrad::Var;
/// let conv = Conv1d::<f64>::new(2, 4, 3, 2, 1);
/// let y = conv.forward(&Var::constant(ndarray::Array3::ones((5, 2, 9)).into_dyn()));
/// assert_eq!(y.shape(), vec![5, 4, 5]);
/// ```
#[derive(Debug, Clone)]
pub struct Conv1d<T: Float> {
    /// The weight, `(out, in, k)`.
    pub weight: Var<T>,
    /// The bias, `(out,)`.
    pub bias: Option<Var<T>>,
    /// Step between windows.
    pub stride: usize,
    /// Zeros added at both ends.
    pub padding: usize,
}

impl<T: Float> Conv1d<T> {
    /// A convolution from `inp` to `out` channels with kernel size `k`, with a bias, drawn
    /// from the thread's default generator.
    ///
    /// ```
    /// use slowgrad::nn::Conv1d;
    /// let conv = Conv1d::<f64>::new(2, 3, 4, 1, 0);
    /// assert_eq!(conv.weight.shape(), vec![3, 2, 4]);
    /// assert_eq!(conv.bias.as_ref().unwrap().shape(), vec![3]);
    /// let bound = 1.0 / (2.0 * 4.0f64).sqrt();
    /// assert!(conv.weight.value().iter().all(|w| w.abs() <= bound));
    /// ```
    pub fn new(inp: usize, out: usize, k: usize, stride: usize, padding: usize) -> Conv1d<T> {
        with_default_rng(|rng| Conv1d::with_rng(inp, out, k, stride, padding, true, rng))
    }

    /// A convolution drawn from `rng`, with a bias if `bias`.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Conv1d, Module};
    /// use slowgrad::{Rng, Var};
    /// let conv = Conv1d::<f64>::with_rng(1, 1, 2, 1, 1, false, &mut Rng::new(0));
    /// assert!(conv.bias.is_none() && conv.parameters().len() == 1);
    /// // a difference filter over [1, 2, 4], with one zero of padding at each end
    /// conv.weight.set_value(array![[[-1.0, 1.0]]].into_dyn());
    /// let y = conv.forward(&Var::constant(array![[[1.0, 2.0, 4.0]]].into_dyn()));
    /// assert_eq!(y.value(), array![[[1.0, 1.0, 2.0, -4.0]]].into_dyn());
    /// ```
    pub fn with_rng(
        inp: usize,
        out: usize,
        k: usize,
        stride: usize,
        padding: usize,
        bias: bool,
        rng: &mut Rng,
    ) -> Conv1d<T> {
        let gain = (1.0f64 / 3.0).sqrt();
        let weight = kaiming_uniform(&[out, inp, k], inp * k, gain, rng);
        let bias = bias.then(|| kaiming_uniform(&[out], inp * k, gain, rng));
        Conv1d { weight, bias, stride, padding }
    }
}

impl<T: Float> Module<T> for Conv1d<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>) -> Var<T> {
        let w = self.weight.shape();
        let xs = x.shape();
        assert!(
            xs.len() == 3 && xs[1] == w[1],
            "Conv1d with weight {w:?} needs a (batch, {}, length) input, got shape {xs:?}",
            w[1]
        );
        let cols = x.unfold1d(w[2], self.stride, self.padding);
        let wf = self.weight.reshape(&[w[0], w[1] * w[2]]);
        let y = crate::try_einsum!("bkl,ok->bol", &cols, &wf).expect("shapes checked above").as_dyn();
        match &self.bias {
            Some(b) => &y + &b.reshape(&[w[0], 1]),
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
        write!(
            f,
            "Conv1d({}, {}, kernel_size=({},), stride=({},), padding=({},)",
            w[1], w[0], w[2], self.stride, self.padding
        )?;
        if self.bias.is_none() {
            f.write_str(", bias=false")?;
        }
        f.write_str(")")
    }
}

super::display_module!(Conv1d);
