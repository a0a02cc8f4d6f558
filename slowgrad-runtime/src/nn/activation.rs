//! Activation modules: `Sigmoid`, `Tanh`, `ReLU`, `GELU` (no parameters).

use super::Module;
use crate::{Float, Var};
use std::fmt;

macro_rules! activation {
    ($(#[$doc:meta])* $name:ident, $method:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl<T: Float> Module<T> for $name {
            fn forward(&self, x: &Var<T>) -> Var<T> {
                x.$method()
            }
            fn parameters(&self) -> Vec<Var<T>> {
                Vec::new()
            }
            fn fmt_module(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($name))
            }
        }

        #[doc = concat!("`", stringify!($name), "`, as PyTorch prints it.")]
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}

activation!(
    /// The logistic function as a module (see [`Var::sigmoid`]).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Module, Sigmoid};
    /// use slowgrad::Var;
    /// let x = Var::new(array![0.0, 3f64.ln()].into_dyn());
    /// let y = Sigmoid.forward(&x).value();
    /// assert!((y[0] - 0.5).abs() < 1e-12 && (y[1] - 0.75).abs() < 1e-12);
    /// assert!(Module::<f64>::parameters(&Sigmoid).is_empty());
    /// ```
    Sigmoid,
    sigmoid
);
activation!(
    /// Hyperbolic tangent as a module (see [`Var::tanh`]).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Module, Tanh};
    /// use slowgrad::Var;
    /// let x = Var::new(array![0.0, 2f64.ln(), -(2f64.ln())].into_dyn());
    /// let y = Tanh.forward(&x).value();
    /// assert!(y[0] == 0.0 && (y[1] - 0.6).abs() < 1e-12 && (y[2] + 0.6).abs() < 1e-12);
    /// assert!(Module::<f64>::parameters(&Tanh).is_empty());
    /// ```
    Tanh,
    tanh
);
activation!(
    /// `max(x, 0)` as a module (see [`Var::relu`]).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Module, ReLU};
    /// use slowgrad::Var;
    /// let x = Var::new(array![-1.0, 2.0].into_dyn());
    /// let y = ReLU.forward(&x);
    /// assert_eq!(y.value(), array![0.0, 2.0].into_dyn());
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap(), array![0.0, 1.0].into_dyn());
    /// assert!(Module::<f64>::parameters(&ReLU).is_empty());
    /// ```
    ReLU,
    relu
);
activation!(
    /// GELU, tanh approximation, as a module (see [`Var::gelu`]).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::nn::{Module, GELU};
    /// use slowgrad::Var;
    /// let x = Var::new(array![0.0f64, 10.0, -10.0].into_dyn());
    /// let y = GELU.forward(&x).value();
    /// // 0 at 0, the identity for large x, 0 for very negative x
    /// assert!(y[0] == 0.0 && (y[1] - 10.0).abs() < 1e-12 && y[2].abs() < 1e-12);
    /// assert!(Module::<f64>::parameters(&GELU).is_empty());
    /// ```
    GELU,
    gelu
);
