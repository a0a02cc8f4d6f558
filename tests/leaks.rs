//! Allocated bytes return to the baseline after 10 000 graphs: backpropagated, kept with
//! `create_graph`, and dropped without a backward pass.

use ndarray::{array, Array2};
use slowgrad::{einsum, gradients, BackwardOptions, Var};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::SeqCst);
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::SeqCst)
}

/// One training-like graph: two einsum layers, a nonlinearity, a scalar loss.
fn graph(x: &Var<f64, ndarray::Ix2>, w: &Var<f64, ndarray::Ix2>) -> Var<f64> {
    let h = einsum("bi,oi->bo", &[x, w]).unwrap().tanh();
    einsum("bo,bo->", &[&h, &h]).unwrap()
}

// One test function, so no other test allocates concurrently in this binary.
#[test]
fn ten_thousand_graphs_leave_nothing_behind() {
    let x = Var::constant(Array2::from_shape_fn((8, 4), |(i, j)| (i + j) as f64 * 0.1));
    let w = Var::new(array![[0.1, -0.2, 0.3, 0.0], [0.5, 0.1, -0.1, 0.2]]);
    // warm up lazily initialised state (thread-locals, and the bounded per-thread plan caches
    // of every equation below, first and second order)
    let wd = w.as_dyn();
    for _ in 0..10 {
        graph(&x, &w).backward();
        graph(&x, &w).try_backward(BackwardOptions { retain_graph: true, create_graph: true }).unwrap();
        einsum("ij->", &[&w.grad_var().unwrap()]).unwrap().backward();
        w.zero_grad();
        let y = graph(&x, &w);
        let g = gradients(&y, &[&wd], None, BackwardOptions { retain_graph: true, create_graph: true }).unwrap();
        let s = einsum("ij->", &[g[0].as_ref().unwrap()]).unwrap();
        let _ = gradients(&s, &[&wd], None, BackwardOptions::default()).unwrap();
    }
    w.zero_grad();
    let baseline = live();

    // backpropagated and freed
    for _ in 0..10_000 {
        graph(&x, &w).backward();
    }
    w.zero_grad();
    let after_backward = live();

    // dropped without backward
    for _ in 0..10_000 {
        let _ = graph(&x, &w);
    }
    let after_drop = live();

    // kept with create_graph: the gradient carries a graph (through w itself); zero_grad
    // releases it
    for _ in 0..10_000 {
        graph(&x, &w).try_backward(BackwardOptions { retain_graph: true, create_graph: true }).unwrap();
        let g = w.grad_var().unwrap();
        einsum("ij->", &[&g]).unwrap().backward();
        w.zero_grad();
    }
    let after_create_graph = live();

    // second-order through gradients(): nothing is stored in the leaves
    for _ in 0..10_000 {
        let y = graph(&x, &w);
        let g = gradients(&y, &[&wd], None, BackwardOptions { retain_graph: true, create_graph: true }).unwrap();
        let s = einsum("ij->", &[g[0].as_ref().unwrap()]).unwrap();
        let _ = gradients(&s, &[&wd], None, BackwardOptions::default()).unwrap();
    }
    let after_gradients = live();

    println!(
        "live bytes: baseline {baseline}, after backward {after_backward}, after drop {after_drop}, after create_graph {after_create_graph}, after gradients {after_gradients}"
    );
    for (what, bytes) in [
        ("backward", after_backward),
        ("dropped graphs", after_drop),
        ("create_graph", after_create_graph),
        ("gradients", after_gradients),
    ] {
        assert_eq!(bytes, baseline, "{what}: {} bytes not returned", bytes - baseline);
    }
}
