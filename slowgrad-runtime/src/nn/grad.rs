//! Gradient clipping over a list of parameters, as `torch.nn.utils.clip_grad_norm_` and
//! `clip_grad_value_`.

use crate::{Float, IntoParams};

/// Scales the parameters' gradients in place so that their global L2 norm (over every element
/// of every gradient, as if concatenated) is at most `max_norm`, and returns the norm before
/// clipping. Gradients are multiplied by `max_norm / (norm + 1e-6)` when that is below 1, as in
/// PyTorch; parameters without a gradient count as zero.
///
/// **Panics** if `max_norm` is negative or NaN.
///
/// ```
/// use ndarray::array;
/// use slowgrad::nn::clip_grad_norm;
/// use slowgrad::Var;
/// let (a, b) = (Var::new(array![0.0, 0.0]), Var::new(array![0.0]));
/// a.set_grad(Some(array![3.0, 0.0]));
/// b.set_grad(Some(array![4.0]));
/// let norm = clip_grad_norm((&a, &b), 1.0); // the norm of (3, 0, 4) is 5
/// assert_eq!(norm, 5.0);
/// let scale = 1.0 / (5.0 + 1e-6);
/// assert_eq!(a.grad().unwrap(), array![3.0 * scale, 0.0]);
/// assert_eq!(b.grad().unwrap(), array![4.0 * scale]);
/// ```
#[track_caller]
pub fn clip_grad_norm<T: Float>(params: impl IntoParams<T>, max_norm: f64) -> f64 {
    assert!(max_norm >= 0.0, "clip_grad_norm: max_norm must be a non-negative number, got {max_norm}");
    let params = params.into_params();
    let squares: f64 = params
        .iter()
        .map(|p| p.with_grad(|g| g.map_or(0.0, |g| g.iter().map(|&e| e.as_f64() * e.as_f64()).sum::<f64>())))
        .sum();
    let norm = squares.sqrt();
    let coef = max_norm / (norm + 1e-6);
    if coef < 1.0 {
        for p in &params {
            p.scale_grad(T::cast(coef));
        }
    }
    norm
}

/// Clamps every element of the parameters' gradients to `[-clip, clip]` in place.
///
/// **Panics** if `clip` is negative or NaN.
///
/// ```
/// use ndarray::array;
/// use slowgrad::nn::clip_grad_value;
/// use slowgrad::Var;
/// let w = Var::new(array![[0.0, 0.0], [0.0, 0.0]]);
/// w.set_grad(Some(array![[-5.0, 0.5], [2.0, -0.25]]));
/// clip_grad_value([&w], 1.0);
/// assert_eq!(w.grad().unwrap(), array![[-1.0, 0.5], [1.0, -0.25]]);
/// ```
#[track_caller]
pub fn clip_grad_value<T: Float>(params: impl IntoParams<T>, clip: f64) {
    assert!(clip >= 0.0, "clip_grad_value: clip must be a non-negative number, got {clip}");
    let (hi, lo) = (T::cast(clip), T::cast(-clip));
    for p in params.into_params() {
        if let Some(g) = p.grad() {
            p.set_grad(Some(g.mapv(|e| {
                if e > hi {
                    hi
                } else if e < lo {
                    lo
                } else {
                    e
                }
            })));
        }
    }
}
