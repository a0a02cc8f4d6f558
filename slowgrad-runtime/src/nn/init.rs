//! Seeded parameter initialisation.

use crate::{Float, Rng, Var};
use ndarray::{ArrayD, IxDyn};
use std::cell::RefCell;

thread_local! {
    static DEFAULT_RNG: RefCell<Rng> = RefCell::new(Rng::new(0));
}

/// Seeds the thread's default generator, which layer constructors without an explicit `Rng`
/// draw from (like `torch.manual_seed`).
///
/// ```
/// use slowgrad_runtime::nn::{manual_seed, Linear};
/// manual_seed(3);
/// let a = Linear::<f64>::new(2, 2, true).weight.value();
/// manual_seed(3);
/// assert_eq!(Linear::<f64>::new(2, 2, true).weight.value(), a);
/// ```
pub fn manual_seed(seed: u64) {
    DEFAULT_RNG.with(|r| *r.borrow_mut() = Rng::new(seed));
}

/// Calls `f` with the thread's default generator.
pub fn with_default_rng<R>(f: impl FnOnce(&mut Rng) -> R) -> R {
    DEFAULT_RNG.with(|r| f(&mut r.borrow_mut()))
}

/// A parameter of `shape` drawn from `U(-bound, bound)`.
pub fn uniform<T: Float>(shape: &[usize], bound: f64, rng: &mut Rng) -> Var<T> {
    Var::new(ArrayD::from_shape_simple_fn(IxDyn(shape), || T::cast(rng.uniform(-bound, bound))))
}

/// A parameter of `shape` drawn from `N(0, std²)`.
pub fn normal<T: Float>(shape: &[usize], std: f64, rng: &mut Rng) -> Var<T> {
    Var::new(ArrayD::from_shape_simple_fn(IxDyn(shape), || T::cast(std * rng.normal())))
}

/// Kaiming (He) uniform: `U(-b, b)` with `b = gain · sqrt(3 / fan_in)`. With `gain = sqrt(1/3)`
/// this is PyTorch's default for `Linear` and `Conv` weights (`b = 1 / sqrt(fan_in)`); with
/// `gain = sqrt(2)` it suits ReLU networks.
pub fn kaiming_uniform<T: Float>(shape: &[usize], fan_in: usize, gain: f64, rng: &mut Rng) -> Var<T> {
    uniform(shape, gain * (3.0 / fan_in.max(1) as f64).sqrt(), rng)
}

/// Xavier (Glorot) uniform: `U(-b, b)` with `b = gain · sqrt(6 / (fan_in + fan_out))`.
pub fn xavier_uniform<T: Float>(shape: &[usize], fan_in: usize, fan_out: usize, gain: f64, rng: &mut Rng) -> Var<T> {
    uniform(shape, gain * (6.0 / (fan_in + fan_out).max(1) as f64).sqrt(), rng)
}
