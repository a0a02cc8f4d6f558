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
///
/// An implementation provides [`forward`](Module::forward) and
/// [`parameters`](Module::parameters); the other methods have defaults built on them.
///
/// ```
/// use ndarray::array;
/// use slowgrad_runtime::nn::Module;
/// use slowgrad_runtime::Var;
///
/// /// y = a·x + b elementwise, with a learned scalar a and b.
/// struct Affine {
///     a: Var<f64>,
///     b: Var<f64>,
/// }
///
/// impl Module<f64> for Affine {
///     fn forward(&self, x: &Var<f64>) -> Var<f64> {
///         &(x * &self.a) + &self.b
///     }
///     fn parameters(&self) -> Vec<Var<f64>> {
///         vec![self.a.clone(), self.b.clone()]
///     }
/// }
///
/// let m = Affine { a: Var::new(array![2.0].into_dyn()), b: Var::new(array![1.0].into_dyn()) };
/// let y = m.forward(&Var::constant(array![3.0, 4.0].into_dyn()));
/// assert_eq!(y.value(), array![7.0, 9.0].into_dyn());
/// y.sum().backward();
/// assert_eq!(m.a.grad().unwrap(), array![7.0].into_dyn());
/// assert_eq!(m.num_parameters(), 2);
/// ```
pub trait Module<T: Float> {
    /// Applies the module to `x`, recording on the tape.
    ///
    /// **Panics** if `x`'s shape does not fit the module (each module says which shapes it
    /// takes).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad_runtime::nn::{Linear, Module};
    /// use slowgrad_runtime::{no_grad, Var};
    /// let layer = Linear::from_parameters(Var::new(array![[3.0]].into_dyn()), None);
    /// let x = Var::constant(array![[2.0]].into_dyn());
    /// let y = layer.forward(&x);
    /// assert_eq!(y.item(), 6.0);
    /// assert!(y.requires_grad()); // recorded, since the weight requires a gradient
    /// assert!(!no_grad(|| layer.forward(&x)).requires_grad());
    /// ```
    fn forward(&self, x: &Var<T>) -> Var<T>;

    /// The trainable parameters (handles to the same nodes, so updates are seen by the module).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad_runtime::nn::{Linear, Module};
    /// use slowgrad_runtime::Var;
    /// let layer = Linear::<f64>::new(1, 1, true);
    /// let params = layer.parameters();
    /// assert_eq!(params.len(), 2); // weight, then bias
    /// params[0].set_value(array![[5.0]].into_dyn());
    /// params[1].set_value(array![1.0].into_dyn());
    /// assert_eq!(layer.forward(&Var::constant(array![[2.0]].into_dyn())).item(), 11.0);
    /// ```
    fn parameters(&self) -> Vec<Var<T>>;

    /// Clears the gradient of every parameter.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad_runtime::nn::{Linear, Module};
    /// use slowgrad_runtime::Var;
    /// let layer = Linear::<f64>::new(2, 1, true);
    /// let x = Var::constant(array![[1.0, 2.0]].into_dyn());
    /// layer.forward(&x).sum().backward();
    /// assert!(layer.parameters().iter().all(|p| p.grad().is_some()));
    /// layer.zero_grad();
    /// assert!(layer.parameters().iter().all(|p| p.grad().is_none()));
    /// ```
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }

    /// Sets training (`true`) or evaluation (`false`) mode; only layers such as [`Dropout`]
    /// behave differently. Containers pass it on.
    ///
    /// ```
    /// use slowgrad_runtime::nn::{Dropout, Module, ReLU};
    /// use slowgrad_runtime::Var;
    /// let model = slowgrad_runtime::seq![ReLU, Dropout::new(0.5, 0)];
    /// let x = Var::constant(ndarray::Array1::<f64>::ones(50).into_dyn());
    /// model.set_training(false); // reaches the Dropout inside
    /// assert_eq!(model.forward(&x).value(), x.value());
    /// model.set_training(true);
    /// assert!(model.forward(&x).value().iter().any(|&v| v == 0.0));
    /// ```
    fn set_training(&self, _training: bool) {}

    /// Training mode (the default): `set_training(true)`.
    ///
    /// ```
    /// use slowgrad_runtime::nn::{Dropout, Module};
    /// let model = slowgrad_runtime::seq![Dropout::new(0.5, 0)];
    /// Module::<f64>::eval(&model);
    /// Module::<f64>::train(&model);
    /// let x = slowgrad_runtime::Var::constant(ndarray::Array1::<f64>::ones(50).into_dyn());
    /// assert!(model.forward(&x).value().iter().any(|&v| v == 0.0));
    /// ```
    fn train(&self) {
        self.set_training(true);
    }

    /// Evaluation mode: `set_training(false)`, so dropout is the identity.
    ///
    /// ```
    /// use slowgrad_runtime::nn::{Dropout, Linear, Module};
    /// use slowgrad_runtime::Var;
    /// let model = slowgrad_runtime::seq![Linear::<f64>::new(4, 4, true), Dropout::new(0.5, 0)];
    /// let x = Var::constant(ndarray::Array2::<f64>::ones((1, 4)).into_dyn());
    /// model.eval();
    /// // deterministic: two passes agree
    /// assert_eq!(model.forward(&x).value(), model.forward(&x).value());
    /// ```
    fn eval(&self) {
        self.set_training(false);
    }

    /// The number of trainable scalars.
    ///
    /// ```
    /// use slowgrad_runtime::nn::{LayerNorm, Linear, Module, ReLU};
    /// let model = slowgrad_runtime::seq![Linear::<f64>::new(3, 4, true), ReLU, LayerNorm::new(4)];
    /// assert_eq!(model.num_parameters(), (3 * 4 + 4) + (4 + 4));
    /// ```
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(|p| p.shape().iter().product::<usize>()).sum()
    }

    /// The module boxed as a trait object, for [`Sequential`]; the box is a module too.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad_runtime::nn::{Module, ReLU, Tanh};
    /// use slowgrad_runtime::Var;
    /// let layers: Vec<Box<dyn Module<f64>>> = vec![ReLU.boxed(), Tanh.boxed()];
    /// let x = Var::constant(array![-1.0, 0.0].into_dyn());
    /// assert_eq!(layers[0].forward(&x).value(), array![0.0, 0.0].into_dyn());
    /// assert_eq!(layers[1].forward(&x).value()[0], (-1f64).tanh());
    /// ```
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
