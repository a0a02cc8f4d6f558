//! Memory, measured with a counting global allocator (this test binary's own):
//!
//! - peak heap of forward + backward through the runtime `einsum()` stays within 1.2 × the bytes
//!   of the inputs, the output, the upstream gradient and the gradients, so no broadcast,
//!   Jacobian or large temporary is materialised;
//! - memory stays flat over 10 000 training steps of an MLP: the bytes alive after each step
//!   (the graph of every step is freed by its backward pass and by dropping the loss).
//!
//! The counters are global to the process, so the tests take a lock and run one at a time.

use ndarray::{Array2, ArrayD, IxDyn};
use slowgrad::loss::cross_entropy;
use slowgrad::nn::{Linear, Module, ReLU, Sequential};
use slowgrad::optim::{Adam, Optimizer};
use slowgrad::Rng;
use slowgrad::{einsum, BackwardOptions, Operand, Var};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Held by each test: the counters are shared by the whole process.
static SERIAL: Mutex<()> = Mutex::new(());

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator with the same layout and pointer;
// the counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged, under the caller's guarantees for `layout`.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged, under the caller's guarantees for `layout`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged, under the caller's guarantees.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = LIVE.fetch_add(new_size - layout.size(), Ordering::SeqCst) + new_size - layout.size();
                PEAK.fetch_max(now, Ordering::SeqCst);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn filled(shape: &[usize], seed: usize) -> ArrayD<f32> {
    let n: usize = shape.iter().product();
    ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(|i| ((i * 31 + seed * 17) % 97) as f32 / 97.0 - 0.5).collect())
        .expect("shape fits")
}

/// Forward + backward of `pattern` on operands of `shapes`; returns (peak bytes above the
/// baseline, budget bytes = inputs + output + upstream + gradients).
fn measure(pattern: &str, shapes: &[&[usize]]) -> (usize, usize) {
    let run = || {
        let base = LIVE.load(Ordering::SeqCst);
        PEAK.store(base, Ordering::SeqCst);
        let vars: Vec<Var<f32>> = shapes.iter().enumerate().map(|(k, s)| Var::new(filled(s, k))).collect();
        let ops: Vec<&dyn Operand<f32>> = vars.iter().map(|v| v as &dyn Operand<f32>).collect();
        let y = einsum(pattern, &ops).expect("pattern fits");
        let out_shape = y.shape();
        let seed = Var::constant(filled(&out_shape, 9));
        y.try_backward_with_var(&seed, BackwardOptions::default()).expect("seed fits");
        let floats: usize = shapes.iter().map(|s| s.iter().product::<usize>()).sum::<usize>() * 2
            + out_shape.iter().product::<usize>() * 2;
        for v in &vars {
            assert!(v.grad_var().is_some(), "{pattern}: every operand has a gradient");
        }
        drop((y, seed, vars));
        (PEAK.load(Ordering::SeqCst) - base, floats * std::mem::size_of::<f32>())
    };
    // warm up: plan caches, the thread pool and its threads' GEMM buffers (allocated once per
    // thread, on the first product a thread runs)
    for _ in 0..3 {
        run();
    }
    run()
}

#[test]
fn peak_memory_of_forward_and_backward() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let cases: [(&str, &[&[usize]]); 3] = [
        ("ab,cd->ab", &[&[256, 256], &[256, 256]]),
        ("bij,jk->ik", &[&[64, 64, 64], &[64, 64]]),
        ("bhqd,bhkd->bhqk", &[&[8, 8, 64, 32], &[8, 8, 64, 32]]),
    ];
    let mut report = Vec::new();
    for (pattern, shapes) in cases {
        let (peak, budget) = measure(pattern, shapes);
        let ratio = peak as f64 / budget as f64;
        report.push(format!("{pattern}: peak {peak} B, budget {budget} B, ratio {ratio:.3}"));
        eprintln!("{}", report.last().expect("pushed"));
    }
    for (line, (pattern, shapes)) in report.iter().zip(cases) {
        let (peak, budget) = measure(pattern, shapes);
        assert!(peak as f64 <= 1.2 * budget as f64, "{line}");
    }
}

#[test]
fn memory_is_flat_over_10000_steps() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = Rng::new(0);
    let model: Sequential<f64> = Sequential::new(vec![
        Linear::with_rng(16, 32, true, &mut rng).boxed(),
        ReLU.boxed(),
        Linear::with_rng(32, 4, true, &mut rng).boxed(),
    ]);
    let x = Var::constant(Array2::from_shape_simple_fn((32, 16), || rng.uniform(-1.0, 1.0)).into_dyn());
    let y: Vec<usize> = (0..32).map(|i| i % 4).collect();
    let mut opt = Adam::new(model.parameters(), 1e-3);
    let mut step = || {
        opt.zero_grad();
        let loss = cross_entropy(&model.forward(&x), &y);
        loss.backward();
        opt.step();
        loss.item()
    };
    let first_loss = step();
    for _ in 1..100 {
        step();
    }
    let live_100 = LIVE.load(Ordering::Relaxed);
    PEAK.store(live_100, Ordering::Relaxed);
    let mut max_live = live_100;
    let mut last_loss = 0.0;
    for _ in 100..10_000 {
        last_loss = step();
        max_live = max_live.max(LIVE.load(Ordering::Relaxed));
    }
    let live_10000 = LIVE.load(Ordering::Relaxed);
    let peak = PEAK.load(Ordering::Relaxed);
    eprintln!(
        "live bytes after step 100: {live_100}, after step 10000: {live_10000}, max live between steps: {max_live}, \
         peak within a step: {peak}; loss {first_loss:.4} -> {last_loss:.4}"
    );
    assert!(last_loss < first_loss, "training makes progress");
    assert!(live_10000 <= live_100 + 1024, "live memory grew from {live_100} to {live_10000} bytes");
    assert!(max_live <= live_100 + 1024, "live memory between steps reached {max_live} (from {live_100})");
    assert!(peak < live_100 + (1 << 20), "peak {peak} bytes within a step");
}
