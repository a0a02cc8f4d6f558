//! `Dropout` as a module, with its own seeded generator and a training flag.

use super::Module;
use crate::{Float, Rng, Var};
use std::cell::{Cell, RefCell};
use std::fmt;

/// Zeroes elements with probability `p` in training mode, scaling the rest by `1/(1−p)`;
/// the identity in evaluation mode (see [`Var::dropout`]).
///
/// ```
/// use slowgrad::nn::{Dropout, Module};
/// use slowgrad::Var;
/// let d = Dropout::new(0.5, 42);
/// let x = Var::constant(ndarray::Array1::<f64>::ones(100).into_dyn());
/// assert!(d.forward(&x).value().iter().any(|&v| v == 0.0));
/// d.eval();
/// assert_eq!(d.forward(&x).value(), x.value());
/// ```
///
/// A clone continues from the same generator state and mode, so it draws the same masks as the
/// original from then on:
///
/// ```
/// use slowgrad::nn::{Dropout, Module};
/// use slowgrad::Var;
/// let x = Var::constant(ndarray::Array1::<f64>::ones(64).into_dyn());
/// let a = Dropout::new(0.5, 3);
/// let b = a.clone();
/// assert_eq!(a.forward(&x).value(), b.forward(&x).value());
/// ```
#[derive(Debug, Clone)]
pub struct Dropout {
    /// Probability of zeroing an element.
    pub p: f64,
    rng: RefCell<Rng>,
    training: Cell<bool>,
}

impl Dropout {
    /// Dropout with probability `p`, masks drawn from a generator seeded with `seed`; starts in
    /// training mode.
    ///
    /// **Panics** if `p` is not in `[0, 1]`.
    ///
    /// ```
    /// use slowgrad::nn::{Dropout, Module};
    /// use slowgrad::Var;
    /// let x = Var::constant(ndarray::Array1::<f64>::ones(1000).into_dyn());
    /// let (a, b) = (Dropout::new(0.25, 9), Dropout::new(0.25, 9));
    /// assert!(a.is_training());
    /// let y = a.forward(&x).value();
    /// // the same seed draws the same masks
    /// assert_eq!(b.forward(&x).value(), y);
    /// // kept elements are scaled by 1 / (1 − p); about a quarter are zeroed
    /// assert!(y.iter().all(|&v| v == 0.0 || (v - 4.0 / 3.0).abs() < 1e-12));
    /// let zeroed = y.iter().filter(|&&v| v == 0.0).count();
    /// assert!((200..300).contains(&zeroed));
    /// ```
    #[track_caller]
    pub fn new(p: f64, seed: u64) -> Dropout {
        assert!((0.0..=1.0).contains(&p), "dropout probability must be in [0, 1], got {p}");
        Dropout { p, rng: RefCell::new(Rng::new(seed)), training: Cell::new(true) }
    }

    /// Switches to training mode (masks are drawn).
    ///
    /// ```
    /// use slowgrad::nn::{Dropout, Module};
    /// use slowgrad::Var;
    /// let d = Dropout::new(0.5, 1);
    /// d.eval();
    /// d.train();
    /// assert!(d.is_training());
    /// let x = Var::constant(ndarray::Array1::<f64>::ones(100).into_dyn());
    /// assert!(d.forward(&x).value().iter().any(|&v| v == 0.0));
    /// ```
    pub fn train(&self) {
        self.training.set(true);
    }

    /// Switches to evaluation mode (the identity).
    ///
    /// ```
    /// use slowgrad::nn::{Dropout, Module};
    /// use slowgrad::Var;
    /// let d = Dropout::new(0.9, 1);
    /// d.eval();
    /// assert!(!d.is_training());
    /// let x = Var::constant(ndarray::array![1.0, 2.0, 3.0].into_dyn());
    /// assert_eq!(d.forward(&x).value(), x.value());
    /// ```
    pub fn eval(&self) {
        self.training.set(false);
    }

    /// Whether the module is in training mode.
    ///
    /// ```
    /// use slowgrad::nn::{Dropout, Module};
    /// let d = Dropout::new(0.5, 0);
    /// assert!(d.is_training()); // a new Dropout trains
    /// Module::<f64>::eval(&d); // the trait's mode switch reaches it too
    /// assert!(!d.is_training());
    /// ```
    pub fn is_training(&self) -> bool {
        self.training.get()
    }
}

impl<T: Float> Module<T> for Dropout {
    fn forward(&self, x: &Var<T>) -> Var<T> {
        x.dropout(self.p, self.training.get(), &mut self.rng.borrow_mut())
    }

    fn parameters(&self) -> Vec<Var<T>> {
        Vec::new()
    }

    fn set_training(&self, training: bool) {
        self.training.set(training);
    }

    fn fmt_module(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dropout(p={})", self.p)
    }
}

/// `Dropout(p=0.5)`, as PyTorch prints it.
///
/// ```
/// assert_eq!(slowgrad::nn::Dropout::new(0.1, 0).to_string(), "Dropout(p=0.1)");
/// ```
impl fmt::Display for Dropout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Module::<f64>::fmt_module(self, f)
    }
}
