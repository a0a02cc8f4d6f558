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

/// How the products of a step use threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Threads {
    /// One thread.
    None,
    /// The products of different outer indices run in parallel (rayon), one thread each.
    Outer,
    /// The products run in turn, each with the GEMM's own threads (it has its own threshold).
    Gemm(usize),
}

/// A step as (batched) matrix products: `m×k · k×n` for every index of the outer dimensions,
/// accumulated over the outer contracted ones.
#[derive(Debug)]
pub(crate) struct GemmPlan {
    m: usize,
    n: usize,
    k: usize,
    /// Row and column strides of the output, the left and the right operand.
    dst: (isize, isize),
    lhs: (isize, isize),
    rhs: (isize, isize),
    /// Outer dimensions that index the output (batch, extra free ones): size, strides.
    outer: Vec<(usize, [isize; 3])>,
    /// Outer contracted dimensions (accumulated): size, strides.
    acc: Vec<(usize, [isize; 3])>,
    threads: Threads,
}

impl GemmPlan {
    /// The plan if the step's dimensions are batch, left-free, right-free and contracted only,
    /// it contracts something, its work is at least [`GEMM_MIN_WORK`], `T` is `f32` or `f64`
    /// and no stride is negative.
    pub fn new<T: Float>(d: &Dims) -> Option<GemmPlan> {
        let float = TypeId::of::<T>() == TypeId::of::<f32>() || TypeId::of::<T>() == TypeId::of::<f64>();
        if !float
            || d.stride.len() != 3
            || d.mask.iter().any(|&m| !matches!(m, BATCH | M | N | K))
            || !d.mask.contains(&K)
            || d.work() < GEMM_MIN_WORK
            || d.stride.iter().flatten().any(|&s| s < 0)
        {
            return None;
        }
        let (dm, mut outer) = pick(d, M);
        let (dn, rest_n) = pick(d, N);
        let (dk, acc) = pick(d, K);
        outer.extend(rest_n);
        outer.extend((0..d.len()).filter(|&i| d.mask[i] == BATCH));
        let size = |x: Option<usize>| x.map_or(1, |i| d.size[i]);
        let st = |x: Option<usize>, p: usize| x.map_or(0, |i| d.stride[p][i]);
        let with_strides = |i: usize| (d.size[i], [d.stride[0][i], d.stride[1][i], d.stride[2][i]]);
        let (m, n, k) = (size(dm), size(dn), size(dk));
        let n_outer: usize = outer.iter().map(|&i| d.size[i]).product();
        let max = if d.work() >= PAR_MIN_WORK { rayon::current_num_threads() } else { 1 };
        let threads = if max <= 1 {
            Threads::None
        } else if n_outer >= max && m * n * k < GEMM_THREADING {
            Threads::Outer
        } else {
            Threads::Gemm(max)
        };
        Some(GemmPlan {
            m,
            n,
            k,
            dst: (st(dm, 0), st(dn, 0)),
            lhs: (st(dm, 1), st(dk, 1)),
            rhs: (st(dk, 2), st(dn, 2)),
            outer: outer.into_iter().map(with_strides).collect(),
            acc: acc.into_iter().map(with_strides).collect(),
            threads,
        })
    }

    /// Runs the products.
    ///
    /// # Safety
    /// As `super::Prepared::run`: the plan addresses valid elements of `out`, `a` and `b`, and
    /// distinct index tuples of the output's dimensions address distinct elements of `out`.
    pub unsafe fn run<T: Float>(&self, out: *mut T, a: *const T, b: *const T) {
        let n_outer: usize = self.outer.iter().map(|o| o.0).product();
        let n_acc: usize = self.acc.iter().map(|o| o.0).product();
        let (out, a, b) = (SendPtr(out), SendPtr(a as *mut T), SendPtr(b as *mut T));
        // the products of outer multi-index `r`, accumulated over the contracted outer ones
        let product = |r: usize, par: Parallelism| {
            let mut off = [0isize; 3];
            let mut r = r;
            for (size, st) in self.outer.iter().rev() {
                let j = (r % size) as isize;
                r /= size;
                for (o, s) in off.iter_mut().zip(st) {
                    *o += j * s;
                }
            }
            for q in 0..n_acc {
                let mut o2 = off;
                let mut q2 = q;
                for (size, st) in self.acc.iter().rev() {
                    let j = (q2 % size) as isize;
                    q2 /= size;
                    for (o, s) in o2.iter_mut().zip(st) {
                        *o += j * s;
                    }
                }
                // SAFETY: the offsets are Σ index·stride over the outer and accumulated
                // dimensions and the GEMM adds those of the M, N and K dimensions, all indices
                // below their sizes, so every access is in bounds (the caller's guarantee); the
                // output's (m, n) elements are distinct, since its dimensions address distinct
                // elements.
                unsafe {
                    gemm::gemm(
                        self.m,
                        self.n,
                        self.k,
                        out.get().offset(o2[0]),
                        self.dst.1,
                        self.dst.0,
                        q > 0,
                        a.get().offset(o2[1]),
                        self.lhs.1,
                        self.lhs.0,
                        b.get().offset(o2[2]),
                        self.rhs.1,
                        self.rhs.0,
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
        match self.threads {
            // SAFETY (of the tasks' writes): distinct `r` are distinct index tuples of the outer
            // dimensions, all of which index the output (batch, M or N), so the tasks write
            // disjoint sets of output elements; the inputs are only read.
            Threads::Outer => (0..n_outer).into_par_iter().for_each(|r| product(r, Parallelism::None)),
            Threads::Gemm(t) => (0..n_outer).for_each(|r| product(r, Parallelism::Rayon(t))),
            Threads::None => (0..n_outer).for_each(|r| product(r, Parallelism::None)),
        }
    }
}
