//! Learning-rate schedules: a function from the step (or epoch) number to a learning rate.

/// A learning-rate schedule: `opt.set_lr(schedule.lr(epoch))`.
pub trait LrSchedule {
    /// The learning rate at step `step` (counting from 0).
    fn lr(&self, step: usize) -> f64;
}

/// Multiplies the rate by `gamma` every `step_size` steps (`torch.optim.lr_scheduler.StepLR`).
///
/// ```
/// use slowgrad_runtime::optim::{LrSchedule, StepLR};
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
/// (`torch.optim.lr_scheduler.CosineAnnealingLR` without restarts).
///
/// ```
/// use slowgrad_runtime::optim::{CosineLR, LrSchedule};
/// let s = CosineLR { base: 1.0, min: 0.0, total: 100 };
/// assert!((s.lr(0), s.lr(100)) == (1.0, 0.0) && (s.lr(50) - 0.5).abs() < 1e-12);
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
        let f = step.min(self.total) as f64 / self.total.max(1) as f64;
        self.min + 0.5 * (self.base - self.min) * (1.0 + (std::f64::consts::PI * f).cos())
    }
}
