//! `Sequential`: modules applied one after another.

use super::Module;
use crate::{Float, Var};

/// Applies its modules in order. Build it from boxed modules or with [`seq!`](crate::seq).
///
/// ```
/// use slowgrad_runtime::nn::{Linear, Module, ReLU, Sequential};
/// let model = Sequential::new(vec![Linear::<f64>::new(2, 8, true).boxed(), ReLU.boxed(), Linear::new(8, 1, true).boxed()]);
/// assert_eq!(model.parameters().len(), 4);
/// ```
pub struct Sequential<T: Float> {
    /// The modules, in application order.
    pub layers: Vec<Box<dyn Module<T>>>,
}

impl<T: Float> Sequential<T> {
    /// A sequence of `layers`.
    pub fn new(layers: Vec<Box<dyn Module<T>>>) -> Sequential<T> {
        Sequential { layers }
    }

    /// Appends a module.
    pub fn push(&mut self, layer: impl Module<T> + 'static) {
        self.layers.push(Box::new(layer));
    }
}

impl<T: Float> Module<T> for Sequential<T> {
    fn forward(&self, x: &Var<T>) -> Var<T> {
        let mut h = x.clone();
        for layer in &self.layers {
            h = layer.forward(&h);
        }
        h
    }

    fn parameters(&self) -> Vec<Var<T>> {
        self.layers.iter().flat_map(|l| l.parameters()).collect()
    }

    fn set_training(&self, training: bool) {
        for l in &self.layers {
            l.set_training(training);
        }
    }
}
