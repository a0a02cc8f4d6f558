//! The strided loop nest: copies and permutes, elementwise products with broadcasting,
//! reductions, diagonal reads and small contractions.
//!
//! The innermost loop is the dimension with the smallest strides; when they are 0 or 1 it runs
//! over slices (sums and dot products with independent accumulators, so they vectorise), and the
//! outer dimensions advance an odometer of offsets kept in registers.

use super::Dims;
use crate::Float;

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
#[derive(Debug)]
enum Strides {
    One(Vec<[isize; 2]>),
    Two(Vec<[isize; 3]>),
    /// `[dim][participant]`, flattened.
    Any(Vec<isize>),
}

/// A loop nest ready to run: outer dimensions (outermost first) and the innermost one.
#[derive(Debug)]
pub(crate) struct NestPlan {
    sizes: Vec<usize>,
    strides: Strides,
    /// Size of the innermost dimension (1 if there is none).
    n: usize,
    /// Stride of every participant along the innermost dimension.
    inner: Vec<isize>,
}

impl NestPlan {
    /// Orders the dimensions of `d` for the loop nest.
    pub fn new(d: &Dims) -> NestPlan {
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
        }
    }

    /// Runs the loop nest: `out[...] += Π ins[...]`.
    ///
    /// # Safety
    /// Every offset Σ index·stride (index < size) must address a valid element of its
    /// participant, and a slice of the output formed over a unit stride must not overlap one of
    /// an input (see `super::Prepared::run`).
    pub unsafe fn run<T: Float>(&self, out: *mut T, ins: &[*const T]) {
        let n = self.n;
        let s = &self.inner;
        match &self.strides {
            Strides::One(st) => {
                let (so, sa) = (s[0], s[1]);
                // SAFETY: offsets formed by the odometer are in bounds, as the caller guarantees.
                unsafe { odometer(&self.sizes, st, |o| inner1(out.offset(o[0]), so, ins[0].offset(o[1]), sa, n)) }
            }
            Strides::Two(st) => {
                let (so, sa, sb) = (s[0], s[1], s[2]);
                // SAFETY: as above.
                unsafe {
                    odometer(&self.sizes, st, |o| {
                        inner2(out.offset(o[0]), so, ins[0].offset(o[1]), sa, ins[1].offset(o[2]), sb, n)
                    })
                }
            }
            Strides::Any(st) => {
                // any number of operands: offsets in a vector
                let np = ins.len() + 1;
                let k = self.sizes.len();
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
                        if idx[j] < self.sizes[j] {
                            break;
                        }
                        for (o, &d) in off.iter_mut().zip(row) {
                            *o -= d * self.sizes[j] as isize;
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

/// Sum of a slice with eight independent accumulators (vectorises).
#[inline(always)]
fn sum<T: Float>(x: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    let mut s = T::zero();
    for &v in rest {
        s += v;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + s
}

/// Dot product of two slices with eight independent accumulators (vectorises).
#[inline(always)]
pub(super) fn dot<T: Float>(x: &[T], y: &[T]) -> T {
    let mut acc = [T::zero(); 8];
    let cx = x.chunks_exact(8);
    let cy = y.chunks_exact(8);
    let (rx, ry) = (cx.remainder(), cy.remainder());
    for (a, b) in cx.zip(cy) {
        for ((s, &u), &v) in acc.iter_mut().zip(a).zip(b) {
            *s += u * v;
        }
    }
    let mut s = T::zero();
    for (&u, &v) in rx.iter().zip(ry) {
        s += u * v;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + s
}

/// `o[i·so] += a[i·sa]` for `i < n`.
#[inline(always)]
unsafe fn inner1<T: Float>(o: *mut T, so: isize, a: *const T, sa: isize, n: usize) {
    // SAFETY (every branch): i < n = the dimension's size, so each offset is in bounds; a slice
    // is formed only over unit strides, where it covers exactly the n addressed elements, and
    // the output slice never overlaps the input slice (see `run`).
    unsafe {
        if so == 0 {
            let acc = if sa == 1 {
                sum(std::slice::from_raw_parts(a, n))
            } else {
                let mut acc = [T::zero(); 4];
                let mut i = 0;
                while i + 4 <= n {
                    for (j, s) in acc.iter_mut().enumerate() {
                        *s += *a.offset((i + j) as isize * sa);
                    }
                    i += 4;
                }
                let mut s = (acc[0] + acc[2]) + (acc[1] + acc[3]);
                while i < n {
                    s += *a.offset(i as isize * sa);
                    i += 1;
                }
                s
            };
            *o += acc;
        } else if so == 1 && sa == 1 {
            let out = std::slice::from_raw_parts_mut(o, n);
            let x = std::slice::from_raw_parts(a, n);
            for (y, &v) in out.iter_mut().zip(x) {
                *y += v;
            }
        } else if so == 1 && sa == 0 {
            let v = *a;
            for y in std::slice::from_raw_parts_mut(o, n) {
                *y += v;
            }
        } else {
            for i in 0..n as isize {
                *o.offset(i * so) += *a.offset(i * sa);
            }
        }
    }
}

/// `o[i·so] += a[i·sa] · b[i·sb]` for `i < n`.
#[inline(always)]
unsafe fn inner2<T: Float>(o: *mut T, so: isize, a: *const T, sa: isize, b: *const T, sb: isize, n: usize) {
    // SAFETY (every branch): as in `inner1`.
    unsafe {
        if so == 0 {
            if sa == 1 && sb == 1 {
                *o += dot(std::slice::from_raw_parts(a, n), std::slice::from_raw_parts(b, n));
            } else if sa == 0 && sb == 1 {
                *o += *a * sum(std::slice::from_raw_parts(b, n));
            } else if sa == 1 && sb == 0 {
                *o += sum(std::slice::from_raw_parts(a, n)) * *b;
            } else {
                let mut acc = T::zero();
                for i in 0..n as isize {
                    acc += *a.offset(i * sa) * *b.offset(i * sb);
                }
                *o += acc;
            }
        } else if so == 1 && sa == 0 && sb == 1 {
            let s = *a;
            let out = std::slice::from_raw_parts_mut(o, n);
            let y = std::slice::from_raw_parts(b, n);
            for (z, &v) in out.iter_mut().zip(y) {
                *z += s * v;
            }
        } else if so == 1 && sa == 1 && sb == 0 {
            let s = *b;
            let out = std::slice::from_raw_parts_mut(o, n);
            let x = std::slice::from_raw_parts(a, n);
            for (z, &u) in out.iter_mut().zip(x) {
                *z += u * s;
            }
        } else if so == 1 && sa == 1 && sb == 1 {
            let out = std::slice::from_raw_parts_mut(o, n);
            let x = std::slice::from_raw_parts(a, n);
            let y = std::slice::from_raw_parts(b, n);
            for ((z, &u), &v) in out.iter_mut().zip(x).zip(y) {
                *z += u * v;
            }
        } else {
            for i in 0..n as isize {
                *o.offset(i * so) += *a.offset(i * sa) * *b.offset(i * sb);
            }
        }
    }
}

/// `o[i·so] += Π_k ins[k][off[k] + i·s[k]]` for `i < n`.
#[inline(always)]
unsafe fn innern<T: Float>(o: *mut T, so: isize, ins: &[*const T], off: &[isize], s: &[isize], n: usize) {
    for i in 0..n as isize {
        let mut p = T::one();
        for ((&ptr, &base), &st) in ins.iter().zip(off).zip(s) {
            // SAFETY: i < n = the dimension's size and base is an in-bounds offset of this operand.
            p *= unsafe { *ptr.offset(base + i * st) };
        }
        // SAFETY: as above, for the output.
        unsafe { *o.offset(i * so) += p };
    }
}
