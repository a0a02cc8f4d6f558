//! `Conv2d`: im2col windows (`unfold2d`) contracted with the weight by one einsum.

use super::init::{kaiming_uniform, with_default_rng};
use super::Module;
use crate::{Float, Rng, Var};
use std::fmt;

/// A 2-D convolution (cross-correlation, as in PyTorch) over `(batch, in_channels, h, w)`:
/// `y = einsum("bkl,ok->bol", x.unfold2d(..), W.reshape(out, in·kh·kw)) + b`, reshaped to
/// `(batch, out, h_out, w_out)`.
///
/// Initialised as PyTorch does: `U(-1/√fan_in, 1/√fan_in)` with `fan_in = in·kh·kw`.
///
/// **Panics** in `forward` if the input is not `(batch, in, h, w)` or the kernel is larger than
/// the padded input.
///
/// ```
/// use slowgrad::nn::{Conv2d, Module};
/// use slowgrad::Var;
/// let conv = Conv2d::<f64>::new(1, 8, (3, 3), (1, 1), (1, 1));
/// let y = conv.forward(&Var::constant(ndarray::Array4::ones((2, 1, 8, 8)).into_dyn()));
/// assert_eq!(y.shape(), vec![2, 8, 8, 8]);
/// ```
#[derive(Debug, Clone)]
pub struct Conv2d<T: Float> {
    /// The weight, `(out, in, kh, kw)`.
    pub weight: Var<T>,
    /// The bias, `(out,)`.
    pub bias: Option<Var<T>>,
    /// Steps between windows, `(vertical, horizontal)`.
    pub stride: (usize, usize),
    /// Zeros added on each side, `(vertical, horizontal)`.
    pub padding: (usize, usize),
}

impl<T: Float> Conv2d<T> {
    /// A convolution from `inp` to `out` channels, with a bias, drawn from the thread's
    /// default generator.
    ///
    /// ```
    /// use slowgrad::nn::{Conv2d, Module};
    /// let conv = Conv2d::<f64>::new(3, 2, (2, 4), (1, 1), (0, 0));
    /// assert_eq!(conv.weight.shape(), vec![2, 3, 2, 4]);
    /// assert_eq!(conv.num_parameters(), 2 * 3 * 2 * 4 + 2);
    /// let bound = 1.0 / (3.0 * 2.0 * 4.0f64).sqrt();
    /// assert!(conv.weight.value().iter().all(|w| w.abs() <= bound));
    /// ```
    pub fn new(
        inp: usize,
        out: usize,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Conv2d<T> {
        with_default_rng(|rng| Conv2d::with_rng(inp, out, kernel, stride, padding, true, rng))
    }

    /// A convolution drawn from `rng`, with a bias if `bias`.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Conv2d, Module};
    /// use slowgrad::{Rng, Var};
    /// let conv = Conv2d::<f64>::with_rng(1, 1, (2, 2), (2, 2), (0, 0), true, &mut Rng::new(0));
    /// // sums of 2×2 blocks, plus 0.5
    /// conv.weight.set_value(ndarray::Array4::ones((1, 1, 2, 2)).into_dyn());
    /// conv.bias.as_ref().unwrap().set_value(array![0.5].into_dyn());
    /// let x = array![[[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]]];
    /// let y = conv.forward(&Var::constant(x.into_dyn()));
    /// assert_eq!(y.value(), array![[[[14.5, 22.5]]]].into_dyn());
    /// ```
    pub fn with_rng(
        inp: usize,
        out: usize,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
        bias: bool,
        rng: &mut Rng,
    ) -> Conv2d<T> {
        let fan_in = inp * kernel.0 * kernel.1;
        let gain = (1.0f64 / 3.0).sqrt();
        let weight = kaiming_uniform(&[out, inp, kernel.0, kernel.1], fan_in, gain, rng);
        let bias = bias.then(|| kaiming_uniform(&[out], fan_in, gain, rng));
        Conv2d { weight, bias, stride, padding }
    }
}

impl<T: Float> Module<T> for Conv2d<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>) -> Var<T> {
        let w = self.weight.shape();
        let xs = x.shape();
        assert!(
            xs.len() == 4 && xs[1] == w[1],
            "Conv2d with weight {w:?} needs a (batch, {}, height, width) input, got shape {xs:?}",
            w[1]
        );
        let cols = x.unfold2d((w[2], w[3]), self.stride, self.padding);
        let ho = (xs[2] + 2 * self.padding.0 - w[2]) / self.stride.0 + 1;
        let wo = (xs[3] + 2 * self.padding.1 - w[3]) / self.stride.1 + 1;
        let wf = self.weight.reshape(&[w[0], w[1] * w[2] * w[3]]);
        let y = crate::try_einsum!("bkl,ok->bol", &cols, &wf).expect("shapes checked above").as_dyn();
        let y = match &self.bias {
            Some(b) => &y + &b.reshape(&[w[0], 1]),
            None => y,
        };
        y.reshape(&[xs[0], w[0], ho, wo])
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
        let (s, p) = (self.stride, self.padding);
        write!(
            f,
            "Conv2d({}, {}, kernel_size=({}, {}), stride=({}, {}), padding=({}, {})",
            w[1], w[0], w[2], w[3], s.0, s.1, p.0, p.1
        )?;
        if self.bias.is_none() {
            f.write_str(", bias=false")?;
        }
        f.write_str(")")
    }
}

super::display_module!(Conv2d);
