//! Adam and AdamW.

use super::{ema, zero_all, Optimizer};
use crate::{Float, Var};
use ndarray::{ArrayD, Zip};

/// Adam's state, shared by [`Adam`] (L2 weight decay added to the gradient) and [`AdamW`]
/// (decoupled weight decay).
#[derive(Debug)]
struct AdamState<T: Float> {
    params: Vec<Var<T>>,
    lr: f64,
    betas: (f64, f64),
    eps: f64,
    weight_decay: f64,
    t: i32,
    m: Vec<Option<ArrayD<T>>>,
    v: Vec<Option<ArrayD<T>>>,
}

impl<T: Float> AdamState<T> {
    fn new(params: Vec<Var<T>>, lr: f64, weight_decay: f64) -> AdamState<T> {
        let n = params.len();
        AdamState { params, lr, betas: (0.9, 0.999), eps: 1e-8, weight_decay, t: 0, m: vec![None; n], v: vec![None; n] }
    }

    fn step(&mut self, decoupled: bool) {
        self.t += 1;
        let (b1, b2) = self.betas;
        let c1 = 1.0 - b1.powi(self.t);
        let c2 = 1.0 - b2.powi(self.t);
        let step = T::cast(self.lr / c1);
        let (sqrt_c2, eps) = (T::cast(c2.sqrt()), T::cast(self.eps));
        for ((p, m), v) in self.params.iter().zip(&mut self.m).zip(&mut self.v) {
            let Some(mut g) = p.grad() else { continue };
            if self.weight_decay != 0.0 {
                if decoupled {
                    let keep = T::cast(1.0 - self.lr * self.weight_decay);
                    p.update(|x| x.mapv_inplace(|e| e * keep));
                } else {
                    p.with_value(|x| g.scaled_add(T::cast(self.weight_decay), x));
                }
            }
            ema(m, &g, T::cast(b1), T::cast(1.0 - b1));
            g.mapv_inplace(|e| e * e);
            ema(v, &g, T::cast(b2), T::cast(1.0 - b2));
            let (m, v) = (m.as_ref().expect("set"), v.as_ref().expect("set"));
            p.update(|x| {
                Zip::from(x).and(m).and(v).for_each(|x, &m, &v| *x -= step * m / (v.sqrt() / sqrt_c2 + eps));
            });
        }
    }
}

macro_rules! adam_like {
    ($(#[$doc:meta])* $name:ident, $decoupled:expr, $default_wd:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<T: Float>(AdamState<T>);

        impl<T: Float> $name<T> {
            /// The optimiser with learning rate `lr`, betas (0.9, 0.999), eps 1e-8 and
            /// PyTorch's default weight decay.
            pub fn new(params: Vec<Var<T>>, lr: f64) -> $name<T> {
                $name(AdamState::new(params, lr, $default_wd))
            }

            /// Sets the decay rates of the moment estimates.
            pub fn betas(mut self, b1: f64, b2: f64) -> $name<T> {
                self.0.betas = (b1, b2);
                self
            }

            /// Sets the term added to the denominator.
            pub fn eps(mut self, eps: f64) -> $name<T> {
                self.0.eps = eps;
                self
            }

            /// Sets the weight decay.
            pub fn weight_decay(mut self, weight_decay: f64) -> $name<T> {
                self.0.weight_decay = weight_decay;
                self
            }
        }

        impl<T: Float> Optimizer for $name<T> {
            fn step(&mut self) {
                self.0.step($decoupled);
            }
            fn zero_grad(&self) {
                zero_all(&self.0.params);
            }
            fn lr(&self) -> f64 {
                self.0.lr
            }
            fn set_lr(&mut self, lr: f64) {
                self.0.lr = lr;
            }
        }
    };
}

adam_like!(
    /// Adam as in `torch.optim.Adam`: moment estimates with bias correction, and weight decay
    /// (default 0) added to the gradient.
    ///
    /// ```
    /// use slowgrad_runtime::optim::{Adam, Optimizer};
    /// use slowgrad_runtime::Var;
    /// let w = Var::new(ndarray::array![1.0f64].into_dyn());
    /// let mut opt = Adam::new(vec![w.clone()], 0.1);
    /// (&w * &w).sum().backward();
    /// opt.step();
    /// assert!((w.value()[0] - 0.9).abs() < 1e-6); // the first step moves by lr
    /// ```
    Adam,
    false,
    0.0
);
adam_like!(
    /// AdamW as in `torch.optim.AdamW`: Adam with decoupled weight decay (default 0.01),
    /// `p ← p·(1 − lr·wd)` before the Adam update.
    ///
    /// ```
    /// use slowgrad_runtime::optim::{AdamW, Optimizer};
    /// use slowgrad_runtime::Var;
    /// let w = Var::new(ndarray::array![1.0f64].into_dyn());
    /// let mut opt = AdamW::new(vec![w.clone()], 0.1).weight_decay(0.5);
    /// (&w * &w).sum().backward();
    /// opt.step();
    /// assert!((w.value()[0] - (0.95 - 0.1)).abs() < 1e-6);
    /// ```
    AdamW,
    true,
    0.01
);
