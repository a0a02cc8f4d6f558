//! `Sequential`: modules applied one after another.

use super::Module;
use crate::{Float, Var};
use std::fmt;

/// Applies its modules in order. Build it from boxed modules or with [`seq!`](crate::seq).
///
/// ```
/// use slowgrad::nn::{Linear, Module, ReLU, Sequential};
/// let model = Sequential::new(vec![Linear::<f64>::new(2, 8, true).boxed(), ReLU.boxed(), Linear::new(8, 1, true).boxed()]);
/// assert_eq!(model.parameters().len(), 4);
/// ```
pub struct Sequential<T: Float> {
    /// The modules, in application order.
    pub layers: Vec<Box<dyn Module<T>>>,
}

impl<T: Float> Sequential<T> {
    /// A sequence of `layers`, applied first to last.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Linear, Module, ReLU, Sequential};
    /// use slowgrad::Var;
    /// let double = Linear::from_parameters(Var::new(array![[2.0]].into_dyn()), None);
    /// let shift = Linear::from_parameters(Var::new(array![[1.0]].into_dyn()), Some(Var::new(array![-3.0].into_dyn())));
    /// // relu(2x − 3): the order matters
    /// let model = Sequential::new(vec![double.boxed(), shift.boxed(), ReLU.boxed()]);
    /// let y = model.forward(&Var::constant(array![[1.0], [4.0]].into_dyn()));
    /// assert_eq!(y.value(), array![[0.0], [5.0]].into_dyn());
    /// ```
    pub fn new(layers: Vec<Box<dyn Module<T>>>) -> Sequential<T> {
        Sequential { layers }
    }

    /// Appends a module, applied after the others.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Linear, Module, Sequential, Tanh};
    /// use slowgrad::Var;
    /// let mut model = Sequential::new(vec![]);
    /// model.push(Linear::from_parameters(Var::new(array![[1.0, 1.0]].into_dyn()), None));
    /// assert_eq!(model.num_parameters(), 2);
    /// model.push(Tanh);
    /// assert_eq!(model.layers.len(), 2);
    /// // tanh(ln 2 + 0) = 0.6
    /// let y = model.forward(&Var::constant(array![[2f64.ln(), 0.0]].into_dyn()));
    /// assert!((y.value()[[0, 0]] - 0.6).abs() < 1e-12);
    /// ```
    pub fn push(&mut self, layer: impl Module<T> + 'static) {
        self.layers.push(Box::new(layer));
    }
}

/// The number of layers and of parameters (the layers are trait objects without `Debug`).
///
/// ```
/// use slowgrad::nn::{Linear, Module, ReLU, Sequential};
/// let model = Sequential::new(vec![Linear::<f64>::new(2, 3, true).boxed(), ReLU.boxed()]);
/// assert_eq!(format!("{model:?}"), "Sequential { layers: 2, parameters: 9 }");
/// ```
impl<T: Float> std::fmt::Debug for Sequential<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequential")
            .field("layers", &self.layers.len())
            .field("parameters", &self.num_parameters())
            .finish()
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

    fn named_parameters(&self) -> Vec<(String, Var<T>)> {
        (self.layers.iter().enumerate())
            .flat_map(|(i, l)| l.named_parameters().into_iter().map(move |(n, p)| (format!("layers.{i}.{n}"), p)))
            .collect()
    }

    fn parameters_mut(&mut self) -> Vec<&mut Var<T>> {
        self.layers.iter_mut().flat_map(|l| l.parameters_mut()).collect()
    }

    fn fmt_module(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.layers.is_empty() {
            return f.write_str("Sequential()");
        }
        f.write_str("Sequential(\n")?;
        for (i, l) in self.layers.iter().enumerate() {
            // a nested container's lines are indented once more
            let text = l.to_string().replace('\n', "\n  ");
            writeln!(f, "  ({i}): {text}")?;
        }
        f.write_str(")")
    }
}

/// One line per layer, as PyTorch prints a model; nested containers are indented.
///
/// ```
/// use slowgrad::nn::{Conv2d, Flatten, Linear, Module, ReLU};
/// let model = slowgrad::seq![
///     slowgrad::seq![Conv2d::<f32>::new(1, 4, (3, 3), (1, 1), (1, 1)), ReLU],
///     Flatten,
///     Linear::new(256, 10, false),
/// ];
/// let text = "Sequential(
///   (0): Sequential(
///     (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
///     (1): ReLU
///   )
///   (1): Flatten
///   (2): Linear(in_features=256, out_features=10, bias=false)
/// )";
/// assert_eq!(model.to_string(), text);
/// ```
impl<T: Float> fmt::Display for Sequential<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_module(f)
    }
}
