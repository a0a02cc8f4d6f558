//! Neural-network layers built on einsum, and the [`Module`] trait they share.
//!
//! One file per layer. Parameters are leaf [`Var`]s with a dynamic dimension; initialisation
//! draws from a seeded generator ([`manual_seed`] sets the thread's default, and every layer
//! has a `with_rng` constructor taking an explicit [`Rng`](crate::Rng)).
//!
//! ```
//! use ndarray::Array2;
//! use slowgrad::nn::{manual_seed, Linear, Module, Sequential, Sigmoid};
//! use slowgrad::{loss::MSELoss, Var};
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
mod freeze;
mod grad;
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
pub use grad::{clip_grad_norm, clip_grad_value};
pub use init::manual_seed;
pub use layer_norm::LayerNorm;
pub use linear::Linear;
pub use reshape::{Flatten, Reshape};
pub use sequential::Sequential;

use crate::{Float, Var};
use ndarray::Dimension;
use std::fmt;

/// The parameters of a layer with a weight and an optional bias (Linear, Conv1d, Conv2d):
/// `weight`, then `bias`.
fn weight_and_bias<T: Float>(weight: &Var<T>, bias: &Option<Var<T>>) -> Vec<Var<T>> {
    std::iter::once(weight.clone()).chain(bias.clone()).collect()
}

/// [`weight_and_bias`] with PyTorch's names.
fn named_weight_and_bias<T: Float>(weight: &Var<T>, bias: &Option<Var<T>>) -> Vec<(String, Var<T>)> {
    let bias = bias.clone().map(|b| ("bias".to_string(), b));
    std::iter::once(("weight".to_string(), weight.clone())).chain(bias).collect()
}

/// The slots of [`weight_and_bias`], for [`Module::parameters_mut`].
fn weight_and_bias_mut<'a, T: Float>(weight: &'a mut Var<T>, bias: &'a mut Option<Var<T>>) -> Vec<&'a mut Var<T>> {
    std::iter::once(weight).chain(bias.as_mut()).collect()
}

/// A layer or a model: a differentiable function of its input and its parameters.
///
/// An implementation provides [`forward`](Module::forward) and
/// [`parameters`](Module::parameters); the other methods have defaults built on them.
///
/// ```
/// use ndarray::array;
/// use slowgrad::nn::Module;
/// use slowgrad::Var;
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
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a module of `{T}` values",
    label = "not a `Module<{T}>`",
    note = "layers (`Linear`, `Conv2d`, `ReLU`, ...), `Sequential` and boxed modules implement `Module<T>`; a type of your own implements `forward` and `parameters`"
)]
pub trait Module<T: Float> {
    /// Applies the module to `x`, recording on the tape.
    ///
    /// **Panics** if `x`'s shape does not fit the module (each module says which shapes it
    /// takes).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Linear, Module};
    /// use slowgrad::{no_grad, Var};
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
    /// use slowgrad::nn::{Linear, Module};
    /// use slowgrad::Var;
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
    /// use slowgrad::nn::{Linear, Module};
    /// use slowgrad::Var;
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
    /// use slowgrad::nn::{Dropout, Module, ReLU};
    /// use slowgrad::Var;
    /// let model = slowgrad::seq![ReLU, Dropout::new(0.5, 0)];
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
    /// use slowgrad::nn::{Dropout, Module};
    /// let model = slowgrad::seq![Dropout::new(0.5, 0)];
    /// Module::<f64>::eval(&model);
    /// Module::<f64>::train(&model);
    /// let x = slowgrad::Var::constant(ndarray::Array1::<f64>::ones(50).into_dyn());
    /// assert!(model.forward(&x).value().iter().any(|&v| v == 0.0));
    /// ```
    fn train(&self) {
        self.set_training(true);
    }

    /// Evaluation mode: `set_training(false)`, so dropout is the identity.
    ///
    /// ```
    /// use slowgrad::nn::{Dropout, Linear, Module};
    /// use slowgrad::Var;
    /// let model = slowgrad::seq![Linear::<f64>::new(4, 4, true), Dropout::new(0.5, 0)];
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
    /// use slowgrad::nn::{LayerNorm, Linear, Module, ReLU};
    /// let model = slowgrad::seq![Linear::<f64>::new(3, 4, true), ReLU, LayerNorm::new(4)];
    /// assert_eq!(model.num_parameters(), (3 * 4 + 4) + (4 + 4));
    /// ```
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(|p| p.shape().iter().product::<usize>()).sum()
    }

    /// The module boxed as a trait object, for [`Sequential`]; the box is a module too.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Module, ReLU, Tanh};
    /// use slowgrad::Var;
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

    /// The parameters with PyTorch `state_dict`-style names: `weight` and `bias` for a layer,
    /// `layers.0.weight` for the first layer of a [`Sequential`], `query.bias` inside
    /// [`MultiHeadAttention`]. The order is that of [`parameters`](Module::parameters).
    ///
    /// The default names the parameters by their position (`0`, `1`, ...); a module with
    /// fields overrides it with their names (checkpoints use these names).
    ///
    /// ```
    /// use slowgrad::nn::{LayerNorm, Linear, Module, ReLU};
    /// let model = slowgrad::seq![Linear::<f64>::new(3, 4, true), ReLU, LayerNorm::new(4)];
    /// let names: Vec<String> = model.named_parameters().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]);
    /// ```
    fn named_parameters(&self) -> Vec<(String, Var<T>)> {
        self.parameters().into_iter().enumerate().map(|(i, p)| (i.to_string(), p)).collect()
    }

    /// Mutable access to the module's parameter slots, in the order of
    /// [`parameters`](Module::parameters), for [`freeze`](Module::freeze) and
    /// [`unfreeze`](Module::unfreeze), which replace the `Var` in a slot.
    ///
    /// The default gives no slots: a module of its own with parameters implements it to be
    /// frozen.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Linear, Module};
    /// use slowgrad::Var;
    /// let mut layer = Linear::<f64>::new(2, 1, true);
    /// for p in layer.parameters_mut() {
    ///     *p = Var::new(p.value().mapv(|_| 1.0));
    /// }
    /// assert_eq!(layer.forward(&Var::constant(array![[2.0, 3.0]].into_dyn())).item(), 6.0);
    /// ```
    fn parameters_mut(&mut self) -> Vec<&mut Var<T>> {
        Vec::new()
    }

    /// Freezes every parameter: from now on none gets a gradient, so optimisers leave them as
    /// they are (like `requires_grad_(False)` on each parameter in PyTorch).
    ///
    /// Each parameter is replaced by a constant with its value; [`unfreeze`](Module::unfreeze)
    /// puts the original `Var` back (with the constant's value, in case it was loaded or set
    /// meanwhile), so an optimiser built before freezing updates it again afterwards.
    ///
    /// **Panics** if the module has parameters that [`parameters_mut`](Module::parameters_mut)
    /// does not give.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Linear, Module};
    /// use slowgrad::optim::{Optimizer, SGD};
    /// use slowgrad::Var;
    /// let mut model = slowgrad::seq![Linear::<f64>::new(2, 2, true), Linear::new(2, 1, true)];
    /// let mut opt = SGD::new(model.parameters(), 0.1);
    /// model.layers[0].freeze();
    /// let before = model.layers[0].parameters()[0].value();
    /// model.forward(&Var::constant(array![[1.0, 2.0]].into_dyn())).sum().backward();
    /// opt.step();
    /// assert!(model.layers[0].parameters().iter().all(|p| p.grad().is_none() && !p.requires_grad()));
    /// assert_eq!(model.layers[0].parameters()[0].value(), before);
    /// assert!(model.layers[1].parameters().iter().all(|p| p.grad().is_some()));
    /// ```
    #[track_caller]
    fn freeze(&mut self) {
        for p in checked_slots(self) {
            freeze::freeze(p);
        }
    }

    /// Undoes [`freeze`](Module::freeze): every parameter requires a gradient again.
    ///
    /// **Panics** if the module has parameters that [`parameters_mut`](Module::parameters_mut)
    /// does not give.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Linear, Module};
    /// use slowgrad::optim::{Optimizer, SGD};
    /// use slowgrad::Var;
    /// let mut layer = Linear::from_parameters(Var::new(array![[1.0]].into_dyn()), None);
    /// let mut opt = SGD::new(layer.parameters(), 0.5); // built before freezing
    /// layer.freeze();
    /// layer.unfreeze();
    /// layer.forward(&Var::constant(array![[2.0]].into_dyn())).sum().backward();
    /// opt.step(); // the optimiser's handle is the layer's weight again: 1 − 0.5·2
    /// assert_eq!(layer.weight.value(), array![[0.0]].into_dyn());
    /// ```
    #[track_caller]
    fn unfreeze(&mut self) {
        for p in checked_slots(self) {
            freeze::unfreeze(p);
        }
    }

    /// Applies the module to a `Var` of any dimension, such as the `Var<T, Ix2>` that `einsum!`
    /// gives: `model.call(&x)` is `model.forward(&x.as_dyn())`.
    ///
    /// **Panics** as [`forward`](Module::forward) does.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Linear, Module};
    /// use slowgrad::Var;
    /// let layer = Linear::from_parameters(Var::new(array![[1.0, -1.0]].into_dyn()), None);
    /// let x: Var<f64, ndarray::Ix2> = Var::constant(array![[3.0, 1.0]]);
    /// assert_eq!(layer.call(&x).value(), array![[2.0]].into_dyn());
    /// ```
    #[track_caller]
    fn call<D: Dimension>(&self, x: &Var<T, D>) -> Var<T>
    where
        Self: Sized,
    {
        self.forward(&x.as_dyn())
    }

    /// Writes the module's one-line description, as PyTorch prints a layer
    /// (`Linear(in_features=2, out_features=3, bias=true)`); containers write one line per
    /// layer. `Display` of the layers and of `Sequential` calls it.
    ///
    /// The default writes the type's name without its path and generic arguments.
    ///
    /// ```
    /// use slowgrad::nn::{Linear, Module, ReLU};
    /// let model = slowgrad::seq![Linear::<f64>::new(64, 10, true), ReLU];
    /// assert_eq!(model.to_string(), "Sequential(\n  (0): Linear(in_features=64, out_features=10, bias=true)\n  (1): ReLU\n)");
    /// assert_eq!(model.layers[1].to_string(), "ReLU"); // a boxed layer prints as the layer
    /// ```
    fn fmt_module(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = std::any::type_name::<Self>();
        let name = name.split('<').next().unwrap_or(name);
        f.write_str(name.rsplit("::").next().unwrap_or(name))
    }
}

/// The module's parameter slots, checked to be all its parameters.
#[track_caller]
fn checked_slots<T: Float, M: Module<T> + ?Sized>(m: &mut M) -> Vec<&mut Var<T>> {
    let n = m.parameters().len();
    let slots = m.parameters_mut();
    assert!(
        slots.len() == n,
        "the module lists {n} parameters but parameters_mut gives {} slots: implement Module::parameters_mut to freeze it",
        slots.len()
    );
    slots
}

/// Prints a boxed module as the module (see [`Module::fmt_module`]).
///
/// ```
/// use slowgrad::nn::{Dropout, Module};
/// let layer: Box<dyn Module<f32>> = Dropout::new(0.25, 0).boxed();
/// assert_eq!(format!("{layer}"), "Dropout(p=0.25)");
/// ```
impl<T: Float> fmt::Display for dyn Module<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_module(f)
    }
}

/// `Display` through [`Module::fmt_module`] for the layers of this module.
macro_rules! display_module {
    ($($name:ident),* $(,)?) => {
        $(
            /// Prints the layer on one line, as PyTorch does (see [`Module::fmt_module`]).
            impl<T: Float> fmt::Display for $name<T> {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    Module::<T>::fmt_module(self, f)
                }
            }
        )*
    };
}
use display_module;

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
    fn named_parameters(&self) -> Vec<(String, Var<T>)> {
        (**self).named_parameters()
    }
    fn parameters_mut(&mut self) -> Vec<&mut Var<T>> {
        (**self).parameters_mut()
    }
    fn fmt_module(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt_module(f)
    }
}

/// Builds a [`Sequential`] from modules: `seq![Linear::new(2, 4, true), Sigmoid, Linear::new(4, 1, true)]`.
///
/// ```
/// use slowgrad::nn::{Linear, Module, Tanh};
/// let model = slowgrad::seq![Linear::<f64>::new(3, 5, true), Tanh, Linear::new(5, 2, false)];
/// assert_eq!(model.num_parameters(), 3 * 5 + 5 + 5 * 2);
/// ```
#[macro_export]
macro_rules! seq {
    ($($m:expr),* $(,)?) => {
        $crate::nn::Sequential::new(vec![$($crate::nn::Module::boxed($m)),*])
    };
}
