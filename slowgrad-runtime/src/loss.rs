//! Loss functions: composites of differentiable ops, each the mean over the batch.
//!
//! Each comes as a function and as a unit struct with a `forward` method, for code that reads
//! like PyTorch (`MSELoss.forward(&out, &y)`).
//!
//! ```
//! use ndarray::array;
//! use slowgrad::loss::{mse_loss, MSELoss};
//! use slowgrad::Var;
//! let pred = Var::new(array![0.5, 2.0]);
//! let target = Var::constant(array![1.0, 1.0]);
//! let l = MSELoss.forward(&pred, &target);
//! assert_eq!(l.item(), (0.25 + 1.0) / 2.0);
//! assert_eq!(l.item(), mse_loss(&pred, &target).item());
//! ```

use crate::{Float, Var};
use ndarray::{ArrayD, Dimension, IxDyn};

/// Mean squared error `mean((pred − target)²)` over every element.
///
/// **Panics** if the shapes differ (no broadcasting: a `(n, 1)` prediction against an `(n,)`
/// target is almost always a bug).
///
/// ```
/// use ndarray::array;
/// use slowgrad::{loss::mse_loss, Var};
/// let pred = Var::new(array![[1.0], [3.0]]);
/// let l = mse_loss(&pred, &Var::constant(array![[0.0], [1.0]]));
/// assert_eq!(l.item(), 2.5);
/// ```
#[track_caller]
pub fn mse_loss<T: Float, D: Dimension, E: Dimension>(pred: &Var<T, D>, target: &Var<T, E>) -> Var<T, IxDyn> {
    let (ps, ts) = (pred.shape(), target.shape());
    assert!(ps == ts, "mse_loss: prediction shape {ps:?} differs from target shape {ts:?}");
    let d = &pred.as_dyn() - &target.as_dyn();
    (&d * &d).mean().as_dyn()
}

/// Cross-entropy of `softmax(logits)` against integer class `targets`, averaged over the batch:
/// `mean_b(logsumexp(logits[b]) − logits[b, targets[b]])`, computed with a stable log-softmax.
///
/// **Panics** if `logits` is not `(batch, classes)`, the target count differs from the batch,
/// or a target is not a class.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{loss::cross_entropy, Var};
/// let logits = Var::new(array![[0.0, 0.0], [10.0, -10.0]]);
/// let l = cross_entropy(&logits, &[1, 0]);
/// assert!((l.item() - 2f64.ln() / 2.0).abs() < 1e-8);
/// ```
#[track_caller]
pub fn cross_entropy<T: Float, D: Dimension>(logits: &Var<T, D>, targets: &[usize]) -> Var<T, IxDyn> {
    let shape = logits.shape();
    assert!(shape.len() == 2, "cross_entropy needs (batch, classes) logits, got shape {shape:?}");
    assert!(
        targets.len() == shape[0],
        "cross_entropy: {} targets for a batch of {} (logits shape {shape:?})",
        targets.len(),
        shape[0]
    );
    if let Some(&bad) = targets.iter().find(|&&t| t >= shape[1]) {
        panic!("cross_entropy: target {bad} is not a class of logits with shape {shape:?}");
    }
    let index = ArrayD::from_shape_vec(IxDyn(&[targets.len(), 1]), targets.to_vec()).expect("n × 1");
    let picked = logits.log_softmax(1).gather(1, &index);
    -picked.mean().as_dyn()
}

/// Binary cross-entropy of `sigmoid(logits)` against `targets` in `[0, 1]`, averaged over every
/// element, computed stably as `softplus(x) − x·y`.
///
/// **Panics** if the shapes differ.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{loss::bce_with_logits, Var};
/// let l = bce_with_logits(&Var::new(array![0.0, 0.0]), &Var::constant(array![1.0, 0.0]));
/// assert!((l.item() - 2f64.ln()).abs() < 1e-12);
/// ```
#[track_caller]
pub fn bce_with_logits<T: Float, D: Dimension, E: Dimension>(logits: &Var<T, D>, targets: &Var<T, E>) -> Var<T, IxDyn> {
    let (ls, ts) = (logits.shape(), targets.shape());
    assert!(ls == ts, "bce_with_logits: logits shape {ls:?} differs from target shape {ts:?}");
    let x = logits.as_dyn();
    (&x.softplus() - &(&x * &targets.as_dyn())).mean().as_dyn()
}

/// Mean squared error as a struct: `MSELoss.forward(&pred, &target)` (see [`mse_loss`]).
///
/// ```
/// use ndarray::array;
/// use slowgrad::{loss::MSELoss, Var};
/// let l = MSELoss.forward(&Var::new(array![[1.0, 2.0]]), &Var::constant(array![[1.0, 4.0]]));
/// assert_eq!(l.item(), 2.0); // (0² + 2²) / 2
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct MSELoss;

impl MSELoss {
    /// See [`mse_loss`].
    ///
    /// **Panics** if the shapes differ.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::{loss::MSELoss, Var};
    /// let pred = Var::new(array![3.0, 0.0]);
    /// MSELoss.forward(&pred, &Var::constant(array![1.0, 0.0])).backward();
    /// // d/dp mean((p − t)²) = 2 (p − t) / n
    /// assert_eq!(pred.grad().unwrap(), array![2.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn forward<T: Float, D: Dimension, E: Dimension>(&self, pred: &Var<T, D>, target: &Var<T, E>) -> Var<T, IxDyn> {
        mse_loss(pred, target)
    }
}

/// Cross-entropy as a struct: `CrossEntropyLoss.forward(&logits, &targets)` (see
/// [`cross_entropy`]).
///
/// ```
/// use ndarray::array;
/// use slowgrad::{loss::CrossEntropyLoss, Var};
/// // four equal logits: the loss is ln 4 whatever the target
/// let l = CrossEntropyLoss.forward(&Var::new(array![[7.0, 7.0, 7.0, 7.0]]), &[3]);
/// assert!((l.item() - 4f64.ln()).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CrossEntropyLoss;

impl CrossEntropyLoss {
    /// See [`cross_entropy`].
    ///
    /// **Panics** as [`cross_entropy`].
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::{loss::CrossEntropyLoss, Var};
    /// let logits = Var::new(array![[0.0, 0.0], [0.0, 0.0]]);
    /// CrossEntropyLoss.forward(&logits, &[0, 1]).backward();
    /// // (softmax − one-hot) / batch
    /// assert_eq!(logits.grad().unwrap(), array![[-0.25, 0.25], [0.25, -0.25]]);
    /// ```
    #[track_caller]
    pub fn forward<T: Float, D: Dimension>(&self, logits: &Var<T, D>, targets: &[usize]) -> Var<T, IxDyn> {
        cross_entropy(logits, targets)
    }
}

/// Binary cross-entropy with logits as a struct (see [`bce_with_logits`]).
///
/// ```
/// use ndarray::array;
/// use slowgrad::{loss::BCEWithLogitsLoss, Var};
/// // a confident right answer costs almost nothing, a confident wrong one about |logit|
/// let l = BCEWithLogitsLoss.forward(&Var::new(array![30.0f64, -30.0]), &Var::constant(array![1.0, 1.0]));
/// assert!((l.item() - 30.0 / 2.0).abs() < 1e-9);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BCEWithLogitsLoss;

impl BCEWithLogitsLoss {
    /// See [`bce_with_logits`].
    ///
    /// **Panics** if the shapes differ.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::{loss::BCEWithLogitsLoss, Var};
    /// let x = Var::new(array![0.0, 0.0]);
    /// BCEWithLogitsLoss.forward(&x, &Var::constant(array![1.0, 0.0])).backward();
    /// // (σ(x) − y) / n
    /// assert_eq!(x.grad().unwrap(), array![-0.25, 0.25]);
    /// ```
    #[track_caller]
    pub fn forward<T: Float, D: Dimension, E: Dimension>(
        &self,
        logits: &Var<T, D>,
        targets: &Var<T, E>,
    ) -> Var<T, IxDyn> {
        bce_with_logits(logits, targets)
    }
}
