//! The strided loop nest: copies and permutes, elementwise products with broadcasting,
//! reductions, diagonal reads and small contractions.
//!
//! The innermost loop is the dimension with the smallest strides; when they are 0 or 1 it runs
//! over slices (sums and dot products with independent accumulators, so they vectorise), and the
//! outer dimensions advance an odometer of offsets kept in registers.
//!
//! Long sums are pairwise, so their rounding error grows with the logarithm of their length
//! rather than with the length (10^7 additions of `0.1f32` one after another are off by 1e-2
//! relative; `tests/summation.rs` holds them within 1e-6): a sum along the innermost loop adds
//! blocks of [`BLOCK`](inner::BLOCK) elements (fewer when strided) and then adds the blocks' sums pairwise;
//! outer summed loops that add more than [`OUTER_BLOCK`](blocked::OUTER_BLOCK) terms into each output element are
//! halved recursively, the second half summed into a zeroed buffer that is then added to the
//! first's result.
//!
//! This file holds the plan ([`NestPlan`]), the loop order and the odometer over the outer
//! dimensions; `inner.rs` the innermost loops and sums of slices, `blocked.rs` the pairwise
//! summation over outer summed dimensions.

mod blocked;
mod inner;
#[cfg(test)]
mod tests;

pub(super) use inner::dot;

use super::Dims;
use crate::Float;
use blocked::Blocked;
use inner::{inner1, inner2, innern};

/// Loop depth handled with indices on the stack.
const MAX_DEPTH: usize = 16;

/// Loop order, outermost first: innermost the dimension with the smallest nonzero stride, then
/// the one with the most unit strides, then a summed one (accumulated in a register).
fn order(d: &Dims) -> Vec<usize> {
    let mut order: Vec<usize> = (0..d.len()).collect();
    let key = |i: usize| {
        let all = d.stride.iter().map(|s| s[i].unsigned_abs()).filter(|&s| s > 0);
        let min = all.clone().min().unwrap_or(usize::MAX);
        let units = all.filter(|&s| s == 1).count();
        (min, usize::MAX - units, d.stride[0][i] != 0)
    };
    order.sort_by_key(|&i| std::cmp::Reverse(key(i)));
    order
}

/// Strides of the outer dimensions, one array per dimension for one and two operands.
#[derive(Debug, Clone)]
enum Strides {
    One(Vec<[isize; 2]>),
    Two(Vec<[isize; 3]>),
    /// `[dim][participant]`, flattened.
    Any(Vec<isize>),
}

impl Strides {
    /// Stride of participant `p` along outer dimension `dim`.
    fn get(&self, dim: usize, p: usize, np: usize) -> isize {
        match self {
            Strides::One(s) => s[dim][p],
            Strides::Two(s) => s[dim][p],
            Strides::Any(s) => s[dim * np + p],
        }
    }

    /// Sets the stride of participant `p` along outer dimension `dim`.
    fn set(&mut self, dim: usize, p: usize, np: usize, v: isize) {
        match self {
            Strides::One(s) => s[dim][p] = v,
            Strides::Two(s) => s[dim][p] = v,
            Strides::Any(s) => s[dim * np + p] = v,
        }
    }
}

/// A loop nest ready to run: outer dimensions (outermost first) and the innermost one.
#[derive(Debug, Clone)]
pub(crate) struct NestPlan {
    sizes: Vec<usize>,
    strides: Strides,
    /// Size of the innermost dimension (1 if there is none).
    n: usize,
    /// Stride of every participant along the innermost dimension.
    inner: Vec<isize>,
    /// How the outer summed dimensions are summed pairwise, when they add more than
    /// [`OUTER_BLOCK`](blocked::OUTER_BLOCK) terms into each output element.
    blocked: Option<Box<Blocked>>,
}

impl NestPlan {
    /// Orders the dimensions of `d` for the loop nest.
    pub fn new(d: &Dims) -> NestPlan {
        let mut plan = NestPlan::unblocked(d);
        plan.blocked = Blocked::new(&plan).map(Box::new);
        plan
    }

    /// The loop nest without pairwise summation over outer dimensions.
    fn unblocked(d: &Dims) -> NestPlan {
        let order = order(d);
        let (outer, inner) = match order.split_last() {
            Some((&i, o)) => (o, Some(i)),
            None => (&[][..], None),
        };
        let np = d.stride.len();
        let strides = match np {
            2 => Strides::One(outer.iter().map(|&i| [d.stride[0][i], d.stride[1][i]]).collect()),
            3 => Strides::Two(outer.iter().map(|&i| [d.stride[0][i], d.stride[1][i], d.stride[2][i]]).collect()),
            _ => Strides::Any(outer.iter().flat_map(|&i| d.stride.iter().map(move |s| s[i])).collect()),
        };
        NestPlan {
            sizes: outer.iter().map(|&i| d.size[i]).collect(),
            strides,
            n: inner.map_or(1, |i| d.size[i]),
            inner: d.stride.iter().map(|s| inner.map_or(0, |i| s[i])).collect(),
            blocked: None,
        }
    }

    /// Runs the loop nest: `out[...] += Π ins[...]`.
    ///
    /// # Safety
    /// Every offset Σ index·stride (index < size) must address a valid element of its
    /// participant, and a slice of the output formed over a unit stride must not overlap one of
    /// an input (see `super::Prepared::run`).
    pub unsafe fn run<T: Float>(&self, out: *mut T, ins: &[*const T]) {
        match &self.blocked {
            // SAFETY: as the caller guarantees.
            Some(b) => unsafe { b.run(self, out, ins) },
            // SAFETY: as the caller guarantees.
            None => unsafe { self.run_sizes(&self.sizes, out, ins) },
        }
    }

    /// [`NestPlan::run`] without pairwise summation over outer dimensions, with the outer
    /// dimensions' sizes `sizes` in place of the plan's.
    ///
    /// # Safety
    /// As [`NestPlan::run`], and each of `sizes` is at most the plan's size of its dimension.
    unsafe fn run_sizes<T: Float>(&self, sizes: &[usize], out: *mut T, ins: &[*const T]) {
        let n = self.n;
        let s = &self.inner;
        match &self.strides {
            Strides::One(st) => {
                let (so, sa) = (s[0], s[1]);
                // SAFETY: offsets formed by the odometer are in bounds, as the caller guarantees.
                unsafe { odometer(sizes, st, |o| inner1(out.offset(o[0]), so, ins[0].offset(o[1]), sa, n)) }
            }
            Strides::Two(st) => {
                let (so, sa, sb) = (s[0], s[1], s[2]);
                // SAFETY: as above.
                unsafe {
                    odometer(sizes, st, |o| {
                        inner2(out.offset(o[0]), so, ins[0].offset(o[1]), sa, ins[1].offset(o[2]), sb, n)
                    })
                }
            }
            Strides::Any(st) => {
                // any number of operands: offsets in a vector
                let np = ins.len() + 1;
                let k = sizes.len();
                let mut off = vec![0isize; np];
                let mut idx = vec![0usize; k];
                loop {
                    // SAFETY: as above.
                    unsafe { innern(out.offset(off[0]), s[0], ins, &off[1..], &s[1..], n) };
                    let mut j = k;
                    loop {
                        if j == 0 {
                            return;
                        }
                        j -= 1;
                        let row = &st[j * np..(j + 1) * np];
                        idx[j] += 1;
                        for (o, &d) in off.iter_mut().zip(row) {
                            *o += d;
                        }
                        if idx[j] < sizes[j] {
                            break;
                        }
                        for (o, &d) in off.iter_mut().zip(row) {
                            *o -= d * sizes[j] as isize;
                        }
                        idx[j] = 0;
                    }
                }
            }
        }
    }
}

impl NestPlan {
    /// Runs a one-input nest as an assignment: `out[...] = src[...]`, for copies into memory
    /// that holds no value yet (a stride of 0 everywhere in `src` fills with one value).
    ///
    /// # Safety
    /// The plan has one input; every offset Σ index·stride (index < size) addresses an element
    /// of `out` (which may be uninitialised) or of `src` (initialised), and the elements written
    /// do not overlap those read.
    pub unsafe fn assign<T: Float>(&self, out: *mut T, src: *const T) {
        let Strides::One(st) = &self.strides else { unreachable!("a copy plan has one input") };
        let (n, so, sa) = (self.n, self.inner[0], self.inner[1]);
        // SAFETY: offsets formed by the odometer and the inner index i < n are in bounds, as
        // the caller guarantees; the written elements are only written (never read), so their
        // not holding values yet is fine, and they do not overlap the source.
        unsafe {
            odometer(&self.sizes, st, |o| {
                let (o, a) = (out.offset(o[0]), src.offset(o[1]));
                if so == 1 && sa == 1 {
                    std::ptr::copy_nonoverlapping(a, o, n);
                } else {
                    for i in 0..n as isize {
                        o.offset(i * so).write(*a.offset(i * sa));
                    }
                }
            })
        }
    }
}

/// Calls `f` with the offsets of every index tuple of the dimensions `sizes` (last fastest).
///
/// # Safety
/// `f` must be safe to call with every offset tuple Σ index·stride, index < size.
#[inline(always)]
unsafe fn odometer<const P: usize>(sizes: &[usize], strides: &[[isize; P]], mut f: impl FnMut(&[isize; P])) {
    let k = sizes.len();
    let mut stack = [0usize; MAX_DEPTH];
    let mut heap = Vec::new();
    let idx: &mut [usize] = if k <= MAX_DEPTH {
        &mut stack[..k]
    } else {
        heap.resize(k, 0);
        &mut heap
    };
    let mut off = [0isize; P];
    loop {
        f(&off);
        let mut j = k;
        loop {
            if j == 0 {
                return;
            }
            j -= 1;
            idx[j] += 1;
            for (o, s) in off.iter_mut().zip(&strides[j]) {
                *o += s;
            }
            if idx[j] < sizes[j] {
                break;
            }
            for (o, s) in off.iter_mut().zip(&strides[j]) {
                *o -= s * sizes[j] as isize;
            }
            idx[j] = 0;
        }
    }
}
