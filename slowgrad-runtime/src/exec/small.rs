//! The loop nest of small kernels: the code every `einsum!` kernel under the GEMM threshold
//! runs, compiled once here for `f32` and `f64` (so a pattern adds only its constant data to the
//! crate that uses it), in an AVX2+FMA copy chosen at run time and a baseline copy.
//!
//! A kernel arrives as loop sizes (outermost first) and one stride per loop for the output and
//! each of its one or two inputs. The innermost two loops run as plain loops, the rest as an
//! odometer. When one of the two innermost loops runs contiguously along the output and the
//! other sums a label, blocks of outputs stay in registers while the sum runs (`row_sum`);
//! each input is then read in blocks (unit stride), broadcast (stride 0) or, when it moves
//! along the block with another stride, first copied into a buffer in which it has unit stride
//! there (a transposed operand, as in the gradient `ik,jk->ij` of a matrix product), so no
//! element is gathered.

use crate::Float;
use std::any::TypeId;
use std::mem::MaybeUninit;

/// Most loops of a small nest.
pub const MAX_LOOPS: usize = 16;

/// Most elements of an operand that is copied into a buffer (on the stack) to be read with unit
/// stride; larger ones are gathered. Work under the GEMM threshold never reads more.
const PACK_MAX: usize = 1024;

/// Runs a small loop nest: `out[Σ i·so] += Π_k ins[k][Σ i·s_k]` over every index tuple `i`
/// below `sizes` (outermost loop first), with `strides[0]` the output's stride per loop and
/// `strides[k + 1]` input `k`'s. `ins` holds one or two inputs (`n_inputs`); the second is
/// ignored when there is one.
///
/// # Safety
/// `sizes.len() <= MAX_LOOPS`, `n_inputs` is 1 or 2, no size is 0, every offset Σ index·stride
/// with index below the sizes addresses an element of the output (`out`) or of the input, the
/// output may not alias an input, and distinct index tuples reach distinct output elements or
/// are summed into them (the output is only added to).
pub unsafe fn run_nest<T: Float>(
    sizes: &[usize],
    strides: &[[isize; MAX_LOOPS]; 3],
    out: *mut T,
    ins: [*const T; 2],
    n_inputs: usize,
) {
    // SAFETY (every call): as the caller guarantees; a pointer is cast only to its own type.
    unsafe {
        if TypeId::of::<T>() == TypeId::of::<f32>() {
            run_f32(sizes, strides, out.cast(), ins.map(|p| p.cast()), n_inputs)
        } else if TypeId::of::<T>() == TypeId::of::<f64>() {
            run_f64(sizes, strides, out.cast(), ins.map(|p| p.cast()), n_inputs)
        } else {
            run_typed::<T>(sizes, strides, out, ins, n_inputs)
        }
    }
}

/// [`run_nest`] for `f32`, compiled in this crate.
///
/// # Safety
/// As [`run_nest`].
#[inline(never)]
unsafe fn run_f32(sizes: &[usize], strides: &[[isize; MAX_LOOPS]; 3], out: *mut f32, ins: [*const f32; 2], n: usize) {
    // SAFETY: as the caller guarantees.
    unsafe { run_typed(sizes, strides, out, ins, n) }
}

/// [`run_nest`] for `f64`, compiled in this crate.
///
/// # Safety
/// As [`run_nest`].
#[inline(never)]
unsafe fn run_f64(sizes: &[usize], strides: &[[isize; MAX_LOOPS]; 3], out: *mut f64, ins: [*const f64; 2], n: usize) {
    // SAFETY: as the caller guarantees.
    unsafe { run_typed(sizes, strides, out, ins, n) }
}

/// # Safety
/// As [`run_nest`].
#[inline(always)]
unsafe fn run_typed<T: Float>(
    sizes: &[usize],
    strides: &[[isize; MAX_LOOPS]; 3],
    out: *mut T,
    ins: [*const T; 2],
    n_inputs: usize,
) {
    let nest = Nest { sizes, strides };
    // SAFETY: as the caller guarantees.
    unsafe {
        if n_inputs == 1 {
            nest.run::<T, 1>(out, [ins[0]]);
        } else {
            nest.run::<T, 2>(out, ins);
        }
    }
}

/// Whether generated kernels run their AVX2+FMA copy: the processor has both, and the
/// environment variable `SLOWGRAD_BASELINE_KERNELS` is not set (it selects the baseline copy,
/// whose products are rounded before they are added, as on a processor without FMA: for tests
/// of that copy, or results that agree across processors). Read once per process.
pub fn kernels_use_fma() -> bool {
    static FMA: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FMA.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        let has = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        #[cfg(not(target_arch = "x86_64"))]
        let has = false;
        has && std::env::var_os("SLOWGRAD_BASELINE_KERNELS").is_none()
    })
}

struct Nest<'a> {
    sizes: &'a [usize],
    strides: &'a [[isize; MAX_LOOPS]; 3],
}

impl Nest<'_> {
    /// Runs the loops, compiled for AVX2 with fused multiply-adds when the processor has them
    /// (detected at run time, so the default build needs no `target-cpu` flag), for the baseline
    /// instruction set otherwise.
    ///
    /// Inputs read along the output's block with a stride other than 0 or 1 are first copied
    /// into buffers in which that stride is 1 ([`Nest::run_packed`]).
    ///
    /// # Safety
    /// As [`Nest::run_with`].
    unsafe fn run<T: Float, const N: usize>(&self, out: *mut T, ins: [*const T; N]) {
        if let Some((b, pack)) = self.to_pack::<N>() {
            // SAFETY: as the caller guarantees.
            return unsafe { self.run_packed::<T, N>(out, ins, b, pack) };
        }
        // SAFETY: as the caller guarantees.
        unsafe { self.dispatch::<T, N>(out, ins) }
    }

    /// The loop level along which [`Nest::run_with`] keeps a block of outputs in registers, if
    /// it does: the innermost when it writes contiguously and the next one out sums, or the
    /// next one out when it writes contiguously and the innermost sums.
    fn block_level(&self) -> Option<usize> {
        let d = self.sizes.len();
        if d < 2 {
            return None;
        }
        let (s_out, m_out) = (self.strides[0][d - 1], self.strides[0][d - 2]);
        if m_out == 0 && s_out == 1 {
            Some(d - 1)
        } else if s_out == 0 && m_out == 1 {
            Some(d - 2)
        } else {
            None
        }
    }

    /// Elements of input `k` (the product of the sizes of the loops that move it).
    fn extent(&self, k: usize) -> usize {
        self.sizes.iter().zip(&self.strides[k + 1]).filter(|(_, &s)| s != 0).map(|(&n, _)| n).product()
    }

    /// The block level and the inputs (a bit each) to copy before the loops: those read along
    /// it with a stride other than 0 or 1, if they are small enough; `None` when there is none.
    fn to_pack<const N: usize>(&self) -> Option<(usize, u32)> {
        let b = self.block_level()?;
        let pack = (0..N)
            .filter(|&k| !matches!(self.strides[k + 1][b], 0 | 1) && self.extent(k) <= PACK_MAX)
            .fold(0, |m, k| m | 1 << k);
        (pack != 0).then_some((b, pack))
    }

    /// Copies the inputs in `pack` into buffers in which they have unit stride along the block
    /// level `b` (and the other loops that move them outside it, innermost first), then runs
    /// the loops on the copies.
    ///
    /// # Safety
    /// As [`Nest::run_with`]; each input in `pack` has at most [`PACK_MAX`] elements.
    #[inline(never)]
    unsafe fn run_packed<T: Float, const N: usize>(&self, out: *mut T, mut ins: [*const T; N], b: usize, pack: u32) {
        let mut strides = *self.strides;
        let mut bufs = [[MaybeUninit::<T>::uninit(); PACK_MAX]; N];
        for (k, buf) in bufs.iter_mut().enumerate() {
            if pack & 1 << k == 0 {
                continue;
            }
            // the loops that move input k, the block level first, then the others innermost
            // first, and their strides in the copy
            let mut levels = [0usize; MAX_LOOPS];
            let mut m = 0;
            for l in std::iter::once(b).chain((0..self.sizes.len()).rev().filter(|&l| l != b)) {
                if strides[k + 1][l] != 0 {
                    levels[m] = l;
                    m += 1;
                }
            }
            let levels = &levels[..m];
            let old = strides[k + 1];
            let mut step = 1isize;
            for &l in levels {
                strides[k + 1][l] = step;
                step *= self.sizes[l] as isize;
            }
            // one pass over the copy in order: the first level innermost
            let (n0, s0) = (self.sizes[b], old[b]);
            let mut idx = [0usize; MAX_LOOPS];
            let (mut from, mut to) = (0isize, 0usize);
            loop {
                for c in 0..n0 {
                    // SAFETY: the offset is Σ index·stride over indices below the sizes, an
                    // element as the caller guarantees; `to + c` is below the extent, at most
                    // PACK_MAX.
                    unsafe { buf.get_unchecked_mut(to + c).write(*ins[k].offset(from + c as isize * s0)) };
                }
                to += n0;
                let mut d = 1;
                loop {
                    if d == levels.len() {
                        break;
                    }
                    let l = levels[d];
                    idx[d] += 1;
                    from += old[l];
                    if idx[d] < self.sizes[l] {
                        break;
                    }
                    from -= old[l] * self.sizes[l] as isize;
                    idx[d] = 0;
                    d += 1;
                }
                if d == levels.len() {
                    break;
                }
            }
            ins[k] = buf.as_ptr().cast();
        }
        let nest = Nest { sizes: self.sizes, strides: &strides };
        // SAFETY: each copy holds its input's elements at the offsets its new strides give.
        unsafe { nest.dispatch::<T, N>(out, ins) }
    }

    /// [`Nest::run_with`] in the copy for this processor.
    ///
    /// # Safety
    /// As [`Nest::run_with`].
    #[inline(always)]
    unsafe fn dispatch<T: Float, const N: usize>(&self, out: *mut T, ins: [*const T; N]) {
        #[cfg(target_arch = "x86_64")]
        if kernels_use_fma() {
            // SAFETY: the processor has the features `run_fma` is compiled for; the rest as
            // the caller guarantees.
            return unsafe { self.run_fma::<T, N>(out, ins) };
        }
        // SAFETY: as the caller guarantees.
        unsafe { self.run_with::<T, N, false>(out, ins) }
    }

    /// [`Nest::run_with`] compiled for AVX2 and FMA.
    ///
    /// # Safety
    /// As [`Nest::run_with`], on a processor with AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_fma<T: Float, const N: usize>(&self, out: *mut T, ins: [*const T; N]) {
        // SAFETY: as the caller guarantees.
        unsafe { self.run_with::<T, N, true>(out, ins) }
    }

    /// Runs the loops: the innermost two as plain loops (the innermost in [`inner`]), the rest as
    /// an odometer. With `FMA`, products are added with fused multiply-adds ([`mac`]).
    ///
    /// # Safety
    /// Every offset formed from `sizes` and `strides` must address an element of the output
    /// (`out`) or of the inputs (`ins`), and the output may not alias an input.
    #[inline(always)]
    unsafe fn run_with<T: Float, const N: usize, const FMA: bool>(&self, out: *mut T, ins: [*const T; N]) {
        let Some((&n_inner, outer)) = self.sizes.split_last() else {
            // no labels: a product of single elements
            // SAFETY: every participant holds at least one element (no size is 0).
            unsafe { *out += product(ins, [0; N]) };
            return;
        };
        let last = outer.len();
        let s_out = self.strides[0][last];
        let s_in: [isize; N] = std::array::from_fn(|k| self.strides[k + 1][last]);
        let Some((&n_mid, odometer)) = outer.split_last() else {
            // SAFETY: one loop, below its size, as the caller guarantees.
            unsafe { inner::<T, N, FMA>(out, s_out, ins, s_in, n_inner) };
            return;
        };
        let m_out = self.strides[0][odometer.len()];
        let m_in: [isize; N] = std::array::from_fn(|k| self.strides[k + 1][odometer.len()]);
        // One of the two innermost loops runs contiguously along the output and the other sums
        // a label: keep blocks of outputs in registers while the sum runs.
        let block = self.block_level();
        let row = block == Some(last);
        let col = block == Some(odometer.len());
        let (s_blk, m_blk, n_sum, n_blk) =
            if row { (s_in, m_in, n_mid, n_inner) } else { (m_in, s_in, n_inner, n_mid) };
        // Two rows of the next loop out at once, when they write disjoint blocks of the output:
        // two independent chains of additions instead of one.
        let pair = (row || col)
            && odometer.last().is_some_and(|&n| n >= 2)
            && self.strides[0][odometer.len() - 1].unsigned_abs() >= n_blk;
        let (odometer, n_rows, r_out, r_in) = match odometer.split_last() {
            Some((&n, rest)) if pair => {
                let lvl = rest.len();
                (rest, n, self.strides[0][lvl], std::array::from_fn(|k| self.strides[k + 1][lvl]))
            }
            _ => (odometer, 1, 0, [0isize; N]),
        };
        // how each input is read along the block, for the copy of `row_sum` that reads it so
        let class = (0..N).rev().fold(0u32, |c, k| c * 3 + read_class(s_blk[k]));
        let geometry = Rows { ro: r_out, ri: r_in, s: s_blk, m: m_blk, n_sum, n: n_blk };
        let mid = odometer.len();
        let mut idx = [0usize; MAX_LOOPS];
        let mut off_out = 0isize;
        let mut off_in = [0isize; N];
        loop {
            let (mut o, mut i) = (off_out, off_in);
            if row || col {
                let at = std::array::from_fn(|k| ins[k].wrapping_offset(i[k]));
                // SAFETY: the same offsets as the loops below, which the caller guarantees.
                unsafe { rows_any::<T, N, FMA>(class, out.offset(o), at, geometry, n_rows) };
            } else {
                for _ in 0..n_mid {
                    // SAFETY: offsets index elements, as the caller guarantees; the two inner
                    // loops stay below their labels' sizes.
                    unsafe {
                        inner::<T, N, FMA>(
                            out.offset(o),
                            s_out,
                            std::array::from_fn(|k| ins[k].offset(i[k])),
                            s_in,
                            n_inner,
                        )
                    };
                    o += m_out;
                    for k in 0..N {
                        i[k] += m_in[k];
                    }
                }
            }
            let mut lvl = mid;
            loop {
                if lvl == 0 {
                    return;
                }
                lvl -= 1;
                idx[lvl] += 1;
                off_out += self.strides[0][lvl];
                for (k, o) in off_in.iter_mut().enumerate() {
                    *o += self.strides[k + 1][lvl];
                }
                if idx[lvl] < odometer[lvl] {
                    break;
                }
                let back = odometer[lvl] as isize;
                off_out -= self.strides[0][lvl] * back;
                for (k, o) in off_in.iter_mut().enumerate() {
                    *o -= self.strides[k + 1][lvl] * back;
                }
                idx[lvl] = 0;
            }
        }
    }
}

/// How an input is read along a block of outputs: 0 broadcast (stride 0), 1 in blocks (stride
/// 1), 2 gathered (any other stride). A kernel's inputs are encoded as Σ class_k·3^k.
fn read_class(stride: isize) -> u32 {
    match stride {
        0 => 0,
        1 => 1,
        _ => 2,
    }
}

/// Where the rows of a block of outputs lie ([`row_sum`]): output row `r`, column `c` is
/// `out[r·ro + c]`, and input `k` is read at `r·ri[k] + j·m[k] + c·s[k]` for the summed `j`.
#[derive(Clone, Copy)]
struct Rows<const N: usize> {
    ro: isize,
    ri: [isize; N],
    s: [isize; N],
    m: [isize; N],
    /// Length of the sum (`j`).
    n_sum: usize,
    /// Length of a row (`c`).
    n: usize,
}

/// [`rows`] in the copy compiled for the inputs' read classes (`class`, as [`read_class`]).
///
/// # Safety
/// As [`rows`].
#[inline(always)]
unsafe fn rows_any<T: Float, const N: usize, const FMA: bool>(
    class: u32,
    out: *mut T,
    ins: [*const T; N],
    g: Rows<N>,
    n_rows: usize,
) {
    macro_rules! go {
        ($($c:literal)*) => {
            match class {
                // SAFETY: as the caller guarantees.
                $($c => unsafe { rows::<T, N, FMA, $c>(out, ins, g, n_rows) },)*
                // SAFETY: as the caller guarantees; every read checks its stride.
                _ => unsafe { rows::<T, N, FMA, DYNAMIC>(out, ins, g, n_rows) },
            }
        };
    }
    if N == 1 {
        go!(0 1)
    } else {
        go!(0 1 3 4)
    }
}

/// The read class code under which every read checks its stride.
const DYNAMIC: u32 = u32::MAX;

/// [`row_sum`] over `n_rows` rows, two at a time while two are left (two independent chains of
/// additions instead of one).
///
/// # Safety
/// As [`row_sum`] for every row below `n_rows`, whose blocks of the output are disjoint.
#[inline(always)]
unsafe fn rows<T: Float, const N: usize, const FMA: bool, const CLASS: u32>(
    out: *mut T,
    mut ins: [*const T; N],
    g: Rows<N>,
    n_rows: usize,
) {
    let mut r = 0;
    let mut o = out;
    // one row at a time: no row stride
    let single = Rows { ro: 0, ri: [0; N], ..g };
    // SAFETY: rows below `n_rows`, as the caller guarantees.
    unsafe {
        while r + 2 <= n_rows {
            row_sum::<T, N, 2, FMA, CLASS>(o, ins, g);
            r += 2;
            o = o.offset(2 * g.ro);
            ins = std::array::from_fn(|k| ins[k].wrapping_offset(2 * g.ri[k]));
        }
        if r < n_rows {
            row_sum::<T, N, 1, FMA, CLASS>(o, ins, single);
        }
    }
}

/// `out[r·ro + c] += Σ_j Π_k ins[k][r·ri[k] + j·m[k] + c·s[k]]` for `r < R`, `c < n`,
/// `j < n_sum` (the fields of `g`), with `out` contiguous: blocks of [`LANES`] outputs of each of
/// the `R` rows stay in registers while `j` runs (each output gets the same additions, in the
/// same order, as one pass of the loops over `j` outside `c`). Inputs are read in blocks where
/// `s[k]` is 1, broadcast where it is 0 and gathered otherwise.
///
/// # Safety
/// Every offset `r·ri[k] + j·m[k] + c·s[k]` must address an element of `ins[k]`, `out[r·ro + c]`
/// one of the output, the `R` output rows must not overlap, and the output may not alias an
/// input.
#[inline(always)]
unsafe fn row_sum<T: Float, const N: usize, const R: usize, const FMA: bool, const CLASS: u32>(
    out: *mut T,
    ins: [*const T; N],
    g: Rows<N>,
) {
    let Rows { ro, ri, s, m, n_sum, n } = g;
    let full = n - n % LANES;
    // SAFETY (every access): r < R, c < n and j < n_sum, as the caller guarantees; a block of
    // LANES is read or written as one only along a unit stride, below `full`.
    unsafe {
        for c in (0..full).step_by(LANES) {
            let o: [*mut [T; LANES]; R] = std::array::from_fn(|r| out.offset(r as isize * ro + c as isize) as *mut _);
            let mut acc: [[T; LANES]; R] = std::array::from_fn(|r| std::ptr::read_unaligned(o[r]));
            for j in 0..n_sum as isize {
                for (r, acc) in acc.iter_mut().enumerate() {
                    // the factors of each input, then their product added to the block
                    let vals: [[T; LANES]; N] = std::array::from_fn(|k| {
                        let p = ins[k].offset(r as isize * ri[k] + j * m[k] + c as isize * s[k]);
                        // the input's read class, a constant unless CLASS is DYNAMIC
                        let class = if CLASS == DYNAMIC { read_class(s[k]) } else { CLASS / 3u32.pow(k as u32) % 3 };
                        if class == 1 {
                            std::ptr::read_unaligned(p as *const [T; LANES])
                        } else if class == 0 {
                            [*p; LANES]
                        } else {
                            std::array::from_fn(|l| *p.offset(l as isize * s[k]))
                        }
                    });
                    let mut v = vals[0];
                    for f in vals.iter().take(N.saturating_sub(1)).skip(1) {
                        for l in 0..LANES {
                            v[l] *= f[l];
                        }
                    }
                    for l in 0..LANES {
                        acc[l] = if N == 1 { acc[l] + v[l] } else { mac::<T, FMA>(acc[l], v[l], vals[N - 1][l]) };
                    }
                }
            }
            for (o, acc) in o.into_iter().zip(acc) {
                std::ptr::write_unaligned(o, acc);
            }
        }
        for r in 0..R as isize {
            for c in full..n {
                let o = out.offset(r * ro + c as isize);
                let mut acc = *o;
                for j in 0..n_sum as isize {
                    acc += product(ins, std::array::from_fn(|k| r * ri[k] + j * m[k] + c as isize * s[k]));
                }
                *o = acc;
            }
        }
    }
}

/// `acc + a·b`: one fused multiply-add with `FMA` (which only code compiled for a processor with
/// FMA instructions may ask for: elsewhere it would be a slow library call), else a product and
/// a sum.
#[inline(always)]
fn mac<T: Float, const FMA: bool>(acc: T, a: T, b: T) -> T {
    if FMA {
        a.mul_add(b, acc)
    } else {
        acc + a * b
    }
}

/// # Safety
/// `ins[k] + off[k]` must address an element.
#[inline(always)]
unsafe fn product<T: Float, const N: usize>(ins: [*const T; N], off: [isize; N]) -> T {
    let mut p = T::one();
    for k in 0..N {
        // SAFETY: as the caller guarantees.
        p *= unsafe { *ins[k].offset(off[k]) };
    }
    p
}

/// Lanes of the innermost loops: they run in fixed blocks of this many elements, which the
/// compiler turns into vector instructions however short the loop (a loop of unknown length is
/// only vectorised in blocks of several vectors, and 8×8 products would never reach one).
const LANES: usize = 8;
// the dot product below adds its LANES partial sums pairwise, written out for eight
const _: () = assert!(LANES == 8);

/// The innermost loop: `out[i·so] += Π ins[k][i·s[k]]` for `i < n`, accumulated in a register
/// when the output does not move (a summed label or a size-1 output dimension).
///
/// # Safety
/// For every `i < n` the offsets must address elements, and the output may not alias an input.
#[inline(always)]
unsafe fn inner<T: Float, const N: usize, const FMA: bool>(
    out: *mut T,
    so: isize,
    ins: [*const T; N],
    s: [isize; N],
    n: usize,
) {
    // SAFETY (every branch): i < n, the innermost label's size, so each offset is in bounds; a
    // slice is formed only along a unit stride, where it covers exactly the addressed elements.
    unsafe {
        if so == 0 {
            let acc = if s.iter().all(|&x| x == 1) {
                // a dot product: LANES partial sums, added pairwise at the end
                let moving: [&[T]; N] = std::array::from_fn(|k| std::slice::from_raw_parts(ins[k], n));
                let full = n - n % LANES;
                let mut lanes = [T::zero(); LANES];
                for c in (0..full).step_by(LANES) {
                    for (l, lane) in lanes.iter_mut().enumerate() {
                        let mut p = moving[0][c + l];
                        for m in moving.iter().take(N.saturating_sub(1)).skip(1) {
                            p *= m[c + l];
                        }
                        *lane = if N == 1 { *lane + p } else { mac::<T, FMA>(*lane, p, moving[N - 1][c + l]) };
                    }
                }
                let mut acc =
                    ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
                for i in full..n {
                    acc += product(ins, [i as isize; N]);
                }
                acc
            } else {
                let mut acc = T::zero();
                for i in 0..n as isize {
                    acc += product(ins, s.map(|x| x * i));
                }
                acc
            };
            *out += acc;
        } else if so == 1 && s.iter().all(|&x| x == 0 || x == 1) {
            // contiguous output; every input either contiguous or constant along the loop: hoist
            // the constants and run over slices in blocks of LANES
            let o = std::slice::from_raw_parts_mut(out, n);
            let mut c = T::one();
            let mut moving: [&[T]; N] = [&[]; N];
            let mut m = 0;
            for k in 0..N {
                if s[k] == 0 {
                    c *= *ins[k];
                } else {
                    moving[m] = std::slice::from_raw_parts(ins[k], n);
                    m += 1;
                }
            }
            match m {
                0 => o.iter_mut().for_each(|y| *y += c),
                1 => axpy::<T, FMA>(o, c, moving[0]),
                _ => axpy2::<T, FMA>(o, c, moving[0], moving[N - 1]),
            }
        } else {
            for i in 0..n as isize {
                *out.offset(i * so) += product(ins, s.map(|x| x * i));
            }
        }
    }
}

/// `y += c·a` in blocks of [`LANES`]. Each block is loaded into registers before any store, so
/// the compiler needs no proof that the slices do not overlap to use vector instructions.
#[inline(always)]
fn axpy<T: Float, const FMA: bool>(y: &mut [T], c: T, a: &[T]) {
    let mut yc = y.chunks_exact_mut(LANES);
    let mut ac = a.chunks_exact(LANES);
    for (y, a) in (&mut yc).zip(&mut ac) {
        if let (Ok(y), Ok(a)) = (<&mut [T; LANES]>::try_from(y), <&[T; LANES]>::try_from(a)) {
            let (a, mut v) = (*a, *y);
            for l in 0..LANES {
                v[l] = mac::<T, FMA>(v[l], c, a[l]);
            }
            *y = v;
        }
    }
    yc.into_remainder().iter_mut().zip(ac.remainder()).for_each(|(y, &a)| *y += c * a);
}

/// `y += c·a·b` elementwise, as [`axpy`].
#[inline(always)]
fn axpy2<T: Float, const FMA: bool>(y: &mut [T], c: T, a: &[T], b: &[T]) {
    let mut yc = y.chunks_exact_mut(LANES);
    let mut ac = a.chunks_exact(LANES);
    let mut bc = b.chunks_exact(LANES);
    for ((y, a), b) in (&mut yc).zip(&mut ac).zip(&mut bc) {
        if let (Ok(y), Ok(a), Ok(b)) =
            (<&mut [T; LANES]>::try_from(y), <&[T; LANES]>::try_from(a), <&[T; LANES]>::try_from(b))
        {
            let (a, b, mut v) = (*a, *b, *y);
            for l in 0..LANES {
                v[l] = mac::<T, FMA>(v[l], c * a[l], b[l]);
            }
            *y = v;
        }
    }
    yc.into_remainder().iter_mut().zip(ac.remainder()).zip(bc.remainder()).for_each(|((y, &a), &b)| *y += c * a * b);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), so failures reproduce.
    struct Gen(u64);

    impl Gen {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// A random participant over the loops: a subset of them in a random order, laid out
    /// contiguously in that order (the last fastest), sometimes reversed in memory or with a
    /// gap between elements; returns its element count (its buffer's length) and strides.
    fn layout(g: &mut Gen, sizes: &[usize], all: bool) -> (usize, [isize; MAX_LOOPS], isize) {
        let mut loops: Vec<usize> = (0..sizes.len()).filter(|_| all || g.below(3) != 0).collect();
        for i in (1..loops.len()).rev() {
            loops.swap(i, g.below(i + 1));
        }
        let gap = 1 + g.below(2) as isize;
        let mut strides = [0isize; MAX_LOOPS];
        let mut step = gap;
        for &l in loops.iter().rev() {
            strides[l] = step;
            step *= sizes[l] as isize;
        }
        let len = step as usize;
        // a reversed layout starts at the last element and walks back
        let mut base = 0;
        if !all && g.below(4) == 0 {
            for &l in &loops {
                base += strides[l] * (sizes[l] as isize - 1);
                strides[l] = -strides[l];
            }
        }
        (len, strides, base)
    }

    /// The nest as plain loops, in f64.
    fn reference(sizes: &[usize], st: &[[isize; MAX_LOOPS]; 3], out: &mut [f64], ins: &[(&[f64], isize)]) {
        let total: usize = sizes.iter().product();
        for mut t in 0..total {
            let mut off = [0isize; 3];
            for l in (0..sizes.len()).rev() {
                let i = (t % sizes[l]) as isize;
                t /= sizes[l];
                for (p, o) in off.iter_mut().enumerate() {
                    *o += i * st[p][l];
                }
            }
            let mut v = 1.0;
            for (k, (a, base)) in ins.iter().enumerate() {
                v *= a[(base + off[k + 1]) as usize];
            }
            out[off[0] as usize] += v;
        }
    }

    fn check<T: Float>(seed: u64) {
        let mut g = Gen(seed);
        for case in 0..400 {
            let depth = 1 + g.below(4);
            let sizes: Vec<usize> = (0..depth).map(|_| 1 + g.below(10)).collect();
            let n_in = 1 + g.below(2);
            let mut st = [[0isize; MAX_LOOPS]; 3];
            // the output: a subset of the loops, contiguous (distinct tuples of its loops reach
            // distinct elements; the others are summed)
            let mut out_loops: Vec<usize> = (0..depth).filter(|_| g.below(2) == 0).collect();
            if g.below(2) == 0 {
                out_loops.reverse();
            }
            let mut step = 1isize;
            for &l in out_loops.iter().rev() {
                st[0][l] = step;
                step *= sizes[l] as isize;
            }
            let out_len = step as usize;
            let mut bufs = Vec::new();
            for k in 0..n_in {
                let (len, s, base) = layout(&mut g, &sizes, false);
                st[k + 1] = s;
                let data: Vec<f64> = (0..len).map(|i| ((i * 7 + k * 3) % 11) as f64 - 5.0).collect();
                bufs.push((data, base));
            }
            let mut want = vec![0.0; out_len];
            let refs: Vec<(&[f64], isize)> = bufs.iter().map(|(d, b)| (&d[..], *b)).collect();
            reference(&sizes, &st, &mut want, &refs);
            let typed: Vec<Vec<T>> = bufs.iter().map(|(d, _)| d.iter().map(|&x| T::cast(x)).collect()).collect();
            let mut got = vec![T::zero(); out_len];
            let ptr = |k: usize| typed.get(k).map_or(std::ptr::null(), |d| d.as_ptr().wrapping_offset(bufs[k].1));
            // SAFETY: every offset is inside its buffer by construction; the output is its own.
            unsafe { run_nest(&sizes, &st, got.as_mut_ptr(), [ptr(0), ptr(1)], n_in) };
            for (i, (&w, &x)) in want.iter().zip(&got).enumerate() {
                // small integers: every sum is exact in either precision
                assert_eq!(T::cast(w), x, "case {case}: sizes {sizes:?}, strides {st:?}, element {i}");
            }
        }
    }

    #[test]
    fn random_nests_equal_plain_loops_in_f32() {
        check::<f32>(0x9e37_79b9_7f4a_7c15);
    }

    #[test]
    fn random_nests_equal_plain_loops_in_f64() {
        check::<f64>(0x2545_f491_4f6c_dd1d);
    }

    /// A transposed operand along the block (the gradient `ik,jk->ij` of a matrix product) is
    /// copied, and the result equals plain loops.
    #[test]
    fn a_transposed_operand_is_copied_and_exact() {
        let (n, m, k) = (5usize, 11usize, 9usize);
        let a: Vec<f64> = (0..n * k).map(|i| (i % 7) as f64).collect();
        let b: Vec<f64> = (0..m * k).map(|i| (i % 5) as f64 - 2.0).collect();
        // loops i, j, k: out[i, j] (row-major), a[i, k], b[j, k]
        let mut st = [[0isize; MAX_LOOPS]; 3];
        st[0][..2].copy_from_slice(&[m as isize, 1]);
        st[1][0] = k as isize;
        st[1][2] = 1;
        st[2][1] = k as isize;
        st[2][2] = 1;
        let nest = Nest { sizes: &[n, m, k], strides: &st };
        assert_eq!(nest.to_pack::<2>(), Some((1, 0b10)), "b moves along the output's block with stride {k}");
        let mut want = vec![0.0; n * m];
        reference(&[n, m, k], &st, &mut want, &[(&a, 0), (&b, 0)]);
        let mut got = vec![0.0; n * m];
        // SAFETY: offsets within the buffers by construction.
        unsafe { run_nest(&[n, m, k], &st, got.as_mut_ptr(), [a.as_ptr(), b.as_ptr()], 2) };
        assert_eq!(got, want);
    }
}
