//! Memory stays flat over 10 000 training steps of an MLP: a counting global allocator measures
//! the bytes alive after each step (the graph of every step is freed by its backward pass and by
//! dropping the loss).

use ndarray::Array2;
use slowgrad::loss::cross_entropy;
use slowgrad::nn::{Linear, Module, ReLU, Sequential};
use slowgrad::optim::{Adam, Optimizer};
use slowgrad::{Rng, Var};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator and only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn memory_is_flat_over_10000_steps() {
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
    let live_100 = LIVE.load(Relaxed);
    PEAK.store(live_100, Relaxed);
    let mut max_live = live_100;
    let mut last_loss = 0.0;
    for _ in 100..10_000 {
        last_loss = step();
        max_live = max_live.max(LIVE.load(Relaxed));
    }
    let live_10000 = LIVE.load(Relaxed);
    let peak = PEAK.load(Relaxed);
    eprintln!(
        "live bytes after step 100: {live_100}, after step 10000: {live_10000}, max live between steps: {max_live}, \
         peak within a step: {peak}; loss {first_loss:.4} -> {last_loss:.4}"
    );
    assert!(last_loss < first_loss, "training makes progress");
    assert!(live_10000 <= live_100 + 1024, "live memory grew from {live_100} to {live_10000} bytes");
    assert!(max_live <= live_100 + 1024, "live memory between steps reached {max_live} (from {live_100})");
    assert!(peak < live_100 + (1 << 20), "peak {peak} bytes within a step");
}
