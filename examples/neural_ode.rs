//! A neural ODE, dz/dt = W₂ tanh(W₁ z + b₁), integrated with RK4 and trained to rotate points
//! by a quarter turn. The gradient is computed two ways:
//!
//! * backpropagation through every solver step (the tape records all RK4 stages), and
//! * the adjoint method, written as a custom [`Function`]: the forward integrates without a
//!   graph; the backward integrates z, the adjoint a = dL/dz and the parameter gradients
//!   backwards in time, evaluating aᵀ ∂f/∂z and aᵀ ∂f/∂θ with vector-Jacobian products.
//!
//! Both gradients are compared, with the time and the peak heap memory of each.
//!
//! Run: `cargo run --release --example neural_ode`

use ndarray::{ArrayD, ArrayViewD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use slowgrad::function::{apply, Function, Saved};
use slowgrad::{einsum, enable_grad, gradients, no_grad, BackwardOptions, Var};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

struct Counting;
static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(now, Ordering::Relaxed);
        // SAFETY: same layout contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: ptr was allocated by System with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const STEPS: usize = 20;
const T1: f64 = 1.0;

/// f(z) = W₂ tanh(W₁ z + b₁) for a batch z (b × 2).
fn dynamics(z: &Var<f64>, p: &[Var<f64>]) -> Var<f64> {
    let h = (&einsum("bi,hi->bh", &[z, &p[0]]).unwrap() + &p[1]).tanh();
    einsum("bh,oh->bo", &[&h, &p[2]]).unwrap()
}

fn rk4_step(z: &Var<f64>, p: &[Var<f64>], h: f64) -> Var<f64> {
    let k1 = dynamics(z, p);
    let k2 = dynamics(&(z + &k1.mul_scalar(h / 2.0)), p);
    let k3 = dynamics(&(z + &k2.mul_scalar(h / 2.0)), p);
    let k4 = dynamics(&(z + &k3.mul_scalar(h)), p);
    let sum = &(&k1 + &k2.mul_scalar(2.0)) + &(&k3.mul_scalar(2.0) + &k4);
    z + &sum.mul_scalar(h / 6.0)
}

/// Integrates from 0 to T1, recording every stage on the tape.
fn solve(z0: &Var<f64>, p: &[Var<f64>]) -> Var<f64> {
    let mut z = z0.clone();
    for _ in 0..STEPS {
        z = rk4_step(&z, p, T1 / STEPS as f64);
    }
    z
}

/// The adjoint method as a custom function of (z0, W₁, b₁, W₂).
struct OdeAdjoint;

fn consts(xs: &[ArrayD<f64>]) -> Vec<Var<f64>> {
    xs.iter().map(|x| Var::constant(x.clone())).collect()
}

/// The augmented dynamics, for the state (z, a, g₁, g₂, g₃), run backwards in time:
/// dz/dt = f, da/dt = -aᵀ ∂f/∂z, dgθ/dt = -aᵀ ∂f/∂θ.
fn augmented(state: &[ArrayD<f64>]) -> Vec<ArrayD<f64>> {
    // backward functions run without recording; this local vector-Jacobian product needs it
    enable_grad(|| augmented_vjp(state))
}

fn augmented_vjp(state: &[ArrayD<f64>]) -> Vec<ArrayD<f64>> {
    let z = Var::new(state[0].clone());
    let params: Vec<Var<f64>> = state[5..].iter().map(|p| Var::new(p.clone())).collect();
    let f = dynamics(&z, &params);
    let a = Var::constant(state[1].clone());
    let mut targets = vec![&z];
    targets.extend(params.iter());
    let vjps = gradients(&f, &targets, Some(&a), BackwardOptions::default()).expect("seed has f's shape");
    let mut out = vec![f.value()];
    for (v, t) in vjps.into_iter().zip(&targets) {
        out.push(v.map_or_else(|| ArrayD::zeros(IxDyn(&t.shape())), |v| -v.value()));
    }
    // parameters do not change
    out.extend(state[5..].iter().map(|p| ArrayD::zeros(p.raw_dim())));
    out
}

fn rk4_arrays(state: &[ArrayD<f64>], h: f64, f: impl Fn(&[ArrayD<f64>]) -> Vec<ArrayD<f64>>) -> Vec<ArrayD<f64>> {
    let add = |s: &[ArrayD<f64>], k: &[ArrayD<f64>], c: f64| -> Vec<ArrayD<f64>> {
        s.iter().zip(k).map(|(x, d)| x + &(d * c)).collect()
    };
    let k1 = f(state);
    let k2 = f(&add(state, &k1, h / 2.0));
    let k3 = f(&add(state, &k2, h / 2.0));
    let k4 = f(&add(state, &k3, h));
    state
        .iter()
        .enumerate()
        .map(|(i, x)| x + &((&k1[i] + &(&k2[i] * 2.0) + &(&k3[i] * 2.0) + &k4[i]) * (h / 6.0)))
        .collect()
}

impl Function<f64> for OdeAdjoint {
    fn name(&self) -> &'static str {
        "ode_adjoint"
    }
    fn forward(&self, x: &[ArrayViewD<'_, f64>], saved: &mut Saved<f64>) -> ArrayD<f64> {
        let owned: Vec<ArrayD<f64>> = x.iter().map(|v| v.to_owned()).collect();
        let z1 = no_grad(|| {
            let vars = consts(&owned);
            solve(&vars[0], &vars[1..]).value()
        });
        saved.push(z1.clone());
        z1
    }
    fn backward(&self, saved: &Saved<f64>, g: &Var<f64>, x: &[Var<f64>], _: &Var<f64>) -> Vec<Option<Var<f64>>> {
        let params: Vec<ArrayD<f64>> = x[1..].iter().map(|p| p.value()).collect();
        let mut state = vec![saved.get(0).clone(), g.value()];
        state.extend(params.iter().map(|p| ArrayD::zeros(p.raw_dim())));
        state.extend(params.iter().cloned());
        for _ in 0..STEPS {
            state = rk4_arrays(&state, -T1 / STEPS as f64, augmented);
        }
        // a(0) = dL/dz0; the integrals of -aᵀ∂f/∂θ from T1 back to 0 are dL/dθ
        let mut grads = vec![Some(Var::constant(state[1].clone()))];
        grads.extend(state[2..5].iter().map(|g| Some(Var::constant(g.clone()))));
        grads
    }
}

fn mse(pred: &Var<f64>, target: &Var<f64>) -> Var<f64> {
    let d = pred - target;
    (&d * &d).mean().as_dyn()
}

fn main() {
    let mut rng = StdRng::seed_from_u64(0);
    let (batch, hidden) = (64, 16);
    let mut init =
        |shape: &[usize], scale: f64| ArrayD::from_shape_fn(IxDyn(shape), |_| rng.random_range(-scale..scale));
    let z0 = init(&[batch, 2], 1.0);
    // target: a quarter turn, (x, y) -> (-y, x)
    let target =
        ArrayD::from_shape_fn(IxDyn(&[batch, 2]), |ix| if ix[1] == 0 { -z0[[ix[0], 1]] } else { z0[[ix[0], 0]] });
    let params: Vec<Var<f64>> =
        vec![Var::new(init(&[hidden, 2], 0.7)), Var::new(init(&[hidden], 0.1)), Var::new(init(&[2, hidden], 0.25))];
    let z0v = Var::constant(z0.clone());
    let tv = Var::constant(target);

    // 1. the same gradient two ways
    let grads_of = |adjoint: bool| {
        for p in &params {
            p.zero_grad();
        }
        CURRENT.store(0, Ordering::Relaxed);
        PEAK.store(0, Ordering::Relaxed);
        let start = Instant::now();
        let pred =
            if adjoint { apply(OdeAdjoint, &[&z0v, &params[0], &params[1], &params[2]]) } else { solve(&z0v, &params) };
        let loss = mse(&pred, &tv);
        loss.backward();
        let time = start.elapsed();
        let peak = PEAK.load(Ordering::Relaxed);
        let grads: Vec<ArrayD<f64>> = params.iter().map(|p| p.grad().expect("gradient")).collect();
        (loss.item(), grads, time, peak)
    };
    let (loss_bp, g_bp, t_bp, m_bp) = grads_of(false);
    let (loss_adj, g_adj, t_adj, m_adj) = grads_of(true);
    println!("neural ODE: batch {batch}, hidden {hidden}, RK4 with {STEPS} steps on [0, {T1}]");
    println!("loss at init: {loss_bp:.6} (backprop) {loss_adj:.6} (adjoint)");
    let mut worst: f64 = 0.0;
    for (i, (a, b)) in g_bp.iter().zip(&g_adj).enumerate() {
        let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let diff = a.iter().zip(b.iter()).fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        worst = worst.max(diff / scale);
        println!("  param {i} {:?}: max |backprop - adjoint| / max |backprop| = {:.2e}", a.shape(), diff / scale);
    }
    println!(
        "backprop through the solver: {:>8.2} ms, peak heap {:>8.1} KiB",
        t_bp.as_secs_f64() * 1e3,
        m_bp as f64 / 1024.0
    );
    println!(
        "adjoint method:              {:>8.2} ms, peak heap {:>8.1} KiB",
        t_adj.as_secs_f64() * 1e3,
        m_adj as f64 / 1024.0
    );
    assert!(worst < 1e-4, "the two gradients disagree: {worst:e}");

    // 2. train with the adjoint gradient
    let lr = 0.5;
    let start = Instant::now();
    for step in 0..=200 {
        for p in &params {
            p.zero_grad();
        }
        let loss = mse(&apply(OdeAdjoint, &[&z0v, &params[0], &params[1], &params[2]]), &tv);
        loss.backward();
        for p in &params {
            let g = p.grad().expect("gradient");
            p.update(|v| *v -= &(g * lr));
        }
        if step % 40 == 0 {
            println!("step {step:>3}: loss {:.6}", loss.item());
        }
    }
    println!("trained 200 steps in {:.2} s", start.elapsed().as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;
    use slowgrad::gradcheck::{gradcheck, GradcheckOptions};

    #[test]
    fn adjoint_function_passes_gradcheck() {
        let mut rng = StdRng::seed_from_u64(1);
        let mut init = |shape: &[usize]| ArrayD::from_shape_fn(IxDyn(shape), |_| rng.random_range(-0.8..0.8));
        let inputs = [init(&[2, 2]), init(&[3, 2]), init(&[3]), init(&[2, 3])];
        let f = |xs: &[Var<f64>]| apply(OdeAdjoint, &[&xs[0], &xs[1], &xs[2], &xs[3]]);
        gradcheck(&f, &inputs, GradcheckOptions::default()).unwrap();
    }
}
