//! Neural-network layers built on einsum, and the [`Module`] trait they share.
//!
//! One file per layer. Parameters are leaf [`Var`]s with a dynamic dimension; initialisation
//! draws from a seeded generator ([`manual_seed`] sets the thread's default, and every layer
//! has a `with_rng` constructor taking an explicit [`Rng`](crate::Rng)).
//!
//! ```
//! use ndarray::Array2;
//! use slowgrad_runtime::nn::{manual_seed, Linear, Module, Sequential, Sigmoid};
//! use slowgrad_runtime::{loss::MSELoss, Var};
//! manual_seed(0);
//! let model = Sequential::new(vec![Linear::new(2, 4, true).boxed(), Sigmoid.boxed(), Linear::new(4, 1, true).boxed()]);
//! let x = Var::constant(Array2::<f64>::ones((8, 2)).into_dyn());
//! let y = Var::constant(Array2::<f64>::zeros((8, 1)).into_dyn());
//! let loss = MSELoss.forward(&model.forward(&x), &y);
//! loss.backward();
//! assert!(model.parameters().iter().all(|p| p.grad().is_some()));
//! ```

mod activation;
mod attention;
mod conv1d;
mod conv2d;
mod dropout;
mod embedding;
pub mod init;
mod layer_norm;
mod linear;
mod reshape;
mod sequential;

pub use activation::{ReLU, Sigmoid, Tanh, GELU};
pub use attention::MultiHeadAttention;
pub use conv1d::Conv1d;
pub use conv2d::Conv2d;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use init::manual_seed;
pub use layer_norm::LayerNorm;
pub use linear::Linear;
pub use reshape::{Flatten, Reshape};
pub use sequential::Sequential;

use crate::{Float, Var};

/// A layer or a model: a differentiable function of its input and its parameters.
pub trait Module<T: Float> {
    /// Applies the module to `x`, recording on the tape.
    fn forward(&self, x: &Var<T>) -> Var<T>;

    /// The trainable parameters (handles to the same nodes, so updates are seen by the module).
    fn parameters(&self) -> Vec<Var<T>>;

    /// Clears the gradient of every parameter.
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }

    /// Sets training (`true`) or evaluation (`false`) mode; only layers such as [`Dropout`]
    /// behave differently. Containers pass it on.
    fn set_training(&self, _training: bool) {}

    /// Training mode (the default).
    fn train(&self) {
        self.set_training(true);
    }

    /// Evaluation mode: dropout is the identity.
    fn eval(&self) {
        self.set_training(false);
    }

    /// The number of trainable scalars.
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(|p| p.shape().iter().product::<usize>()).sum()
    }

    /// The module boxed as a trait object, for [`Sequential`].
    fn boxed(self) -> Box<dyn Module<T>>
    where
        Self: Sized + 'static,
    {
        Box::new(self)
    }
}

impl<T: Float, M: Module<T> + ?Sized> Module<T> for Box<M> {
    fn forward(&self, x: &Var<T>) -> Var<T> {
        (**self).forward(x)
    }
    fn parameters(&self) -> Vec<Var<T>> {
        (**self).parameters()
    }
    fn set_training(&self, training: bool) {
        (**self).set_training(training)
    }
}

/// Builds a [`Sequential`] from modules: `seq![Linear::new(2, 4, true), Sigmoid, Linear::new(4, 1, true)]`.
///
/// ```
/// use slowgrad_runtime::nn::{Linear, Module, Tanh};
/// let model = slowgrad_runtime::seq![Linear::<f64>::new(3, 5, true), Tanh, Linear::new(5, 2, false)];
/// assert_eq!(model.num_parameters(), 3 * 5 + 5 + 5 * 2);
/// ```
#[macro_export]
macro_rules! seq {
    ($($m:expr),* $(,)?) => {
        $crate::nn::Sequential::new(vec![$($crate::nn::Module::boxed($m)),*])
    };
}
