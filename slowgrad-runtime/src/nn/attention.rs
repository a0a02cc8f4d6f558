//! `MultiHeadAttention`: self-attention where every product is an einsum.

use super::init::with_default_rng;
use super::{Linear, Module};
use crate::{Float, Rng, Var};
use ndarray::Array2;
use std::fmt;

/// Multi-head self-attention over `(batch, time, dim)`, `heads` heads of size `dim / heads`:
///
/// ```text
/// q, k, v = einsum("btc,hdc->bhtd", x, W.reshape(heads, dim/heads, dim)) + b    (each)
/// a       = softmax(einsum("bhqd,bhkd->bhqk", q, k) / √(dim/heads) + mask, axis 3)
/// y       = einsum("bhtd,ohd->bto", einsum("bhqk,bhkd->bhqd", a, v), Wo.reshape(dim, heads, dim/heads)) + bo
/// ```
///
/// With `causal`, position `t` attends only to positions `≤ t` (the mask is `−∞` above the
/// diagonal).
///
/// **Panics** in `forward` if the input is not `(batch, time, dim)`.
///
/// ```
/// use slowgrad::nn::{Module, MultiHeadAttention};
/// use slowgrad::Var;
/// let att = MultiHeadAttention::<f64>::new(8, 2, true);
/// let y = att.forward(&Var::constant(ndarray::Array3::ones((3, 5, 8)).into_dyn()));
/// assert_eq!(y.shape(), vec![3, 5, 8]);
/// ```
#[derive(Debug, Clone)]
pub struct MultiHeadAttention<T: Float> {
    /// Query projection, `(dim, dim)`; output features are ordered `(head, head_dim)`.
    pub query: Linear<T>,
    /// Key projection.
    pub key: Linear<T>,
    /// Value projection.
    pub value: Linear<T>,
    /// Output projection; input features are ordered `(head, head_dim)`.
    pub out: Linear<T>,
    /// Number of heads.
    pub heads: usize,
    /// Whether each position sees only itself and earlier positions.
    pub causal: bool,
}

impl<T: Float> MultiHeadAttention<T> {
    /// Attention over features of size `dim` with `heads` heads, drawn from the thread's
    /// default generator.
    ///
    /// **Panics** if `heads` does not divide `dim`.
    ///
    /// ```
    /// use ndarray::{s, Array3};
    /// use slowgrad::nn::{Module, MultiHeadAttention};
    /// use slowgrad::Var;
    /// let att = MultiHeadAttention::<f64>::new(4, 2, true);
    /// assert_eq!(att.num_parameters(), 4 * (4 * 4 + 4)); // four projections with biases
    /// // causal: the first position attends only to itself, so its output is the output
    /// // projection of its own value projection
    /// let x = Array3::from_shape_fn((1, 3, 4), |(_, t, c)| (t * 4 + c) as f64 * 0.1 - 0.5);
    /// let y = att.forward(&Var::constant(x.clone().into_dyn())).value();
    /// let x0 = Var::constant(x.slice(s![.., 0..1, ..]).to_owned().into_dyn());
    /// let y0 = att.out.forward(&att.value.forward(&x0)).value();
    /// let first = y.slice(s![.., 0..1, ..]);
    /// assert!(first.iter().zip(y0.iter()).all(|(a, b)| (a - b).abs() < 1e-12));
    /// ```
    #[track_caller]
    pub fn new(dim: usize, heads: usize, causal: bool) -> MultiHeadAttention<T> {
        with_default_rng(|rng| MultiHeadAttention::with_rng(dim, heads, causal, rng))
    }

    /// Attention drawn from `rng`.
    ///
    /// **Panics** if `heads` does not divide `dim`.
    ///
    /// ```
    /// use slowgrad::nn::{Module, MultiHeadAttention};
    /// use slowgrad::Rng;
    /// let a = MultiHeadAttention::<f64>::with_rng(6, 3, false, &mut Rng::new(5));
    /// let b = MultiHeadAttention::<f64>::with_rng(6, 3, false, &mut Rng::new(5));
    /// assert_eq!((a.heads, a.causal), (3, false));
    /// // the same seed gives the same parameters
    /// let same = a.parameters().iter().zip(b.parameters()).all(|(p, q)| p.value() == q.value());
    /// assert!(same && a.parameters().len() == 8);
    /// // the projections are drawn one after another, so they differ
    /// assert_ne!(a.query.weight.value(), a.key.weight.value());
    /// ```
    #[track_caller]
    pub fn with_rng(dim: usize, heads: usize, causal: bool, rng: &mut Rng) -> MultiHeadAttention<T> {
        assert!(heads > 0 && dim % heads == 0, "attention: {heads} heads do not divide the dimension {dim}");
        MultiHeadAttention {
            query: Linear::with_rng(dim, dim, true, rng),
            key: Linear::with_rng(dim, dim, true, rng),
            value: Linear::with_rng(dim, dim, true, rng),
            out: Linear::with_rng(dim, dim, true, rng),
            heads,
            causal,
        }
    }

    /// Projects `x` to per-head vectors `(batch, heads, time, head_dim)`.
    fn project(&self, lin: &Linear<T>, x: &Var<T>, dim: usize) -> Var<T> {
        let (h, d) = (self.heads, dim / self.heads);
        let w = lin.weight.reshape(&[h, d, dim]);
        let y = crate::try_einsum!("btc,hdc->bhtd", x, &w).expect("shapes checked by forward").as_dyn();
        match &lin.bias {
            Some(b) => &y + &b.reshape(&[h, 1, d]),
            None => y,
        }
    }
}

impl<T: Float> Module<T> for MultiHeadAttention<T> {
    #[track_caller]
    fn forward(&self, x: &Var<T>) -> Var<T> {
        let dim = self.query.weight.shape()[0];
        let xs = x.shape();
        assert!(
            xs.len() == 3 && xs[2] == dim,
            "attention of dimension {dim} needs a (batch, time, {dim}) input, got shape {xs:?}"
        );
        let (h, d, t) = (self.heads, dim / self.heads, xs[1]);
        let q = self.project(&self.query, x, dim);
        let k = self.project(&self.key, x, dim);
        let v = self.project(&self.value, x, dim);
        let mut scores = crate::try_einsum!("bhqd,bhkd->bhqk", &q, &k)
            .expect("same shapes")
            .as_dyn()
            .mul_scalar(T::cast(1.0 / (d as f64).sqrt()));
        if self.causal {
            let mask = Array2::from_shape_fn((t, t), |(i, j)| if j > i { T::neg_infinity() } else { T::zero() });
            scores = &scores + &Var::constant(mask.into_dyn());
        }
        let att = scores.softmax(3);
        let mixed = crate::try_einsum!("bhqk,bhkd->bhqd", &att, &v).expect("same shapes").as_dyn();
        let wo = self.out.weight.reshape(&[dim, h, d]);
        let y = crate::try_einsum!("bhtd,ohd->bto", &mixed, &wo).expect("same shapes").as_dyn();
        match &self.out.bias {
            Some(b) => &y + b,
            None => y,
        }
    }

    fn parameters(&self) -> Vec<Var<T>> {
        [&self.query, &self.key, &self.value, &self.out].iter().flat_map(|l| l.parameters()).collect()
    }

    fn named_parameters(&self) -> Vec<(String, Var<T>)> {
        let layers = [("query", &self.query), ("key", &self.key), ("value", &self.value), ("out", &self.out)];
        (layers.iter())
            .flat_map(|(name, l)| l.named_parameters().into_iter().map(move |(n, p)| (format!("{name}.{n}"), p)))
            .collect()
    }

    fn parameters_mut(&mut self) -> Vec<&mut Var<T>> {
        [&mut self.query, &mut self.key, &mut self.value, &mut self.out]
            .into_iter()
            .flat_map(|l| l.parameters_mut())
            .collect()
    }

    fn fmt_module(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dim = self.query.weight.shape()[0];
        write!(f, "MultiHeadAttention(embed_dim={dim}, num_heads={}, causal={})", self.heads, self.causal)
    }
}

super::display_module!(MultiHeadAttention);
