//! Learning-rate schedules: a function from the step (or epoch) number to a learning rate.

/// A learning-rate schedule: `opt.set_lr(schedule.lr(epoch))`.
///
/// ```
/// use slowgrad::optim::{CosineLR, LrSchedule};
///
/// /// A linear warm-up over `steps` steps, then `after`.
/// struct Warmup<S> {
///     steps: usize,
///     after: S,
/// }
///
/// impl<S: LrSchedule> LrSchedule for Warmup<S> {
///     fn lr(&self, step: usize) -> f64 {
///         let target = self.after.lr(step.saturating_sub(self.steps));
///         if step < self.steps { target * (step + 1) as f64 / self.steps as f64 } else { target }
///     }
/// }
///
/// let s = Warmup { steps: 4, after: CosineLR { base: 1.0, min: 0.0, total: 10 } };
/// assert_eq!((s.lr(0), s.lr(1), s.lr(3), s.lr(4), s.lr(14)), (0.25, 0.5, 1.0, 1.0, 0.0));
/// ```
pub trait LrSchedule {
    /// The learning rate at step `step` (counting from 0).
    ///
    /// ```
    /// use slowgrad::optim::{LrSchedule, StepLR};
    /// // the schedule is a plain function of the step: any order, any number of times
    /// let s: &dyn LrSchedule = &StepLR { base: 0.1, step_size: 2, gamma: 0.1 };
    /// let rates: Vec<f64> = (0..5).map(|t| s.lr(t)).collect();
    /// assert_eq!(rates[0..2], [0.1, 0.1]);
    /// assert!((rates[2] - 0.01).abs() < 1e-15 && (rates[4] - 0.001).abs() < 1e-15);
    /// assert_eq!(s.lr(3), rates[3]);
    /// ```
    fn lr(&self, step: usize) -> f64;
}

/// Multiplies the rate by `gamma` every `step_size` steps (`torch.optim.lr_scheduler.StepLR`).
///
/// ```
/// use slowgrad::optim::{LrSchedule, StepLR};
/// let s = StepLR { base: 1.0, step_size: 10, gamma: 0.5 };
/// assert_eq!((s.lr(0), s.lr(9), s.lr(10), s.lr(25)), (1.0, 1.0, 0.5, 0.25));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepLR {
    /// The initial rate.
    pub base: f64,
    /// Steps between reductions.
    pub step_size: usize,
    /// Factor of each reduction.
    pub gamma: f64,
}

impl LrSchedule for StepLR {
    fn lr(&self, step: usize) -> f64 {
        self.base * self.gamma.powi((step / self.step_size.max(1)) as i32)
    }
}

/// Cosine annealing from `base` at step 0 to `min` at step `total` and after
/// (`torch.optim.lr_scheduler.CosineAnnealingLR` without restarts). With `total` 0 the rate is
/// `min` from the start.
///
/// ```
/// use slowgrad::optim::{CosineLR, LrSchedule};
/// let s = CosineLR { base: 1.0, min: 0.0, total: 100 };
/// assert!((s.lr(0), s.lr(100)) == (1.0, 0.0) && (s.lr(50) - 0.5).abs() < 1e-12);
/// assert_eq!(CosineLR { base: 1.0, min: 0.1, total: 0 }.lr(0), 0.1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CosineLR {
    /// The initial rate.
    pub base: f64,
    /// The final rate.
    pub min: f64,
    /// Steps of the annealing.
    pub total: usize,
}

impl LrSchedule for CosineLR {
    fn lr(&self, step: usize) -> f64 {
        if step >= self.total {
            // also an annealing of no steps, which is over from the start
            return self.min;
        }
        let f = step as f64 / self.total as f64;
        self.min + 0.5 * (self.base - self.min) * (1.0 + (std::f64::consts::PI * f).cos())
    }
}
