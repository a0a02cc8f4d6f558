//! Grad mode: whether ops record on the tape, per thread ([`no_grad`], [`enable_grad`],
//! [`is_grad_enabled`]), and the guard that sets it for a scope.

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops currently record on the tape (false inside [`no_grad`]).
///
/// ```
/// use slowgrad::{is_grad_enabled, no_grad};
/// assert!(is_grad_enabled());
/// assert!(!no_grad(is_grad_enabled));
/// assert!(is_grad_enabled()); // restored on leaving no_grad
/// ```
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

/// Restores the previous grad mode when dropped.
pub(super) struct GradMode(bool);

impl GradMode {
    /// Sets grad mode to `on` until the guard is dropped.
    pub(super) fn set(on: bool) -> GradMode {
        GradMode(GRAD_ENABLED.with(|g| g.replace(on)))
    }
}

impl Drop for GradMode {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|g| g.set(self.0));
    }
}

/// Runs `f` without recording: every `Var` created inside is a constant.
///
/// ```
/// use slowgrad::{no_grad, Var};
/// let x = Var::new(ndarray::array![1.0, 2.0]);
/// let y = no_grad(|| slowgrad::einsum("i->", &[&x]).unwrap());
/// assert!(!y.requires_grad());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _mode = GradMode::set(false);
    f()
}

/// Runs `f` with recording on, even inside [`no_grad`] or a backward pass that does not create a
/// graph: for a custom backward that differentiates a local computation of its own.
///
/// ```
/// use slowgrad::{enable_grad, no_grad, Var};
/// let y = no_grad(|| enable_grad(|| Var::new(ndarray::array![1.0]).mul_scalar(2.0)));
/// assert!(y.requires_grad());
/// ```
pub fn enable_grad<R>(f: impl FnOnce() -> R) -> R {
    let _mode = GradMode::set(true);
    f()
}
