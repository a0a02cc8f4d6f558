//! Batched matrix products on the `gemm` crate, with the participants' own strides.

use super::{Dims, GEMM_MIN_WORK, PAR_MIN_WORK};
use crate::Float;
use gemm::Parallelism;
use rayon::prelude::*;
use std::any::TypeId;

/// Role masks: bit 0 the output, bit 1 the left operand, bit 2 the right one.
const BATCH: u64 = 0b111;
const M: u64 = 0b011;
const N: u64 = 0b101;
const K: u64 = 0b110;

/// The work of one GEMM call from which the `gemm` crate itself may use threads.
const GEMM_THREADING: usize = 48 * 48 * 256;

/// A raw pointer that may cross threads.
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);

// SAFETY: the pointer is only dereferenced by `try_run`'s tasks, which write disjoint elements
// of the output and only read the inputs (see the SAFETY comment at the parallel loop).
unsafe impl<T> Send for SendPtr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    fn get(self) -> *mut T {
        self.0
    }
}

/// The dimensions of one role: the one handed to the GEMM (the largest) and the rest.
fn pick(d: &Dims, role: u64) -> (Option<usize>, Vec<usize>) {
    let mut all: Vec<usize> = (0..d.len()).filter(|&i| d.mask[i] == role).collect();
    let best = all.iter().copied().max_by_key(|&i| d.size[i]);
    all.retain(|&i| Some(i) != best);
    (best, all)
}

/// Runs the step as (batched) matrix products if its dimensions are batch, left-free,
/// right-free and contracted only, it contracts something, its work is at least
/// [`GEMM_MIN_WORK`], `T` is `f32` or `f64` and no stride is negative. Returns whether it did.
///
/// # Safety
/// As `super::run`: the dimensions address valid elements of `out`, `a` and `b`, and distinct
/// index tuples of the output's dimensions address distinct elements of `out`.
pub(super) unsafe fn try_run<T: Float>(d: &Dims, out: *mut T, a: *const T, b: *const T) -> bool {
    let float = TypeId::of::<T>() == TypeId::of::<f32>() || TypeId::of::<T>() == TypeId::of::<f64>();
    if !float
        || d.mask.iter().any(|&m| !matches!(m, BATCH | M | N | K))
        || !d.mask.contains(&K)
        || d.work() < GEMM_MIN_WORK
        || d.stride.iter().flatten().any(|&s| s < 0)
    {
        return false;
    }
    let (dm, mut outer) = pick(d, M);
    let (dn, rest_n) = pick(d, N);
    let (dk, acc) = pick(d, K);
    outer.extend(rest_n);
    outer.extend((0..d.len()).filter(|&i| d.mask[i] == BATCH));
    let size = |x: Option<usize>| x.map_or(1, |i| d.size[i]);
    let st = |x: Option<usize>, p: usize| x.map_or(0, |i| d.stride[p][i]);
    let (m, n, k) = (size(dm), size(dn), size(dk));
    let (dst_rs, dst_cs) = (st(dm, 0), st(dn, 0));
    let (lhs_rs, lhs_cs) = (st(dm, 1), st(dk, 1));
    let (rhs_rs, rhs_cs) = (st(dk, 2), st(dn, 2));
    let inner_work = m * n * k;
    let n_outer: usize = outer.iter().map(|&i| d.size[i]).product();
    let n_acc: usize = acc.iter().map(|&i| d.size[i]).product();
    let threads = if d.work() >= PAR_MIN_WORK { rayon::current_num_threads() } else { 1 };
    let (out, a, b) = (SendPtr(out), SendPtr(a as *mut T), SendPtr(b as *mut T));
    // one product: multi-index `r` of the outer dimensions, all of the accumulated ones
    let product = |r: usize, par: Parallelism| {
        let mut off = [0isize; 3];
        let mut r = r;
        for &i in outer.iter().rev() {
            let j = (r % d.size[i]) as isize;
            r /= d.size[i];
            for (o, s) in off.iter_mut().zip(&d.stride) {
                *o += j * s[i];
            }
        }
        for q in 0..n_acc {
            let mut o2 = off;
            let mut q2 = q;
            for &i in acc.iter().rev() {
                let j = (q2 % d.size[i]) as isize;
                q2 /= d.size[i];
                for (o, s) in o2.iter_mut().zip(&d.stride) {
                    *o += j * s[i];
                }
            }
            // SAFETY: the offsets are Σ index·stride over the outer and accumulated dimensions
            // and the GEMM adds those of the M, N and K dimensions, all indices below their
            // sizes, so every access is in bounds (the caller's guarantee); the output's
            // (m, n) elements are distinct, since its dimensions address distinct elements.
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    out.get().offset(o2[0]),
                    dst_cs,
                    dst_rs,
                    q > 0,
                    a.get().offset(o2[1]),
                    lhs_cs,
                    lhs_rs,
                    b.get().offset(o2[2]),
                    rhs_cs,
                    rhs_rs,
                    T::one(),
                    T::one(),
                    false,
                    false,
                    false,
                    par,
                )
            }
        }
    };
    if threads > 1 && n_outer >= threads && inner_work < GEMM_THREADING {
        // SAFETY (of the tasks' writes): distinct `r` are distinct index tuples of the outer
        // dimensions, all of which index the output (batch, M or N), so the tasks write
        // disjoint sets of output elements; the inputs are only read.
        (0..n_outer).into_par_iter().for_each(|r| product(r, Parallelism::None));
    } else {
        let par = if threads > 1 { Parallelism::Rayon(threads) } else { Parallelism::None };
        for r in 0..n_outer {
            product(r, par);
        }
    }
    true
}
