//! Operands of the benchmarks: values uniform in [-1, 1) from a seeded generator.

use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::Rng;
use slowgrad::Float;

/// An array of `shape` with values uniform in [-1, 1) drawn from `rng`.
pub fn random<T: Float>(shape: &[usize], rng: &mut StdRng) -> ArrayD<T> {
    let n = shape.iter().product();
    ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(|_| T::cast(rng.random_range(-1.0..1.0))).collect())
        .expect("shape fits")
}
