//! Stochastic gradient descent with momentum and weight decay.

use super::{zero_all, Optimizer};
use crate::{Float, Var};
use ndarray::ArrayD;

/// SGD as in `torch.optim.SGD`: `g = ∇ + wd·p`, `v = μ·v + g` (with `v = g` on the first
/// step), `p ← p − lr·v` (`v = g` without momentum).
///
/// ```
/// use slowgrad_runtime::optim::{Optimizer, SGD};
/// use slowgrad_runtime::Var;
/// let w = Var::new(ndarray::array![1.0].into_dyn());
/// let mut opt = SGD::new(vec![w.clone()], 0.5).momentum(0.9).weight_decay(0.0);
/// (&w * &w).sum().backward();
/// opt.step();
/// assert_eq!(w.value()[0], 0.0);
/// ```
#[derive(Debug)]
pub struct SGD<T: Float> {
    params: Vec<Var<T>>,
    lr: f64,
    momentum: f64,
    weight_decay: f64,
    velocity: Vec<Option<ArrayD<T>>>,
}

impl<T: Float> SGD<T> {
    /// Plain SGD with learning rate `lr`: `p ← p − lr·∇`.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad_runtime::optim::{Optimizer, SGD};
    /// use slowgrad_runtime::Var;
    /// let w = Var::new(array![1.0, -2.0].into_dyn());
    /// let mut opt = SGD::new(vec![w.clone()], 0.25);
    /// (&w * &w).sum().backward(); // gradient 2w = (2, −4)
    /// opt.step();
    /// assert_eq!(w.value(), array![0.5, -1.0].into_dyn());
    /// ```
    pub fn new(params: Vec<Var<T>>, lr: f64) -> SGD<T> {
        let velocity = vec![None; params.len()];
        SGD { params, lr, momentum: 0.0, weight_decay: 0.0, velocity }
    }

    /// Sets the momentum `μ`.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad_runtime::optim::{Optimizer, SGD};
    /// use slowgrad_runtime::Var;
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
    pub fn momentum(mut self, momentum: f64) -> SGD<T> {
        self.momentum = momentum;
        self
    }

    /// Sets the L2 weight decay `wd`: `wd·p` is added to the gradient.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad_runtime::optim::{Optimizer, SGD};
    /// use slowgrad_runtime::Var;
    /// let w = Var::new(array![2.0].into_dyn());
    /// let mut opt = SGD::new(vec![w.clone()], 0.5).weight_decay(0.1);
    /// w.mul_scalar(0.0).sum().backward(); // a zero gradient: only the decay acts
    /// opt.step();
    /// assert_eq!(w.value()[0], 2.0 - 0.5 * 0.1 * 2.0);
    /// ```
    pub fn weight_decay(mut self, weight_decay: f64) -> SGD<T> {
        self.weight_decay = weight_decay;
        self
    }
}

impl<T: Float> Optimizer for SGD<T> {
    fn step(&mut self) {
        let (lr, mu, wd) = (T::cast(self.lr), T::cast(self.momentum), T::cast(self.weight_decay));
        for (p, v) in self.params.iter().zip(&mut self.velocity) {
            if self.weight_decay == 0.0 && self.momentum == 0.0 {
                // plain SGD reads the gradient where it is
                p.with_grad(|g| {
                    if let Some(g) = g {
                        p.update(|x| x.scaled_add(-lr, g));
                    }
                });
                continue;
            }
            let Some(mut g) = p.grad() else { continue };
            if self.weight_decay != 0.0 {
                p.with_value(|x| g.scaled_add(wd, x));
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
        zero_all(&self.params);
    }

    fn lr(&self) -> f64 {
        self.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
}
