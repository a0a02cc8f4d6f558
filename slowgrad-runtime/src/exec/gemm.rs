//! Batched matrix products on the `gemm` crate, with the participants' own strides.

use super::{Dims, SyncPtr as SendPtr, GEMM_MIN_WORK, PAR_MIN_WORK};
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

/// The smallest number of rows, columns and summed terms of a product for the `gemm` crate's
/// own threads: at 128×128·128×128 two threads took 33 µs against one's 42 µs. At a side of 64
/// machines of this project's kind differ: on one with AVX-512, 64×784·784×256 (W5, the first
/// layer of W9) and 256×64·64×784 (W9's first weight gradient) were slower on two threads
/// (293–344 µs against 259–266 µs); on one with AVX2 alone, W5 forward+backward took 0.92–1.20 ms
/// with a threshold of 64 against 1.32–1.71 ms with 128 (three alternations of both binaries)
/// and the W9 step did not change beyond the drift (0.88–1.09 ms either way).
const GEMM_PAR_MIN_SIDE: usize = 64;

/// The dimensions of one role: the one handed to the GEMM (the largest) and the rest.
fn pick(d: &Dims, role: u64) -> (Option<usize>, Vec<usize>) {
    let mut all: Vec<usize> = (0..d.len()).filter(|&i| d.mask[i] == role).collect();
    let best = all.iter().copied().max_by_key(|&i| d.size[i]);
    all.retain(|&i| Some(i) != best);
    (best, all)
}

/// How the products of a step use threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Threads {
    /// One thread.
    None,
    /// The products of different outer indices run in parallel (rayon), one thread each.
    Outer,
    /// The products run in turn, each with the GEMM's own threads (it has its own threshold).
    Gemm(usize),
    /// The products run in turn, each split into this many blocks of columns (`n`), one thread
    /// (rayon) a block: for a right operand stored across `n` (unit stride along `k`), with
    /// which the GEMM's own threads gain little (see [`split_columns`]).
    Columns(usize),
    /// The same with blocks of rows (`m`), for a left operand stored down the output's rows
    /// (unit stride along `m`), as the gradient `ij,ik->jk` of a matrix product reads it (see
    /// [`split_rows`]).
    Rows(usize),
}

/// Whether a product whose left operand has strides `lhs` (along `m`, along `k`) is split into
/// blocks of rows, one thread each, instead of handing both threads to the GEMM: when the
/// operand is stored down the rows (unit stride along `m`) and the right operand is not split
/// by columns. On a machine with AVX-512 this took the W9 training step, whose weight gradients
/// are such products (256×64·64×784 the largest), from 484–510 µs to 442–466 µs (benchmark
/// binaries alternated three times), and left W3's `ij,ik->jk` unchanged.
fn split_rows(lhs: (isize, isize), m: usize, threads: usize) -> bool {
    lhs.0 == 1 && lhs.1 != 1 && m >= threads * SPLIT_MIN_SIDE
}

/// Whether a product whose right operand has strides `rhs` (along `k`, along `n`) is split into
/// blocks of columns, one thread each, instead of handing both threads to the GEMM: when the
/// operand is stored across `n` (the `bi,oi->bo` of a linear layer, the gradient `ik,jk->ij` of
/// a matrix product). On a machine with AVX-512, the `gemm` crate's two threads on
/// 64×784·(256×784)ᵀ took 270–304 µs against one thread's 277–315 µs, while two blocks of 128
/// columns on two threads took 203–219 µs (interleaved in one process, 21 rounds, medians and
/// minima); with the operand stored along `n` the crate's own threads scale (124–131 µs).
fn split_columns(rhs: (isize, isize), n: usize, threads: usize) -> bool {
    rhs.0 == 1 && rhs.1 != 1 && n >= threads * SPLIT_MIN_SIDE
}

/// The fewest columns (rows) of a block when a product is split ([`split_columns`],
/// [`split_rows`]).
const SPLIT_MIN_SIDE: usize = 64;

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
    /// Under [`GEMM_MIN_WORK`] (or for element types the `gemm` crate lacks): tight loops over
    /// slices instead of the `gemm` crate, with no set-up cost.
    small: bool,
}

impl GemmPlan {
    /// The plan if the step's dimensions are batch, left-free, right-free and contracted only,
    /// it contracts something and no stride is negative. It runs on the `gemm` crate when its
    /// work is at least [`GEMM_MIN_WORK`] and `T` is `f32` or `f64`, in plain loops otherwise.
    pub fn new<T: Float>(d: &Dims) -> Option<GemmPlan> {
        if d.stride.len() != 3
            || d.mask.iter().any(|&m| !matches!(m, BATCH | M | N | K))
            || !d.mask.contains(&K)
            || d.stride.iter().flatten().any(|&s| s < 0)
        {
            return None;
        }
        let float = TypeId::of::<T>() == TypeId::of::<f32>() || TypeId::of::<T>() == TypeId::of::<f64>();
        let small = !float || d.work() < GEMM_MIN_WORK;
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
        } else if m.min(n).min(k) >= GEMM_PAR_MIN_SIDE {
            let rhs = (st(dk, 2), st(dn, 2));
            if split_columns(rhs, n, max) {
                Threads::Columns(max)
            } else if split_rows((st(dm, 1), st(dk, 1)), m, max) {
                Threads::Rows(max)
            } else {
                Threads::Gemm(max)
            }
        } else {
            Threads::None
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
            small,
        })
    }

    /// How the products use threads (for tests).
    #[cfg(test)]
    pub fn threads(&self) -> Threads {
        self.threads
    }

    /// Whether running the plan writes every output element before reading any: the `gemm`
    /// crate's first product of each output block assigns (the small loops add).
    pub fn overwrites(&self) -> bool {
        !self.small
    }

    /// Offsets of outer multi-index `r` and accumulated multi-index `q` in the participants.
    #[inline(always)]
    fn offsets(&self, r: usize, q: usize) -> [isize; 3] {
        let mut off = [0isize; 3];
        let mut r = r;
        for (size, st) in self.outer.iter().rev() {
            let j = (r % size) as isize;
            r /= size;
            for (o, s) in off.iter_mut().zip(st) {
                *o += j * s;
            }
        }
        let mut q = q;
        for (size, st) in self.acc.iter().rev() {
            let j = (q % size) as isize;
            q /= size;
            for (o, s) in off.iter_mut().zip(st) {
                *o += j * s;
            }
        }
        off
    }

    /// One small product `c += a · b` in plain loops, over slices where a stride is 1.
    ///
    /// # Safety
    /// The `m×k`, `k×n` and `m×n` index ranges with the plan's strides address valid elements,
    /// and the output's elements do not overlap the inputs'.
    #[inline(always)]
    unsafe fn small_product<T: Float>(&self, c: *mut T, a: *const T, b: *const T) {
        let (m, n, k) = (self.m as isize, self.n, self.k);
        let ((crs, ccs), (ars, acs), (brs, bcs)) = (self.dst, self.lhs, self.rhs);
        // SAFETY (every branch): indices stay below m, n and k, as the caller guarantees; a
        // slice is formed only along a unit stride, where it covers exactly the addressed
        // elements, and output slices never overlap input slices.
        unsafe {
            if ccs == 1 && bcs == 1 {
                // rows of c and b are contiguous: c[i,:] += a[i,p] · b[p,:]
                for i in 0..m {
                    let crow = std::slice::from_raw_parts_mut(c.offset(i * crs), n);
                    for p in 0..k as isize {
                        let s = *a.offset(i * ars + p * acs);
                        let brow = std::slice::from_raw_parts(b.offset(p * brs), n);
                        for (z, &v) in crow.iter_mut().zip(brow) {
                            *z += s * v;
                        }
                    }
                }
            } else if acs == 1 && brs == 1 {
                // rows of a and columns of b are contiguous: c[i,j] += a[i,:] · b[:,j]
                for i in 0..m {
                    let arow = std::slice::from_raw_parts(a.offset(i * ars), k);
                    for j in 0..n as isize {
                        let bcol = std::slice::from_raw_parts(b.offset(j * bcs), k);
                        *c.offset(i * crs + j * ccs) += super::nest::dot(arow, bcol);
                    }
                }
            } else if crs == 1 && ars == 1 {
                // columns of c and a are contiguous: c[:,j] += a[:,p] · b[p,j]
                for j in 0..n as isize {
                    let ccol = std::slice::from_raw_parts_mut(c.offset(j * ccs), m as usize);
                    for p in 0..k as isize {
                        let s = *b.offset(p * brs + j * bcs);
                        let acol = std::slice::from_raw_parts(a.offset(p * acs), m as usize);
                        for (z, &u) in ccol.iter_mut().zip(acol) {
                            *z += u * s;
                        }
                    }
                }
            } else {
                for i in 0..m {
                    for j in 0..n as isize {
                        let mut acc = T::zero();
                        for p in 0..k as isize {
                            acc += *a.offset(i * ars + p * acs) * *b.offset(p * brs + j * bcs);
                        }
                        *c.offset(i * crs + j * ccs) += acc;
                    }
                }
            }
        }
    }

    /// Runs the products.
    ///
    /// # Safety
    /// As `super::Prepared::run`: the plan addresses valid elements of `out`, `a` and `b`, and
    /// distinct index tuples of the output's dimensions address distinct elements of `out`.
    pub unsafe fn run<T: Float>(&self, out: *mut T, a: *const T, b: *const T) {
        let n_outer: usize = self.outer.iter().map(|o| o.0).product();
        let n_acc: usize = self.acc.iter().map(|o| o.0).product();
        if self.small {
            for r in 0..n_outer {
                for q in 0..n_acc {
                    let o = self.offsets(r, q);
                    // SAFETY: the offsets index the outer and accumulated dimensions below their
                    // sizes, and the product's own indices stay below m, n and k, as the caller
                    // guarantees; the output is a fresh array that no input overlaps.
                    unsafe { self.small_product(out.offset(o[0]), a.offset(o[1]), b.offset(o[2])) };
                }
            }
            return;
        }
        let (out, a, b) = (SendPtr(out), SendPtr(a as *mut T), SendPtr(b as *mut T));
        // the products of outer multi-index `r`, accumulated over the contracted outer ones, on
        // the rows `rows` and columns `cols` of the output
        let block = |r: usize, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>, par: Parallelism| {
            for q in 0..n_acc {
                let mut o2 = self.offsets(r, q);
                let (r0, c0) = (rows.start as isize, cols.start as isize);
                o2[0] += r0 * self.dst.0 + c0 * self.dst.1;
                o2[1] += r0 * self.lhs.0;
                o2[2] += c0 * self.rhs.1;
                // SAFETY: the offsets are Σ index·stride over the outer and accumulated
                // dimensions and the GEMM adds those of the M, N and K dimensions, all indices
                // below their sizes, so every access is in bounds (the caller's guarantee); the
                // output's (m, n) elements are distinct, since its dimensions address distinct
                // elements.
                unsafe {
                    gemm::gemm(
                        rows.len(),
                        cols.len(),
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
        let product = |r: usize, par: Parallelism| block(r, 0..self.m, 0..self.n, par);
        match self.threads {
            // SAFETY (of the tasks' writes): distinct `r` are distinct index tuples of the outer
            // dimensions, all of which index the output (batch, M or N), so the tasks write
            // disjoint sets of output elements; the inputs are only read.
            Threads::Outer => (0..n_outer).into_par_iter().for_each(|r| product(r, Parallelism::None)),
            Threads::Gemm(t) => (0..n_outer).for_each(|r| product(r, Parallelism::Rayon(t))),
            // SAFETY (of the tasks' writes): distinct rows (columns) of the M (N) dimension
            // index distinct output elements, so the blocks write disjoint sets of them.
            Threads::Rows(t) | Threads::Columns(t) => {
                let rows = matches!(self.threads, Threads::Rows(_));
                let len = if rows { self.m } else { self.n };
                // blocks of whole multiples of 16 (the GEMM's kernels' widths), one a thread
                let w = len.div_ceil(t).div_ceil(16) * 16;
                for r in 0..n_outer {
                    (0..len.div_ceil(w)).into_par_iter().for_each(|i| {
                        let part = i * w..len.min((i + 1) * w);
                        if rows {
                            block(r, part, 0..self.n, Parallelism::None)
                        } else {
                            block(r, 0..self.m, part, Parallelism::None)
                        }
                    });
                }
            }
            Threads::None => (0..n_outer).for_each(|r| product(r, Parallelism::None)),
        }
    }
}
