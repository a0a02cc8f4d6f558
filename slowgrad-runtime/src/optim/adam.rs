//! Adam and AdamW.

use super::{ema, zero_all, OptimError, Optimizer, OptimizerState, OptimizerStateDict, ParamGroup, Params};
use crate::checkpoint::CheckpointError;
use crate::{Float, IntoParams};
use ndarray::{ArrayD, Zip};

/// Adam's state, shared by [`Adam`] (L2 weight decay added to the gradient) and [`AdamW`]
/// (decoupled weight decay).
#[derive(Debug)]
struct AdamState<T: Float> {
    params: Params<T>,
    lr: f64,
    betas: (f64, f64),
    eps: f64,
    weight_decay: f64,
    t: i32,
    m: Vec<Option<ArrayD<T>>>,
    v: Vec<Option<ArrayD<T>>>,
}

impl<T: Float> AdamState<T> {
    fn new(groups: Vec<ParamGroup<T>>, lr: f64, weight_decay: f64) -> Result<AdamState<T>, OptimError> {
        let params = Params::new(groups, lr)?;
        let n = params.vars.len();
        Ok(AdamState {
            params,
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay,
            t: 0,
            m: vec![None; n],
            v: vec![None; n],
        })
    }

    fn step(&mut self, decoupled: bool) {
        self.t += 1;
        let (b1, b2) = self.betas;
        let c1 = 1.0 - b1.powi(self.t);
        let c2 = 1.0 - b2.powi(self.t);
        let (sqrt_c2, eps) = (T::cast(c2.sqrt()), T::cast(self.eps));
        for (i, (p, (m, v))) in self.params.vars.iter().zip(self.m.iter_mut().zip(&mut self.v)).enumerate() {
            let Some(mut g) = p.grad() else { continue };
            let (lr, weight_decay) = self.params.options(i, self.lr, self.weight_decay);
            let step = T::cast(lr / c1);
            if weight_decay != 0.0 {
                if decoupled {
                    let keep = T::cast(1.0 - lr * weight_decay);
                    p.update(|x| x.mapv_inplace(|e| e * keep));
                } else {
                    p.with_value(|x| g.scaled_add(T::cast(weight_decay), x));
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

    fn state_dict(&self, kind: &str) -> OptimizerStateDict<T> {
        let mut buffers = Vec::new();
        for (i, (m, v)) in self.m.iter().zip(&self.v).enumerate() {
            if let (Some(m), Some(v)) = (m, v) {
                buffers.push((format!("exp_avg.{i}"), m.clone()));
                buffers.push((format!("exp_avg_sq.{i}"), v.clone()));
            }
        }
        OptimizerStateDict { kind: kind.into(), step: self.t as u64, params: self.params.vars.len(), buffers }
    }

    fn load_state_dict(&mut self, state: OptimizerStateDict<T>, kind: &str) -> Result<(), CheckpointError> {
        let step = i32::try_from(state.step).map_err(|_| CheckpointError::Metadata {
            key: "step".into(),
            expected: format!("at most {}", i32::MAX),
            found: state.step.to_string(),
        })?;
        let mut slots = self.params.load_buffers(state, kind, &["exp_avg", "exp_avg_sq"])?;
        self.v = slots.pop().expect("two buffers");
        self.m = slots.pop().expect("two buffers");
        self.t = step;
        Ok(())
    }
}

/// The documentation and name of the type, whether the weight decay is decoupled, its default,
/// then the documentation of `new` and of `weight_decay`, which differ between Adam and AdamW;
/// `betas` and `eps` share theirs.
macro_rules! adam_like {
    (
        $(#[$doc:meta])* $name:ident, $decoupled:expr, $default_wd:expr,
        new: $(#[$new_doc:meta])*
        weight_decay: $(#[$wd_doc:meta])*
    ) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name<T: Float>(AdamState<T>);

        impl<T: Float> $name<T> {
            $(#[$new_doc])*
            #[track_caller]
            pub fn new(params: impl IntoParams<T>, lr: f64) -> $name<T> {
                $name::try_new(params, lr).unwrap_or_else(|e| panic!("{}: {e}", stringify!($name)))
            }

            /// The optimiser with learning rate `lr`, checking its arguments.
            ///
            /// **Errors** if `lr` is NaN, infinite or negative, a parameter is given twice, or
            /// a parameter is not a leaf.
            ///
            /// ```
            /// use ndarray::array;
            #[doc = concat!("use slowgrad::optim::{", stringify!($name), ", OptimError};")]
            /// use slowgrad::Var;
            /// let w = Var::new(array![1.0]);
            #[doc = concat!("let e = ", stringify!($name), "::try_new(&w, f64::INFINITY).unwrap_err();")]
            /// assert_eq!(e, OptimError::LearningRate { lr: f64::INFINITY, group: None });
            #[doc = concat!("let e = ", stringify!($name), "::try_new(vec![w.as_dyn(), w.as_dyn()], 0.1).unwrap_err();")]
            /// assert_eq!(e, OptimError::DuplicateParameter { index: 1, first: 0, shape: vec![1] });
            /// ```
            pub fn try_new(params: impl IntoParams<T>, lr: f64) -> Result<$name<T>, OptimError> {
                $name::try_with_groups(vec![ParamGroup::new(params)], lr)
            }

            /// The optimiser over parameter groups, each with its own learning rate and weight
            /// decay where given (`lr` and the optimiser's weight decay are the defaults).
            ///
            #[doc = concat!("**Panics** with the message of the [`OptimError`] that [`", stringify!($name), "::try_with_groups`] returns.")]
            ///
            /// ```
            /// use ndarray::array;
            #[doc = concat!("use slowgrad::optim::{", stringify!($name), ", Optimizer, ParamGroup};")]
            /// use slowgrad::Var;
            /// let (a, b) = (Var::new(array![1.0f64]), Var::new(array![1.0]));
            #[doc = concat!("let mut opt = ", stringify!($name), "::with_groups(vec![ParamGroup::new(&a).weight_decay(0.0), ParamGroup::new(&b).lr(0.5).weight_decay(0.0)], 0.1);")]
            /// (&a.sum() + &b.sum()).backward();
            /// opt.step();
            /// // a first step moves each parameter by its group's learning rate
            /// assert!((a.value()[0] - 0.9).abs() < 1e-6 && (b.value()[0] - 0.5).abs() < 1e-6);
            /// ```
            #[track_caller]
            pub fn with_groups(groups: Vec<ParamGroup<T>>, lr: f64) -> $name<T> {
                $name::try_with_groups(groups, lr).unwrap_or_else(|e| panic!("{}: {e}", stringify!($name)))
            }

            /// The optimiser over parameter groups, checking its arguments.
            ///
            #[doc = concat!("**Errors** as [`", stringify!($name), "::try_new`], and if a group's learning rate or weight decay is NaN, infinite or negative.")]
            ///
            /// ```
            /// use ndarray::array;
            #[doc = concat!("use slowgrad::optim::{", stringify!($name), ", OptimError, ParamGroup};")]
            /// use slowgrad::Var;
            /// let w = Var::new(array![1.0]);
            #[doc = concat!("let e = ", stringify!($name), "::try_with_groups(vec![ParamGroup::new(&w).weight_decay(-1.0)], 0.1).unwrap_err();")]
            /// assert_eq!(e, OptimError::WeightDecay { weight_decay: -1.0, group: Some(0) });
            /// ```
            pub fn try_with_groups(groups: Vec<ParamGroup<T>>, lr: f64) -> Result<$name<T>, OptimError> {
                AdamState::new(groups, lr, $default_wd).map($name)
            }

            /// Sets the decay rates `(β₁, β₂)` of the moment estimates.
            ///
            /// **Panics** unless both are in `[0, 1)`.
            ///
            /// With `(0, 0)` there is no memory: every step moves each parameter by about `lr`
            /// against the sign of its current gradient.
            ///
            /// ```
            /// use ndarray::array;
            #[doc = concat!("use slowgrad::optim::{", stringify!($name), ", Optimizer};")]
            /// use slowgrad::Var;
            /// let w = Var::new(array![0.0f64].into_dyn());
            #[doc = concat!("let mut opt = ", stringify!($name), "::new(vec![w.clone()], 0.1).betas(0.0, 0.0).weight_decay(0.0);")]
            /// for c in [1.0, -1.0] {
            ///     opt.zero_grad();
            ///     w.mul_scalar(c).sum().backward(); // gradient c
            ///     opt.step();
            /// }
            /// // one step down and one step up: back at 0 (with the default betas, the
            /// // first gradient would still weigh on the second step)
            /// assert!(w.value()[0].abs() < 1e-6);
            /// ```
            #[track_caller]
            pub fn betas(mut self, b1: f64, b2: f64) -> $name<T> {
                super::check_option("β₁", b1, 1.0);
                super::check_option("β₂", b2, 1.0);
                self.0.betas = (b1, b2);
                self
            }

            /// Sets the term `ε` added to the denominator: a step is `lr·m̂ / (√v̂ + ε)`.
            ///
            /// **Panics** if `eps` is not a finite number ≥ 0.
            ///
            /// ```
            /// use ndarray::array;
            #[doc = concat!("use slowgrad::optim::{", stringify!($name), ", Optimizer};")]
            /// use slowgrad::Var;
            /// let w = Var::new(array![1.0f64].into_dyn());
            #[doc = concat!("let mut opt = ", stringify!($name), "::new(vec![w.clone()], 0.3).eps(1.0).weight_decay(0.0);")]
            /// (&w * &w).sum().backward(); // gradient 2
            /// opt.step();
            /// // the first step is lr·g / (|g| + ε) = 0.3 · 2 / 3
            /// assert!((w.value()[0] - 0.8).abs() < 1e-12);
            /// ```
            #[track_caller]
            pub fn eps(mut self, eps: f64) -> $name<T> {
                super::check_option("ε", eps, f64::INFINITY);
                self.0.eps = eps;
                self
            }

            $(#[$wd_doc])*
            #[track_caller]
            pub fn weight_decay(mut self, weight_decay: f64) -> $name<T> {
                if let Err(e) = super::check_weight_decay(weight_decay, None) {
                    panic!("{}: {e}", stringify!($name));
                }
                self.0.weight_decay = weight_decay;
                self
            }
        }

        impl<T: Float> Optimizer for $name<T> {
            fn step(&mut self) {
                self.0.step($decoupled);
            }
            fn zero_grad(&self) {
                zero_all(&self.0.params.vars);
            }
            fn lr(&self) -> f64 {
                self.0.lr
            }
            #[track_caller]
            fn set_lr(&mut self, lr: f64) {
                if let Err(e) = super::check_lr(lr, None) {
                    panic!("{}: {e}", stringify!($name));
                }
                self.0.lr = lr;
            }
        }

        impl<T: Float> OptimizerState<T> for $name<T> {
            fn state_dict(&self) -> OptimizerStateDict<T> {
                self.0.state_dict(stringify!($name))
            }
            fn load_state_dict(&mut self, state: OptimizerStateDict<T>) -> Result<(), CheckpointError> {
                self.0.load_state_dict(state, stringify!($name))
            }
        }
    };
}

adam_like!(
    /// Adam as in `torch.optim.Adam`: moment estimates with bias correction, and weight decay
    /// (default 0) added to the gradient.
    ///
    /// ```
    /// use slowgrad::optim::{Adam, Optimizer};
    /// use slowgrad::Var;
    /// let w = Var::new(ndarray::array![1.0f64].into_dyn());
    /// let mut opt = Adam::new(vec![w.clone()], 0.1);
    /// (&w * &w).sum().backward();
    /// opt.step();
    /// assert!((w.value()[0] - 0.9).abs() < 1e-6); // the first step moves by lr
    /// ```
    Adam,
    false,
    0.0,
    new:
    /// The optimiser with learning rate `lr`, betas (0.9, 0.999), eps 1e-8 and no weight decay
    /// (PyTorch's defaults).
    ///
    /// `params` is any list of parameters ([`IntoParams`]): `model.parameters()`, `&w`,
    /// `[w1, w2]`, `(&w, &b)`.
    ///
    /// **Panics** with the message of the [`OptimError`] that [`Adam::try_new`] returns.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::optim::{Adam, Optimizer};
    /// use slowgrad::Var;
    /// let w = Var::new(array![1.0f64, -3.0].into_dyn());
    /// let mut opt = Adam::new(vec![w.clone()], 0.1);
    /// assert_eq!(opt.lr(), 0.1);
    /// (&w * &w).sum().backward(); // gradient (2, −6)
    /// opt.step();
    /// // the first step moves every element by lr against its gradient's sign, whatever
    /// // the gradient's size; there is no weight decay
    /// let v = w.value();
    /// assert!((v[0] - 0.9).abs() < 1e-6 && (v[1] + 2.9).abs() < 1e-6);
    /// ```
    weight_decay:
    /// Sets the L2 weight decay `wd`: `wd·p` is added to the gradient before the moment
    /// estimates, so it is normalised with it (see [`AdamW`] for decoupled decay). It applies
    /// to the parameter groups without a weight decay of their own.
    ///
    /// **Panics** if `weight_decay` is not a finite number ≥ 0.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::optim::{Adam, Optimizer};
    /// use slowgrad::Var;
    /// let w = Var::new(array![1.0f64].into_dyn());
    /// let mut opt = Adam::new(vec![w.clone()], 0.1).weight_decay(0.5);
    /// w.mul_scalar(0.0).sum().backward(); // a zero gradient: only the decay acts
    /// opt.step();
    /// // the decay term 0.5 is the whole gradient, and a first step moves by lr
    /// assert!((w.value()[0] - 0.9).abs() < 1e-6);
    /// ```
);
adam_like!(
    /// AdamW as in `torch.optim.AdamW`: Adam with decoupled weight decay (default 0.01),
    /// `p ← p·(1 − lr·wd)` before the Adam update.
    ///
    /// ```
    /// use slowgrad::optim::{AdamW, Optimizer};
    /// use slowgrad::Var;
    /// let w = Var::new(ndarray::array![1.0f64].into_dyn());
    /// let mut opt = AdamW::new(vec![w.clone()], 0.1).weight_decay(0.5);
    /// (&w * &w).sum().backward();
    /// opt.step();
    /// assert!((w.value()[0] - (0.95 - 0.1)).abs() < 1e-6);
    /// ```
    AdamW,
    true,
    0.01,
    new:
    /// The optimiser with learning rate `lr`, betas (0.9, 0.999), eps 1e-8 and weight decay
    /// 0.01 (PyTorch's defaults).
    ///
    /// `params` is any list of parameters ([`IntoParams`]): `model.parameters()`, `&w`,
    /// `[w1, w2]`, `(&w, &b)`.
    ///
    /// **Panics** with the message of the [`OptimError`] that [`AdamW::try_new`] returns.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::optim::{AdamW, Optimizer};
    /// use slowgrad::Var;
    /// let w = Var::new(array![1.0f64, -3.0].into_dyn());
    /// let mut opt = AdamW::new(vec![w.clone()], 0.1);
    /// assert_eq!(opt.lr(), 0.1);
    /// (&w * &w).sum().backward(); // gradient (2, −6)
    /// opt.step();
    /// // the default decay 0.01 scales by 1 − 0.1·0.01, then the first Adam step moves
    /// // every element by lr against its gradient's sign
    /// let v = w.value();
    /// assert!((v[0] - (0.999 - 0.1)).abs() < 1e-6 && (v[1] - (-2.997 + 0.1)).abs() < 1e-6);
    /// ```
    weight_decay:
    /// Sets the decoupled weight decay `wd`: `p ← p·(1 − lr·wd)` at each step, apart from the
    /// gradient's moment estimates. It applies to the parameter groups without a weight decay
    /// of their own.
    ///
    /// **Panics** if `weight_decay` is not a finite number ≥ 0.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::optim::{AdamW, Optimizer};
    /// use slowgrad::Var;
    /// let w = Var::new(array![1.0f64].into_dyn());
    /// let mut opt = AdamW::new(vec![w.clone()], 0.1).weight_decay(0.5);
    /// w.mul_scalar(0.0).sum().backward(); // a zero gradient: only the decay acts
    /// opt.step();
    /// // unlike Adam's, the decay is not normalised: it scales w by 1 − 0.1·0.5
    /// assert!((w.value()[0] - 0.95).abs() < 1e-12);
    /// ```
);
