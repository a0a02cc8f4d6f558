//! Optimisers that update parameter values in place from their gradients, and learning-rate
//! schedules.
//!
//! ```
//! use ndarray::array;
//! use slowgrad::optim::{Optimizer, SGD};
//! use slowgrad::Var;
//! let w = Var::new(array![1.0f64, -2.0].into_dyn());
//! let mut opt = SGD::new(vec![w.clone()], 0.1);
//! for _ in 0..100 {
//!     opt.zero_grad();
//!     (&w * &w).sum().backward();   // minimise |w|²
//!     opt.step();
//! }
//! assert!(w.value().iter().all(|v| v.abs() < 1e-6));
//! ```

mod adam;
mod schedule;
mod sgd;

pub use adam::{Adam, AdamW};
pub use schedule::{CosineLR, LrSchedule, StepLR};
pub use sgd::SGD;

use crate::checkpoint::CheckpointError;
use crate::{Float, IntoParams, Var};
use ndarray::ArrayD;
use std::fmt;

/// An optimiser over a fixed list of parameters.
///
/// A training loop written against the trait works with every optimiser:
///
/// ```
/// use ndarray::array;
/// use slowgrad::optim::{Adam, Optimizer, SGD};
/// use slowgrad::Var;
///
/// /// Minimises (w − 3)² from w = 0.
/// fn fit(opt: &mut dyn Optimizer, w: &Var<f64>, steps: usize) {
///     for _ in 0..steps {
///         opt.zero_grad();
///         let d = w.add_scalar(-3.0);
///         (&d * &d).sum().backward();
///         opt.step();
///     }
/// }
///
/// let w = Var::new(array![0.0].into_dyn());
/// fit(&mut SGD::new(vec![w.clone()], 0.25), &w, 30);
/// assert!((w.value()[0] - 3.0).abs() < 1e-6);
/// let w = Var::new(array![0.0].into_dyn());
/// fit(&mut Adam::new(vec![w.clone()], 0.1), &w, 300);
/// assert!((w.value()[0] - 3.0).abs() < 0.05);
/// ```
pub trait Optimizer {
    /// Updates every parameter that has a gradient; parameters without one are left as they are.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::optim::{Optimizer, SGD};
    /// use slowgrad::Var;
    /// let (a, b) = (Var::new(array![1.0].into_dyn()), Var::new(array![1.0].into_dyn()));
    /// let mut opt = SGD::new(vec![a.clone(), b.clone()], 0.1);
    /// (&a * &a).sum().backward(); // only `a` gets a gradient, 2a = 2
    /// opt.step();
    /// assert_eq!(a.value()[0], 1.0 - 0.1 * 2.0);
    /// assert_eq!(b.value()[0], 1.0);
    /// ```
    fn step(&mut self);

    /// Clears the gradients of the parameters.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::optim::{Optimizer, SGD};
    /// use slowgrad::Var;
    /// let w = Var::new(array![1.0].into_dyn());
    /// let mut opt = SGD::new(vec![w.clone()], 0.1);
    /// (&w * &w).sum().backward();
    /// opt.zero_grad();
    /// assert!(w.grad().is_none());
    /// opt.step(); // nothing to apply
    /// assert_eq!(w.value()[0], 1.0);
    /// ```
    fn zero_grad(&self);

    /// The current learning rate.
    ///
    /// ```
    /// use slowgrad::optim::{AdamW, Optimizer};
    /// let opt = AdamW::<f32>::new(vec![], 3e-4);
    /// assert_eq!(opt.lr(), 3e-4);
    /// ```
    fn lr(&self) -> f64;

    /// Sets the learning rate (used by schedules).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::optim::{LrSchedule, Optimizer, StepLR, SGD};
    /// use slowgrad::Var;
    /// let w = Var::new(array![0.0].into_dyn());
    /// let mut opt = SGD::new(vec![w.clone()], 1.0);
    /// let schedule = StepLR { base: 1.0, step_size: 1, gamma: 0.5 };
    /// for step in 0..3 {
    ///     opt.set_lr(schedule.lr(step));
    ///     opt.zero_grad();
    ///     w.sum().backward(); // gradient 1: each step moves w by −lr
    ///     opt.step();
    /// }
    /// assert_eq!(opt.lr(), 0.25);
    /// assert_eq!(w.value()[0], -(1.0 + 0.5 + 0.25));
    /// ```
    fn set_lr(&mut self, lr: f64);
}

pub(crate) fn zero_all<T: Float>(params: &[Var<T>]) {
    for p in params {
        p.zero_grad();
    }
}

/// `state ← state · decay + x · scale`, creating the state as `x · scale` on first use.
pub(crate) fn ema<T: Float>(state: &mut Option<ArrayD<T>>, x: &ArrayD<T>, decay: T, scale: T) {
    match state {
        Some(s) => s.zip_mut_with(x, |a, &b| *a = *a * decay + b * scale),
        None => *state = Some(x.mapv(|b| b * scale)),
    }
}

/// A group of parameters with options of its own, as PyTorch's `param_groups`: options left
/// `None` take the optimiser's (`lr` from the constructor, `weight_decay` from its setter).
///
/// ```
/// use ndarray::array;
/// use slowgrad::optim::{Optimizer, ParamGroup, SGD};
/// use slowgrad::Var;
/// let (w, b) = (Var::new(array![[1.0]]), Var::new(array![1.0]));
/// // weight decay on the weight only, and a larger step for the bias
/// let mut opt = SGD::with_groups(
///     vec![ParamGroup::new(&w).weight_decay(0.5), ParamGroup::new(&b).lr(1.0)],
///     0.1,
/// );
/// (&w.sum() + &b.sum()).backward(); // both gradients are 1
/// opt.step();
/// assert_eq!(w.value()[[0, 0]], 1.0 - 0.1 * (1.0 + 0.5 * 1.0));
/// assert_eq!(b.value()[0], 1.0 - 1.0 * 1.0);
/// ```
#[derive(Debug, Clone)]
pub struct ParamGroup<T: Float> {
    /// The group's parameters.
    pub params: Vec<Var<T>>,
    /// The group's learning rate, if not the optimiser's.
    pub lr: Option<f64>,
    /// The group's weight decay, if not the optimiser's.
    pub weight_decay: Option<f64>,
}

impl<T: Float> ParamGroup<T> {
    /// A group of `params` with the optimiser's options.
    ///
    /// ```
    /// use slowgrad::nn::{Linear, Module};
    /// use slowgrad::optim::ParamGroup;
    /// let layer = Linear::<f64>::new(3, 2, true);
    /// let g = ParamGroup::new(layer.parameters());
    /// assert_eq!((g.params.len(), g.lr, g.weight_decay), (2, None, None));
    /// ```
    pub fn new(params: impl IntoParams<T>) -> ParamGroup<T> {
        ParamGroup { params: params.into_params(), lr: None, weight_decay: None }
    }

    /// Sets the group's learning rate.
    ///
    /// ```
    /// use slowgrad::optim::ParamGroup;
    /// use slowgrad::Var;
    /// let g = ParamGroup::new(Var::new(ndarray::array![1.0])).lr(0.5);
    /// assert_eq!(g.lr, Some(0.5));
    /// ```
    pub fn lr(mut self, lr: f64) -> ParamGroup<T> {
        self.lr = Some(lr);
        self
    }

    /// Sets the group's weight decay (`0.0` for none, as for biases and norms).
    ///
    /// ```
    /// use slowgrad::optim::ParamGroup;
    /// use slowgrad::Var;
    /// let g = ParamGroup::new(Var::new(ndarray::array![1.0])).weight_decay(0.0);
    /// assert_eq!(g.weight_decay, Some(0.0));
    /// ```
    pub fn weight_decay(mut self, weight_decay: f64) -> ParamGroup<T> {
        self.weight_decay = Some(weight_decay);
        self
    }
}

/// Why an optimiser cannot be built from its parameters and options.
///
/// ```
/// use ndarray::array;
/// use slowgrad::optim::{OptimError, SGD};
/// use slowgrad::Var;
/// let w = Var::new(array![1.0, 2.0]);
/// let e = SGD::try_new((&w, &w), 0.1).unwrap_err();
/// assert_eq!(e, OptimError::DuplicateParameter { index: 1, first: 0, shape: vec![2] });
/// assert_eq!(e.to_string(), "parameter 1 (shape [2]) is the same Var as parameter 0: give each parameter once");
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OptimError {
    /// The learning rate is NaN, infinite or negative.
    LearningRate {
        /// The learning rate.
        lr: f64,
        /// The parameter group it was given for, if not the optimiser's own.
        group: Option<usize>,
    },
    /// The weight decay is NaN, infinite or negative.
    WeightDecay {
        /// The weight decay.
        weight_decay: f64,
        /// The parameter group it was given for, if not the optimiser's own.
        group: Option<usize>,
    },
    /// A parameter was given twice (it would be updated twice per step).
    DuplicateParameter {
        /// Its second position in the list of all parameters (groups one after another).
        index: usize,
        /// Its first position.
        first: usize,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// A parameter is the result of an op, not a leaf: its gradient is never stored, and
    /// changing its value would not change what it was computed from.
    NotLeaf {
        /// Its position in the list of all parameters.
        index: usize,
        /// Its shape.
        shape: Vec<usize>,
    },
}

impl fmt::Display for OptimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let in_group = |g: &Option<usize>| g.map(|g| format!(" of parameter group {g}")).unwrap_or_default();
        match self {
            OptimError::LearningRate { lr, group } => {
                write!(f, "the learning rate{} is {lr}: it must be a finite number ≥ 0", in_group(group))
            }
            OptimError::WeightDecay { weight_decay, group } => {
                write!(f, "the weight decay{} is {weight_decay}: it must be a finite number ≥ 0", in_group(group))
            }
            OptimError::DuplicateParameter { index, first, shape } => {
                write!(f, "parameter {index} (shape {shape:?}) is the same Var as parameter {first}: give each parameter once")
            }
            OptimError::NotLeaf { index, shape } => write!(
                f,
                "parameter {index} (shape {shape:?}) is the result of an op, not a leaf: an optimiser updates leaves such as `model.parameters()` or `Var::new(..)`"
            ),
        }
    }
}

impl std::error::Error for OptimError {}

/// Checks a learning rate.
pub(crate) fn check_lr(lr: f64, group: Option<usize>) -> Result<(), OptimError> {
    if lr.is_finite() && lr >= 0.0 {
        Ok(())
    } else {
        Err(OptimError::LearningRate { lr, group })
    }
}

/// Checks a weight decay.
pub(crate) fn check_weight_decay(weight_decay: f64, group: Option<usize>) -> Result<(), OptimError> {
    if weight_decay.is_finite() && weight_decay >= 0.0 {
        Ok(())
    } else {
        Err(OptimError::WeightDecay { weight_decay, group })
    }
}

/// A hyperparameter given to a builder method: panics with a message naming it unless it is
/// finite and in `[0, below)`.
#[track_caller]
pub(crate) fn check_option(name: &str, value: f64, below: f64) {
    let bound = if below.is_finite() { format!(" and < {below}") } else { String::new() };
    assert!(
        value.is_finite() && (0.0..below).contains(&value),
        "the {name} is {value}: it must be a finite number ≥ 0{bound}"
    );
}

/// The parameters of an optimiser, flat, with the options of the group each belongs to.
#[derive(Debug)]
pub(crate) struct Params<T: Float> {
    pub(crate) vars: Vec<Var<T>>,
    /// The group of each parameter.
    group: Vec<usize>,
    /// Each group's `(lr, weight_decay)`, where given.
    options: Vec<(Option<f64>, Option<f64>)>,
}

impl<T: Float> Params<T> {
    /// Checks the groups and the learning rate.
    pub(crate) fn new(groups: Vec<ParamGroup<T>>, lr: f64) -> Result<Params<T>, OptimError> {
        check_lr(lr, None)?;
        let mut params = Params { vars: Vec::new(), group: Vec::new(), options: Vec::new() };
        let mut seen = std::collections::HashMap::new();
        for (g, group) in groups.into_iter().enumerate() {
            if let Some(lr) = group.lr {
                check_lr(lr, Some(g))?;
            }
            if let Some(wd) = group.weight_decay {
                check_weight_decay(wd, Some(g))?;
            }
            params.options.push((group.lr, group.weight_decay));
            for p in group.params {
                let index = params.vars.len();
                if !p.is_leaf() {
                    return Err(OptimError::NotLeaf { index, shape: p.shape() });
                }
                if let Some(&first) = seen.get(&p.id()) {
                    return Err(OptimError::DuplicateParameter { index, first, shape: p.shape() });
                }
                seen.insert(p.id(), index);
                params.vars.push(p);
                params.group.push(g);
            }
        }
        Ok(params)
    }

    /// The learning rate and weight decay of parameter `i`, given the optimiser's.
    pub(crate) fn options(&self, i: usize, lr: f64, weight_decay: f64) -> (f64, f64) {
        let (glr, gwd) = self.options[self.group[i]];
        (glr.unwrap_or(lr), gwd.unwrap_or(weight_decay))
    }

    /// Loads the buffers named `names[k].{i}` of a state into `slots[k][i]`, after checking
    /// the optimiser kind, the parameter count and every buffer's shape; a parameter has all
    /// its buffers or none.
    pub(crate) fn load_buffers(
        &self,
        state: OptimizerStateDict<T>,
        kind: &str,
        names: &[&str],
    ) -> Result<Vec<Vec<Option<ArrayD<T>>>>, CheckpointError> {
        let n = self.vars.len();
        if state.kind != kind {
            return Err(CheckpointError::Metadata {
                key: "optimizer".into(),
                expected: kind.into(),
                found: state.kind.clone(),
            });
        }
        if state.params != n {
            return Err(CheckpointError::Metadata {
                key: "parameters".into(),
                expected: n.to_string(),
                found: state.params.to_string(),
            });
        }
        let mut slots = vec![vec![None; n]; names.len()];
        for (name, array) in state.buffers {
            let parsed = name.rsplit_once('.').and_then(|(prefix, i)| {
                let k = names.iter().position(|&b| b == prefix)?;
                let i = i.parse::<usize>().ok().filter(|&i| i < n)?;
                Some((k, i))
            });
            let Some((k, i)) = parsed else {
                return Err(CheckpointError::Unexpected { name, shape: array.shape().to_vec() });
            };
            let expected = self.vars[i].shape();
            if array.shape() != expected {
                return Err(CheckpointError::Shape { name, expected, found: array.shape().to_vec() });
            }
            slots[k][i] = Some(array);
        }
        for i in 0..n {
            let present: Vec<bool> = slots.iter().map(|s| s[i].is_some()).collect();
            if present.contains(&true) {
                if let Some(k) = present.iter().position(|&p| !p) {
                    return Err(CheckpointError::Missing {
                        name: format!("{}.{i}", names[k]),
                        shape: self.vars[i].shape(),
                    });
                }
            }
        }
        Ok(slots)
    }
}

/// The state an optimiser carries from step to step, as named arrays: what a checkpoint
/// stores (see [`crate::checkpoint::save_optimizer`]).
///
/// ```
/// use ndarray::array;
/// use slowgrad::optim::{Optimizer, OptimizerState, SGD};
/// use slowgrad::Var;
/// let w = Var::new(array![1.0, 2.0]);
/// let mut opt = SGD::new(&w, 0.1).momentum(0.9);
/// (&w * &w).sum().backward();
/// opt.step();
/// let state = opt.state_dict();
/// assert_eq!((state.kind.as_str(), state.step, state.params), ("SGD", 1, 1));
/// // the momentum buffer after one step is the gradient 2w
/// assert_eq!(state.buffers, vec![("momentum_buffer.0".to_string(), array![2.0, 4.0].into_dyn())]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerStateDict<T: Float> {
    /// The optimiser's name: `SGD`, `Adam` or `AdamW`.
    pub kind: String,
    /// The number of steps taken.
    pub step: u64,
    /// The number of parameters.
    pub params: usize,
    /// The buffers, named `name.i` for parameter `i` as in PyTorch (`momentum_buffer.0`,
    /// `exp_avg.3`, `exp_avg_sq.3`); a parameter that never had a gradient has none.
    pub buffers: Vec<(String, ArrayD<T>)>,
}

/// An optimiser whose state can be saved and loaded, to resume training exactly.
pub trait OptimizerState<T: Float> {
    /// A copy of the state.
    ///
    /// ```
    /// use slowgrad::optim::{Adam, OptimizerState};
    /// use slowgrad::Var;
    /// let opt = Adam::new(Var::new(ndarray::array![1.0f32]), 0.1);
    /// let state = opt.state_dict();
    /// assert_eq!((state.kind.as_str(), state.step, state.buffers.len()), ("Adam", 0, 0));
    /// ```
    fn state_dict(&self) -> OptimizerStateDict<T>;

    /// Replaces the state with `state`, taken from an optimiser of the same kind over
    /// parameters of the same shapes.
    ///
    /// **Errors** if the kind or the number of parameters differ, a buffer's name is not one
    /// of this optimiser's, a buffer's shape differs from its parameter's, or a parameter has
    /// only some of its buffers; nothing is changed then.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::optim::{Adam, Optimizer, OptimizerState, SGD};
    /// use slowgrad::Var;
    /// let w = Var::new(array![1.0, 2.0]);
    /// let mut adam = Adam::new(&w, 0.1);
    /// (&w * &w).sum().backward();
    /// adam.step();
    /// let mut other = Adam::new(Var::new(array![0.0, 0.0]), 0.1);
    /// other.load_state_dict(adam.state_dict()).unwrap();
    /// assert_eq!(other.state_dict(), adam.state_dict());
    /// let e = SGD::new(&w, 0.1).load_state_dict(adam.state_dict()).unwrap_err();
    /// assert_eq!(e.to_string(), "the checkpoint's `optimizer` is `Adam`, expected `SGD`");
    /// ```
    fn load_state_dict(&mut self, state: OptimizerStateDict<T>) -> Result<(), CheckpointError>;
}
