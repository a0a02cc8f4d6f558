//! Peak heap memory of forward + backward through the runtime `einsum()`, measured with a
//! counting global allocator (this test binary's own): it stays within 1.2 × the bytes of the
//! inputs, the output, the upstream gradient and the gradients, so no broadcast, Jacobian or
//! large temporary is materialised.

use ndarray::{ArrayD, IxDyn};
use slowgrad::{einsum, BackwardOptions, Operand, Var};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator with the same layout and pointer;
// the counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged, under the caller's guarantees for `layout`.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged, under the caller's guarantees for `layout`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged, under the caller's guarantees.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::SeqCst) + new_size - layout.size();
                PEAK.fetch_max(now, Ordering::SeqCst);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::SeqCst);
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
        let base = CURRENT.load(Ordering::SeqCst);
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
    run(); // warm up: plan caches, thread pools
    run()
}

#[test]
fn peak_memory_of_forward_and_backward() {
    // one test function: the counters are global to the process
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
