//! Seeded parameter initialisation.
//!
//! Each function draws a leaf [`Var`] (a parameter that requires a gradient) from an explicit
//! [`Rng`], so a seed fixes the result.
//!
//! ```
//! use slowgrad::nn::init::{kaiming_uniform, normal};
//! use slowgrad::Rng;
//! let mut rng = Rng::new(1);
//! let w = kaiming_uniform::<f64>(&[16, 8], 8, 2f64.sqrt(), &mut rng); // for a ReLU layer
//! let b = normal::<f64>(&[16], 0.01, &mut rng);
//! assert!(w.requires_grad() && w.is_leaf() && b.shape() == [16]);
//! assert!(w.value().iter().all(|v| v.abs() <= 2f64.sqrt() * (3.0f64 / 8.0).sqrt()));
//! ```

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
/// use slowgrad::nn::{manual_seed, Linear};
/// manual_seed(3);
/// let a = Linear::<f64>::new(2, 2, true).weight.value();
/// manual_seed(3);
/// assert_eq!(Linear::<f64>::new(2, 2, true).weight.value(), a);
/// ```
pub fn manual_seed(seed: u64) {
    DEFAULT_RNG.with(|r| *r.borrow_mut() = Rng::new(seed));
}

/// Calls `f` with the thread's default generator.
///
/// ```
/// use slowgrad::nn::{init::with_default_rng, manual_seed};
/// use slowgrad::Rng;
/// manual_seed(11);
/// let a = with_default_rng(|rng| rng.next_u64());
/// let b = with_default_rng(|rng| rng.next_u64()); // the generator moves on
/// let mut fresh = Rng::new(11);
/// assert_eq!((a, b), (fresh.next_u64(), fresh.next_u64()));
/// ```
pub fn with_default_rng<R>(f: impl FnOnce(&mut Rng) -> R) -> R {
    DEFAULT_RNG.with(|r| f(&mut r.borrow_mut()))
}

/// A parameter of `shape` drawn from `U(-bound, bound)`.
///
/// ```
/// use slowgrad::nn::init::uniform;
/// use slowgrad::Rng;
/// let w = uniform::<f64>(&[10, 100], 0.5, &mut Rng::new(2));
/// assert_eq!(w.shape(), vec![10, 100]);
/// assert!(w.requires_grad());
/// let v = w.value();
/// assert!(v.iter().all(|x| (-0.5..0.5).contains(x)));
/// // spread over the whole interval
/// assert!(v.iter().any(|&x| x < -0.45) && v.iter().any(|&x| x > 0.45));
/// ```
pub fn uniform<T: Float>(shape: &[usize], bound: f64, rng: &mut Rng) -> Var<T> {
    Var::new(ArrayD::from_shape_simple_fn(IxDyn(shape), || T::cast(rng.uniform(-bound, bound))))
}

/// A parameter of `shape` drawn from `N(0, std²)`.
///
/// ```
/// use slowgrad::nn::init::normal;
/// use slowgrad::Rng;
/// let v = normal::<f64>(&[4000], 3.0, &mut Rng::new(2)).value();
/// let mean = v.sum() / 4000.0;
/// let std = (v.mapv(|x| (x - mean) * (x - mean)).sum() / 4000.0).sqrt();
/// assert!(mean.abs() < 0.2 && (std - 3.0).abs() < 0.15);
/// ```
pub fn normal<T: Float>(shape: &[usize], std: f64, rng: &mut Rng) -> Var<T> {
    Var::new(ArrayD::from_shape_simple_fn(IxDyn(shape), || T::cast(std * rng.normal())))
}

/// Kaiming (He) uniform: `U(-b, b)` with `b = gain · sqrt(3 / fan_in)`. With `gain = sqrt(1/3)`
/// this is PyTorch's default for `Linear` and `Conv` weights (`b = 1 / sqrt(fan_in)`); with
/// `gain = sqrt(2)` it suits ReLU networks.
///
/// ```
/// use slowgrad::nn::init::kaiming_uniform;
/// use slowgrad::Rng;
/// // fan_in 12, gain 2: b = 2 · sqrt(3 / 12) = 1
/// let v = kaiming_uniform::<f64>(&[50, 12], 12, 2.0, &mut Rng::new(3)).value();
/// assert!(v.iter().all(|x| x.abs() <= 1.0));
/// assert!(v.iter().any(|&x| x < -0.9) && v.iter().any(|&x| x > 0.9));
/// ```
pub fn kaiming_uniform<T: Float>(shape: &[usize], fan_in: usize, gain: f64, rng: &mut Rng) -> Var<T> {
    uniform(shape, gain * (3.0 / fan_in.max(1) as f64).sqrt(), rng)
}

/// Xavier (Glorot) uniform: `U(-b, b)` with `b = gain · sqrt(6 / (fan_in + fan_out))`.
///
/// ```
/// use slowgrad::nn::init::xavier_uniform;
/// use slowgrad::Rng;
/// // fan_in 20, fan_out 4, gain 0.5: b = 0.5 · sqrt(6 / 24) = 0.25
/// let v = xavier_uniform::<f64>(&[4, 20], 20, 4, 0.5, &mut Rng::new(3)).value();
/// assert!(v.iter().all(|x| x.abs() <= 0.25));
/// assert!(v.iter().any(|&x| x < -0.2) && v.iter().any(|&x| x > 0.2));
/// ```
pub fn xavier_uniform<T: Float>(shape: &[usize], fan_in: usize, fan_out: usize, gain: f64, rng: &mut Rng) -> Var<T> {
    uniform(shape, gain * (6.0 / (fan_in + fan_out).max(1) as f64).sqrt(), rng)
}
