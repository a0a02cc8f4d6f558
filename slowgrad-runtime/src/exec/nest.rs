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
//! blocks of [`BLOCK`] elements (fewer when strided) and then adds the blocks' sums pairwise;
//! outer summed loops that add more than [`OUTER_BLOCK`] terms into each output element are
//! halved recursively, the second half summed into a zeroed buffer that is then added to the
//! first's result.

use super::Dims;
use crate::Float;

/// Loop depth handled with indices on the stack.
const MAX_DEPTH: usize = 16;

/// Elements a sum or dot product of slices adds in one block (16 into each of 32 independent
/// accumulators) before blocks are added pairwise.
const BLOCK: usize = 512;

/// Elements of a block of a strided sum (16 into each of four accumulators).
const STRIDED_BLOCK: usize = 64;

/// Elements of a block of a sum with one accumulator.
const SERIAL_BLOCK: usize = 32;

/// Terms the outer summed loops may add, one after another, into an output element before they
/// are split in halves summed apart. (32 additions of `0.1f32` in a row are off by 3e-7
/// relative; 128 by 1e-6.)
const OUTER_BLOCK: usize = 32;

/// `leaf(lo, hi)` summed over `lo..hi` pairwise: ranges longer than `B` are split in two (at a
/// multiple of 32 from `lo`, so a block's accumulators see whole chunks) and the halves' sums
/// added.
#[inline]
fn pairwise<T: Float, const B: usize>(lo: usize, hi: usize, leaf: &impl Fn(usize, usize) -> T) -> T {
    let n = hi - lo;
    if n <= B {
        return leaf(lo, hi);
    }
    let mid = lo + (n / 2).next_multiple_of(32).min(n - 1);
    pairwise::<T, B>(lo, mid, leaf) + pairwise::<T, B>(mid, hi, leaf)
}

/// The sum of `acc`, pairwise (`N` a power of two).
#[inline(always)]
fn tree<T: Float, const N: usize>(mut acc: [T; N]) -> T {
    let mut w = N / 2;
    while w > 0 {
        let (low, high) = acc.split_at_mut(w);
        for (a, &b) in low.iter_mut().zip(&high[..w]) {
            *a += b;
        }
        w /= 2;
    }
    acc[0]
}

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
    /// [`OUTER_BLOCK`] terms into each output element.
    blocked: Option<Box<Blocked>>,
}

/// Pairwise summation over the outer summed dimensions of a nest.
#[derive(Debug, Clone)]
struct Blocked {
    /// Positions of the summed dimensions among the outer ones.
    summed: Vec<usize>,
    /// The same nest writing into a compact buffer of the output elements it reaches.
    compact: NestPlan,
    /// Adds a compact buffer into the output.
    merge: NestPlan,
    /// Elements of a compact buffer.
    len: usize,
    /// Compact buffers needed at once: the depth of the halving.
    levels: usize,
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

impl Blocked {
    /// The pairwise summation of `plan`'s outer summed dimensions (output stride 0), if they add
    /// more than [`OUTER_BLOCK`] terms into each output element.
    fn new(plan: &NestPlan) -> Option<Blocked> {
        let np = plan.inner.len();
        let k = plan.sizes.len();
        let summed: Vec<usize> = (0..k).filter(|&d| plan.strides.get(d, 0, np) == 0).collect();
        let terms = summed.iter().fold(1usize, |t, &d| t.saturating_mul(plan.sizes[d]));
        if terms <= OUTER_BLOCK {
            return None;
        }
        // the compact buffer: the output's dimensions in loop order, innermost fastest
        let mut compact = plan.clone();
        let (mut len, mut sizes, mut from, mut to) = (1usize, Vec::new(), Vec::new(), Vec::new());
        if plan.inner[0] != 0 {
            compact.inner[0] = 1;
            (len, sizes, from, to) = (plan.n, vec![plan.n], vec![plan.inner[0]], vec![1]);
        }
        for d in (0..k).rev() {
            let st = plan.strides.get(d, 0, np);
            if st != 0 {
                compact.strides.set(d, 0, np, len as isize);
                sizes.push(plan.sizes[d]);
                from.push(st);
                to.push(len as isize);
                len *= plan.sizes[d];
            }
        }
        let merge_dims = Dims { mask: vec![0b11; sizes.len()], size: sizes, stride: vec![from, to] };
        let merge = NestPlan::unblocked(&merge_dims);
        // the depth of the halving: the second half of the largest dimension is the larger one
        let mut half = plan.sizes.clone();
        let mut levels = 0;
        while summed.iter().fold(1usize, |t, &d| t.saturating_mul(half[d])) > OUTER_BLOCK {
            let &d = summed.iter().max_by_key(|&&d| half[d]).expect("a summed dimension");
            half[d] -= half[d] / 2;
            levels += 1;
        }
        Some(Blocked { summed, compact, merge, len, levels })
    }

    /// Runs `plan` (whose pairwise summation this is) into `out`, summing pairwise.
    ///
    /// # Safety
    /// As [`NestPlan::run`].
    unsafe fn run<T: Float>(&self, plan: &NestPlan, out: *mut T, ins: &[*const T]) {
        let mut sizes = plan.sizes.clone();
        let mut ins = ins.to_vec();
        let mut buffers = vec![T::zero(); self.len * self.levels];
        // SAFETY: as the caller guarantees; the buffers hold `levels` compact outputs.
        unsafe { self.halve(plan, &mut sizes, out, false, &mut ins, buffers.as_mut_ptr(), self.levels) };
    }

    /// Adds the sum over `sizes` of the outer dimensions into `out` (`plan`'s output, or a
    /// compact buffer when `compact`), splitting the largest summed dimension in halves while
    /// they add more than [`OUTER_BLOCK`] terms: the first half into `out`, the second into a
    /// zeroed buffer then added to `out`.
    ///
    /// # Safety
    /// As [`NestPlan::run`] for `plan` with these sizes and input pointers; `out` addresses the
    /// compact layout when `compact`; `buffers` holds `levels` compact buffers that nothing else
    /// uses, enough for the halving of `sizes`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn halve<T: Float>(
        &self,
        plan: &NestPlan,
        sizes: &mut [usize],
        out: *mut T,
        compact: bool,
        ins: &mut [*const T],
        buffers: *mut T,
        levels: usize,
    ) {
        let nest = if compact { &self.compact } else { plan };
        let terms = self.summed.iter().fold(1usize, |t, &d| t.saturating_mul(sizes[d]));
        // (`levels` suffices by construction; were it short, the sum would still be right)
        if terms <= OUTER_BLOCK || levels == 0 {
            // SAFETY: as the caller guarantees.
            unsafe { nest.run_sizes(sizes, out, ins) };
            return;
        }
        let np = plan.inner.len();
        let &d = self.summed.iter().max_by_key(|&&d| sizes[d]).expect("a summed dimension");
        let whole = sizes[d];
        let first = whole / 2;
        // the first half, into `out`, free to use every buffer
        sizes[d] = first;
        // SAFETY: a sub-range of the caller's indices, with the same buffers.
        unsafe { self.halve(plan, sizes, out, compact, ins, buffers, levels) };
        // the second half, from index `first` on, into this level's buffer (the deeper levels
        // are the ones after it)
        sizes[d] = whole - first;
        for (p, ptr) in ins.iter_mut().enumerate() {
            *ptr = ptr.wrapping_offset(first as isize * plan.strides.get(d, p + 1, np));
        }
        // SAFETY: this level's buffer is `len` elements that nothing else uses.
        let buffer = unsafe { std::slice::from_raw_parts_mut(buffers, self.len) };
        buffer.fill(T::zero());
        // SAFETY: the inputs' offsets for indices first..whole of dimension `d` are the caller's
        // (in bounds); the summed dimension moves no output, so the compact output is the
        // buffer; the remaining buffers serve the deeper levels.
        unsafe {
            self.halve(plan, sizes, buffer.as_mut_ptr(), true, ins, buffers.add(self.len), levels - 1);
        }
        for (p, ptr) in ins.iter_mut().enumerate() {
            *ptr = ptr.wrapping_offset(-(first as isize) * plan.strides.get(d, p + 1, np));
        }
        sizes[d] = whole;
        if compact {
            // SAFETY: `out` is a compact buffer of `len` elements, disjoint from this one.
            let out = unsafe { std::slice::from_raw_parts_mut(out, self.len) };
            for (o, &b) in out.iter_mut().zip(buffer.iter()) {
                *o += b;
            }
        } else {
            // SAFETY: the merge walks the output elements the nest reaches (in bounds, as the
            // caller guarantees) and the compact buffer, which does not overlap the output.
            unsafe { self.merge.run_sizes(&self.merge.sizes, out, &[buffer.as_ptr()]) };
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

/// Sum of a slice: blocks summed with independent accumulators (vectorises), added pairwise.
#[inline(always)]
fn sum<T: Float>(x: &[T]) -> T {
    pairwise::<T, BLOCK>(0, x.len(), &|lo, hi| sum_block(&x[lo..hi]))
}

/// Dot product of two slices of equal length: blocks summed with independent accumulators
/// (vectorises), added pairwise.
#[inline(always)]
pub(super) fn dot<T: Float>(x: &[T], y: &[T]) -> T {
    pairwise::<T, BLOCK>(0, x.len().min(y.len()), &|lo, hi| dot_block(&x[lo..hi], &y[lo..hi]))
}

/// Sum of a slice: chunks of 32 into 32 accumulators (independent vector additions), the rest in
/// chunks of 8 into eight, then one by one.
#[inline(always)]
fn sum_block<T: Float>(x: &[T]) -> T {
    let mut total = T::zero();
    let mut x = x;
    if x.len() >= 32 {
        let mut wide = [T::zero(); 32];
        let chunks = x.chunks_exact(32);
        x = chunks.remainder();
        for c in chunks {
            for (a, &v) in wide.iter_mut().zip(c) {
                *a += v;
            }
        }
        total = tree(wide);
    }
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
    total + (tree(acc) + s)
}

/// Dot product of two slices of equal length, accumulated as in [`sum_block`].
#[inline(always)]
fn dot_block<T: Float>(x: &[T], y: &[T]) -> T {
    let mut total = T::zero();
    let (mut x, mut y) = (x, y);
    if x.len() >= 32 && y.len() >= 32 {
        let mut wide = [T::zero(); 32];
        let (cx, cy) = (x.chunks_exact(32), y.chunks_exact(32));
        (x, y) = (cx.remainder(), cy.remainder());
        for (a, b) in cx.zip(cy) {
            for ((s, &u), &v) in wide.iter_mut().zip(a).zip(b) {
                *s += u * v;
            }
        }
        total = tree(wide);
    }
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
    total + (tree(acc) + s)
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
                pairwise::<T, STRIDED_BLOCK>(0, n, &|lo, hi| {
                    let mut acc = [T::zero(); 4];
                    let mut i = lo;
                    while i + 4 <= hi {
                        for (j, s) in acc.iter_mut().enumerate() {
                            *s += *a.offset((i + j) as isize * sa);
                        }
                        i += 4;
                    }
                    let mut s = (acc[0] + acc[2]) + (acc[1] + acc[3]);
                    while i < hi {
                        s += *a.offset(i as isize * sa);
                        i += 1;
                    }
                    s
                })
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
                *o += pairwise::<T, SERIAL_BLOCK>(0, n, &|lo, hi| {
                    let mut acc = T::zero();
                    for i in lo as isize..hi as isize {
                        acc += *a.offset(i * sa) * *b.offset(i * sb);
                    }
                    acc
                });
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

/// `o[i·so] += Π_k ins[k][off[k] + i·s[k]]` for `i < n` (summed pairwise when `so` is 0).
#[inline(always)]
unsafe fn innern<T: Float>(o: *mut T, so: isize, ins: &[*const T], off: &[isize], s: &[isize], n: usize) {
    let term = |i: isize| {
        let mut p = T::one();
        for ((&ptr, &base), &st) in ins.iter().zip(off).zip(s) {
            // SAFETY: i < n = the dimension's size and base is an in-bounds offset of this operand.
            p *= unsafe { *ptr.offset(base + i * st) };
        }
        p
    };
    if so == 0 {
        let acc = pairwise::<T, SERIAL_BLOCK>(0, n, &|lo, hi| {
            (lo as isize..hi as isize).fold(T::zero(), |acc, i| acc + term(i))
        });
        // SAFETY: the output element is in bounds, as the caller guarantees.
        unsafe { *o += acc };
        return;
    }
    for i in 0..n as isize {
        // SAFETY: as above, for the output.
        unsafe { *o.offset(i * so) += term(i) };
    }
}

#[cfg(test)]
mod tests {
    use super::super::{execute, execute_reference};
    use super::*;
    use ndarray::{s, Array, ArrayD, IxDyn};
    use slowgrad_core::ExtEinsum;

    /// Small integers: every sum of them is exact in f64, whatever the order, so the pairwise
    /// nest must equal the reference exactly.
    fn ints(shape: &[usize], seed: usize) -> ArrayD<f64> {
        let n: usize = shape.iter().product();
        Array::from_shape_vec(IxDyn(shape), (0..n).map(|i| ((i * 37 + seed * 11) % 19) as f64 - 9.0).collect()).unwrap()
    }

    #[track_caller]
    fn same_as_reference(inputs: &str, output: &str, ops: &[&ArrayD<f64>], out_shape: Option<&[usize]>) {
        let spec = ExtEinsum::from_letters(inputs, output).unwrap();
        let views: Vec<_> = ops.iter().map(|a| a.view()).collect();
        let got = execute(&spec, &views, out_shape).unwrap();
        let want = execute_reference(&spec, &views, out_shape).unwrap();
        assert_eq!(got, want, "{inputs}->{output}");
    }

    #[test]
    fn pairwise_splits_at_multiples_of_32_and_covers_the_range() {
        let n = 3000;
        // count how often each index is visited and how long the leaves are
        let seen = std::cell::RefCell::new(vec![0u32; n]);
        let total = pairwise::<f64, BLOCK>(0, n, &|lo, hi| {
            assert!(hi - lo <= BLOCK && lo % 32 == 0, "leaf {lo}..{hi}");
            for c in &mut seen.borrow_mut()[lo..hi] {
                *c += 1;
            }
            (hi - lo) as f64
        });
        assert_eq!(total, n as f64);
        assert!(seen.borrow().iter().all(|&c| c == 1));
        assert_eq!(sum(&[1.0f64; 1000]), 1000.0);
        let x: Vec<f64> = (0..777).map(|i| i as f64).collect();
        assert_eq!(dot(&x, &x), (0..777).map(|i| (i * i) as f64).sum::<f64>());
    }

    /// Outer summed loops long enough to be halved, with one, two and three inputs, strided
    /// and broadcast operands, summed to size 1, and outputs of every rank.
    #[test]
    fn halved_outer_sums_equal_the_reference() {
        let a = ints(&[300, 5], 1);
        same_as_reference("ij", "j", &[&a], None);
        same_as_reference("ij", "", &[&a.clone().reversed_axes()], None);
        same_as_reference("ij", "ij", &[&a], Some(&[1, 5]));
        let b = ints(&[300, 5], 2);
        same_as_reference("ij,ij", "j", &[&a, &b], None);
        same_as_reference("ij,ij,ij", "j", &[&a, &b, &a], None);
        // two summed outer dimensions, neither longer than 32, whose product is
        let c = ints(&[20, 3, 30, 2], 3).permuted_axes(IxDyn(&[1, 0, 3, 2]));
        same_as_reference("abcd", "ac", &[&c], None);
        same_as_reference("abcd", "", &[&c], None);
        // a strided operand, summed along and across
        let d = ints(&[400, 90], 4);
        let v = d.slice(s![..;3, 1..;2]).to_owned().reversed_axes().into_dyn();
        same_as_reference("ij", "i", &[&v], None);
        same_as_reference("ij", "j", &[&v], None);
        // a column of a broadcast operand times a row
        let e = ints(&[500, 1], 5);
        let f = ints(&[1, 7], 6);
        same_as_reference("ij,ij", "j", &[&e, &f], None);
    }

    #[test]
    fn only_long_outer_sums_are_halved() {
        let plan = |inputs: &str, output: &str, shapes: &[&[usize]]| {
            let spec = ExtEinsum::from_letters(inputs, output).unwrap();
            let arrays: Vec<ArrayD<f64>> = shapes.iter().map(|s| ArrayD::zeros(IxDyn(s))).collect();
            let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
            let sizes = spec.label_sizes(shapes, None).unwrap();
            let shape = spec.output_shape(&sizes).unwrap();
            let out = ArrayD::<f64>::zeros(IxDyn(&shape));
            let strides: Vec<isize> = out.strides().to_vec();
            NestPlan::new(&Dims::new(&spec, &sizes, &shape, &strides, &views))
        };
        // rows summed into 4 columns: 1000 terms each, halved down to 32; two buffers of 4
        let p = plan("ij", "j", &[&[1000, 4]]);
        let b = p.blocked.as_ref().expect("halved");
        assert_eq!((b.len, b.summed.len()), (4, 1));
        assert_eq!(b.levels, 5); // 1000 → 500 → 250 → 125 → 63 → 32
                                 // 32 rows: one block; a sum along the innermost loop is never halved here
        assert!(plan("ij", "j", &[&[32, 4]]).blocked.is_none());
        assert!(plan("ij", "i", &[&[4, 1000]]).blocked.is_none());
    }
}
