//! `Embedding`: a lookup table, `index_select` along axis 0.

use super::init::{normal, with_default_rng};
use super::Module;
use crate::{Float, Rng, Var};
use ndarray::ArrayD;
use std::fmt;

/// A table of `num` vectors of size `dim`; looking up ids of shape `s` gives `s × dim`.
/// Initialised from `N(0, 1)` as in PyTorch.
///
/// ```
/// use slowgrad::nn::Embedding;
/// let emb = Embedding::<f64>::new(10, 4);
/// let ids = ndarray::array![[1usize, 2, 3], [3, 2, 1]].into_dyn();
/// assert_eq!(emb.lookup(&ids).shape(), vec![2, 3, 4]);
/// ```
#[derive(Debug, Clone)]
pub struct Embedding<T: Float> {
    /// The table, `(num, dim)`.
    pub weight: Var<T>,
}

impl<T: Float> Embedding<T> {
    /// A table drawn from the thread's default generator.
    ///
    /// ```
    /// use slowgrad::nn::{Embedding, Module};
    /// let emb = Embedding::<f64>::new(100, 20);
    /// assert_eq!(emb.weight.shape(), vec![100, 20]);
    /// assert_eq!(emb.num_parameters(), 2000);
    /// // N(0, 1) entries: mean near 0, variance near 1
    /// let w = emb.weight.value();
    /// let mean = w.sum() / 2000.0;
    /// let var = w.mapv(|v| (v - mean) * (v - mean)).sum() / 2000.0;
    /// assert!(mean.abs() < 0.1 && (var - 1.0).abs() < 0.1);
    /// ```
    pub fn new(num: usize, dim: usize) -> Embedding<T> {
        with_default_rng(|rng| Embedding::with_rng(num, dim, rng))
    }

    /// A table drawn from `rng`.
    ///
    /// ```
    /// use slowgrad::nn::Embedding;
    /// use slowgrad::Rng;
    /// let a = Embedding::<f32>::with_rng(5, 3, &mut Rng::new(4));
    /// let b = Embedding::<f32>::with_rng(5, 3, &mut Rng::new(4));
    /// assert_eq!(a.weight.value(), b.weight.value());
    /// assert!(a.weight.requires_grad());
    /// ```
    pub fn with_rng(num: usize, dim: usize, rng: &mut Rng) -> Embedding<T> {
        Embedding { weight: normal(&[num, dim], 1.0, rng) }
    }

    /// The vectors of `ids`.
    ///
    /// **Panics** if an id is not below the table size.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::Embedding;
    /// use slowgrad::Var;
    /// let emb = Embedding { weight: Var::new(array![[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]].into_dyn()) };
    /// let v = emb.lookup(&array![[2usize], [0], [2]].into_dyn());
    /// assert_eq!(v.value(), array![[[4.0, 5.0]], [[0.0, 1.0]], [[4.0, 5.0]]].into_dyn());
    /// // a row looked up twice gets both gradients; a row not looked up gets none
    /// v.sum().backward();
    /// assert_eq!(emb.weight.grad().unwrap(), array![[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]].into_dyn());
    /// ```
    #[track_caller]
    pub fn lookup(&self, ids: &ArrayD<usize>) -> Var<T> {
        let flat: Vec<usize> = ids.iter().copied().collect();
        let rows = self.weight.index_select(0, &flat);
        let mut shape = ids.shape().to_vec();
        shape.push(self.weight.shape()[1]);
        rows.reshape(&shape)
    }
}

impl<T: Float> Module<T> for Embedding<T> {
    /// Looks up `x`'s values as ids (they must be non-negative whole numbers).
    ///
    /// **Panics** if a value is not a valid id.
    #[track_caller]
    fn forward(&self, x: &Var<T>) -> Var<T> {
        let ids = x.with_value(|v| {
            v.mapv(|f| {
                let i = f.as_f64();
                assert!(i >= 0.0 && i.fract() == 0.0, "Embedding: {i} is not an id");
                i as usize
            })
        });
        self.lookup(&ids)
    }

    fn parameters(&self) -> Vec<Var<T>> {
        vec![self.weight.clone()]
    }

    fn named_parameters(&self) -> Vec<(String, Var<T>)> {
        vec![("weight".to_string(), self.weight.clone())]
    }

    fn parameters_mut(&mut self) -> Vec<&mut Var<T>> {
        vec![&mut self.weight]
    }

    fn fmt_module(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.weight.shape();
        write!(f, "Embedding({}, {})", w[0], w[1])
    }
}

super::display_module!(Embedding);
