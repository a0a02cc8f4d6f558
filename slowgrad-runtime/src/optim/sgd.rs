//! Stochastic gradient descent with momentum and weight decay.

use super::{zero_all, OptimError, Optimizer, OptimizerState, OptimizerStateDict, ParamGroup, Params};
use crate::checkpoint::CheckpointError;
use crate::{Float, IntoParams};
use ndarray::ArrayD;

/// SGD as in `torch.optim.SGD`: `g = ∇ + wd·p`, `v = μ·v + g` (with `v = g` on the first
/// step), `p ← p − lr·v` (`v = g` without momentum).
///
/// ```
/// use slowgrad::optim::{Optimizer, SGD};
/// use slowgrad::Var;
/// let w = Var::new(ndarray::array![1.0].into_dyn());
/// let mut opt = SGD::new(vec![w.clone()], 0.5).momentum(0.9).weight_decay(0.0);
/// (&w * &w).sum().backward();
/// opt.step();
/// assert_eq!(w.value()[0], 0.0);
/// ```
#[derive(Debug)]
pub struct SGD<T: Float> {
    params: Params<T>,
    lr: f64,
    momentum: f64,
    weight_decay: f64,
    velocity: Vec<Option<ArrayD<T>>>,
    steps: u64,
}

impl<T: Float> SGD<T> {
    /// Plain SGD with learning rate `lr`: `p ← p − lr·∇`.
    ///
    /// `params` is any list of parameters ([`IntoParams`]): `model.parameters()`, `&w`,
    /// `[w1, w2]`, `(&w, &b)`.
    ///
    /// **Panics** with the message of the [`OptimError`] that [`SGD::try_new`] returns.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::optim::{Optimizer, SGD};
    /// use slowgrad::Var;
    /// let w = Var::new(array![1.0, -2.0].into_dyn());
    /// let mut opt = SGD::new(vec![w.clone()], 0.25);
    /// (&w * &w).sum().backward(); // gradient 2w = (2, −4)
    /// opt.step();
    /// assert_eq!(w.value(), array![0.5, -1.0].into_dyn());
    /// ```
    #[track_caller]
    pub fn new(params: impl IntoParams<T>, lr: f64) -> SGD<T> {
        SGD::try_new(params, lr).unwrap_or_else(|e| panic!("SGD: {e}"))
    }

    /// Plain SGD with learning rate `lr`, checking its arguments.
    ///
    /// **Errors** if `lr` is NaN, infinite or negative, a parameter is given twice, or a
    /// parameter is not a leaf.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::optim::{OptimError, SGD};
    /// use slowgrad::Var;
    /// let w = Var::new(array![1.0]);
    /// assert_eq!(SGD::try_new(&w, -0.1).unwrap_err(), OptimError::LearningRate { lr: -0.1, group: None });
    /// let e = SGD::try_new(w.mul_scalar(2.0), 0.1).unwrap_err();
    /// assert_eq!(e, OptimError::NotLeaf { index: 0, shape: vec![1] });
    /// assert!(SGD::try_new(&w, 0.1).is_ok());
    /// ```
    pub fn try_new(params: impl IntoParams<T>, lr: f64) -> Result<SGD<T>, OptimError> {
        SGD::try_with_groups(vec![ParamGroup::new(params)], lr)
    }

    /// SGD over parameter groups, each with its own learning rate and weight decay where given
    /// (`lr` and [`SGD::weight_decay`] are the defaults).
    ///
    /// **Panics** with the message of the [`OptimError`] that [`SGD::try_with_groups`] returns.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::optim::{Optimizer, ParamGroup, SGD};
    /// use slowgrad::Var;
    /// let (a, b) = (Var::new(array![1.0]), Var::new(array![1.0]));
    /// let mut opt = SGD::with_groups(vec![ParamGroup::new(&a), ParamGroup::new(&b).lr(0.5)], 0.25);
    /// (&a.sum() + &b.sum()).backward(); // gradients 1
    /// opt.step();
    /// assert_eq!((a.value()[0], b.value()[0]), (0.75, 0.5));
    /// ```
    #[track_caller]
    pub fn with_groups(groups: Vec<ParamGroup<T>>, lr: f64) -> SGD<T> {
        SGD::try_with_groups(groups, lr).unwrap_or_else(|e| panic!("SGD: {e}"))
    }

    /// SGD over parameter groups, checking its arguments.
    ///
    /// **Errors** as [`SGD::try_new`], and if a group's learning rate or weight decay is NaN,
    /// infinite or negative.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::optim::{OptimError, ParamGroup, SGD};
    /// use slowgrad::Var;
    /// let (a, b) = (Var::new(array![1.0]), Var::new(array![1.0]));
    /// let groups = vec![ParamGroup::new(&a), ParamGroup::new(&b).lr(f64::NAN)];
    /// let e = SGD::try_with_groups(groups, 0.1).unwrap_err();
    /// assert_eq!(e.to_string(), "the learning rate of parameter group 1 is NaN: it must be a finite number ≥ 0");
    /// ```
    pub fn try_with_groups(groups: Vec<ParamGroup<T>>, lr: f64) -> Result<SGD<T>, OptimError> {
        let params = Params::new(groups, lr)?;
        let velocity = vec![None; params.vars.len()];
        Ok(SGD { params, lr, momentum: 0.0, weight_decay: 0.0, velocity, steps: 0 })
    }

    /// Sets the momentum `μ`.
    ///
    /// **Panics** if `momentum` is not a finite number ≥ 0.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::optim::{Optimizer, SGD};
    /// use slowgrad::Var;
    /// let w = Var::new(array![0.0].into_dyn());
    /// let mut opt = SGD::new(vec![w.clone()], 0.5).momentum(0.5);
    /// for _ in 0..2 {
    ///     opt.zero_grad();
    ///     w.mul_scalar(4.0).sum().backward(); // a constant gradient 4
    ///     opt.step();
    /// }
    /// // v = 4, then 0.5·4 + 4 = 6: w = −0.5·4 − 0.5·6
    /// assert_eq!(w.value()[0], -5.0);
    /// ```
    #[track_caller]
    pub fn momentum(mut self, momentum: f64) -> SGD<T> {
        super::check_option("momentum", momentum, f64::INFINITY);
        self.momentum = momentum;
        self
    }

    /// Sets the L2 weight decay `wd`: `wd·p` is added to the gradient (for the parameter
    /// groups without a weight decay of their own).
    ///
    /// **Panics** if `weight_decay` is not a finite number ≥ 0.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::optim::{Optimizer, SGD};
    /// use slowgrad::Var;
    /// let w = Var::new(array![2.0].into_dyn());
    /// let mut opt = SGD::new(vec![w.clone()], 0.5).weight_decay(0.1);
    /// w.mul_scalar(0.0).sum().backward(); // a zero gradient: only the decay acts
    /// opt.step();
    /// assert_eq!(w.value()[0], 2.0 - 0.5 * 0.1 * 2.0);
    /// ```
    #[track_caller]
    pub fn weight_decay(mut self, weight_decay: f64) -> SGD<T> {
        if let Err(e) = super::check_weight_decay(weight_decay, None) {
            panic!("SGD: {e}");
        }
        self.weight_decay = weight_decay;
        self
    }
}

impl<T: Float> Optimizer for SGD<T> {
    fn step(&mut self) {
        self.steps += 1;
        let mu = T::cast(self.momentum);
        for (i, (p, v)) in self.params.vars.iter().zip(&mut self.velocity).enumerate() {
            let (lr, wd) = self.params.options(i, self.lr, self.weight_decay);
            let (lr, wd_t) = (T::cast(lr), T::cast(wd));
            if wd == 0.0 && self.momentum == 0.0 {
                // plain SGD reads the gradient where it is
                p.with_grad(|g| {
                    if let Some(g) = g {
                        p.update(|x| x.scaled_add(-lr, g));
                    }
                });
                continue;
            }
            let Some(mut g) = p.grad() else { continue };
            if wd != 0.0 {
                p.with_value(|x| g.scaled_add(wd_t, x));
            }
            let dir = if self.momentum != 0.0 {
                super::ema(v, &g, mu, T::one());
                v.as_ref().expect("just set")
            } else {
                &g
            };
            p.update(|x| x.scaled_add(-lr, dir));
        }
    }

    fn zero_grad(&self) {
        zero_all(&self.params.vars);
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    #[track_caller]
    fn set_lr(&mut self, lr: f64) {
        if let Err(e) = super::check_lr(lr, None) {
            panic!("SGD: {e}");
        }
        self.lr = lr;
    }
}

impl<T: Float> OptimizerState<T> for SGD<T> {
    fn state_dict(&self) -> OptimizerStateDict<T> {
        let buffers = (self.velocity.iter().enumerate())
            .filter_map(|(i, v)| Some((format!("momentum_buffer.{i}"), v.clone()?)))
            .collect();
        OptimizerStateDict { kind: "SGD".into(), step: self.steps, params: self.params.vars.len(), buffers }
    }

    fn load_state_dict(&mut self, state: OptimizerStateDict<T>) -> Result<(), CheckpointError> {
        let steps = state.step;
        let mut slots = self.params.load_buffers(state, "SGD", &["momentum_buffer"])?;
        self.velocity = slots.pop().expect("one buffer");
        self.steps = steps;
        Ok(())
    }
}
