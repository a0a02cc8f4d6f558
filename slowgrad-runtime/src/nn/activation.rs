//! Activation modules: `Sigmoid`, `Tanh`, `ReLU`, `GELU` (no parameters).

use super::Module;
use crate::{Float, Var};

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
        }
    };
}

activation!(
    /// The logistic function as a module (see [`Var::sigmoid`]).
    Sigmoid,
    sigmoid
);
activation!(
    /// Hyperbolic tangent as a module (see [`Var::tanh`]).
    Tanh,
    tanh
);
activation!(
    /// `max(x, 0)` as a module (see [`Var::relu`]).
    ReLU,
    relu
);
activation!(
    /// GELU, tanh approximation, as a module (see [`Var::gelu`]).
    GELU,
    gelu
);
