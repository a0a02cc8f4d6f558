//! The microkernels that the loop nests written by `einsum!` call for their innermost loops.
//!
//! The macro writes each kernel's outer loops itself (one `for` per label, in the kernel's loop
//! order, advancing only the operands that the label indexes) and hands the innermost one or
//! two loops to one of these, chosen at compile time from the labels' roles:
//!
//! - [`dot`]: the innermost label is summed (the output does not move): a reduction kept in
//!   registers, in [`LANES`] partial sums when every operand is contiguous;
//! - [`axpy`]: the output moves along the innermost label: `out[i] += c·a[i]·b[i]`, with the
//!   operands that the label does not index hoisted out of the loop;
//! - [`rows`]: one of the two innermost labels runs along the output and the other is summed
//!   (a matrix product and its gradients): blocks of [`LANES`] outputs of one or two rows stay in
//!   registers while the sum runs.
//!
//! The bodies are `#[inline(always)]`; generated code calls them through [`dot_call`],
//! [`axpy_call`] and [`rows_call`]: one non-inlined copy per element type, operand count,
//! hoisted operands and instruction set, shared by every kernel of the crate (a copy per kernel
//! multiplied the machine code and build time of a pattern several times over). Their `fma`
//! argument selects a copy compiled with the `avx2` and `fma` target features, so its multiply-adds are fused
//! and its blocks use 256-bit vectors; generated code passes the answer of [`kernels_use_fma`],
//! read once per kernel call.

use crate::Float;
use std::mem::MaybeUninit;

/// Lanes of the innermost loops: they run in fixed blocks of this many elements, which the
/// compiler turns into vector instructions however short the loop.
pub const LANES: usize = 8;
// the dot product adds its LANES partial sums pairwise, written out for eight
const _: () = assert!(LANES == 8);

/// Most elements of an operand that [`pack`] copies into a buffer on the stack.
pub const PACK_MAX: usize = 2048;

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

/// `acc + a·b`: one fused multiply-add with `FMA` (which only code compiled for a processor with
/// FMA instructions may ask for: elsewhere it would be a slow library call), else a product and
/// a sum.
#[inline(always)]
pub fn mac<T: Float, const FMA: bool>(acc: T, a: T, b: T) -> T {
    if FMA {
        a.mul_add(b, acc)
    } else {
        acc + a * b
    }
}

/// The product of one element of each operand.
///
/// # Safety
/// `ins[k] + off[k]` must address an element.
#[inline(always)]
pub unsafe fn product<T: Float, const N: usize>(ins: [*const T; N], off: [isize; N]) -> T {
    let mut p = T::one();
    for k in 0..N {
        // SAFETY: as the caller guarantees.
        p *= unsafe { *ins[k].offset(off[k]) };
    }
    p
}

/// A kernel without labels: `*out += Π ins[k]`.
///
/// # Safety
/// Every pointer addresses an element; the output does not alias an input.
#[inline(always)]
pub unsafe fn scalar<T: Float, const N: usize>(out: *mut T, ins: [*const T; N]) {
    // SAFETY: as the caller guarantees.
    unsafe { *out += product(ins, [0; N]) };
}

/// A summed innermost label: `*out += Σ_{i<n} Π_k ins[k][i·s[k]]`. With every stride 1 the sum
/// runs in [`LANES`] partial sums (added pairwise at the end), with fused multiply-adds under
/// `FMA`.
///
/// # Safety
/// For every `i < n` the offsets address elements; the output does not alias an input.
#[inline(always)]
pub unsafe fn dot<T: Float, const N: usize, const FMA: bool>(out: *mut T, ins: [*const T; N], s: [isize; N], n: usize) {
    // SAFETY (every access): i < n, so each offset is in bounds as the caller guarantees; a
    // slice is formed only along a unit stride, where it covers exactly the addressed elements.
    unsafe {
        let acc = if s.iter().all(|&x| x == 1) {
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
    }
}

/// The output moves along the innermost label: `out[i·so] += Π_k ins[k][i·s[k]]` for `i < n`.
/// Operands with stride 0 are multiplied once outside the loop; with a contiguous output and
/// contiguous moving operands the loop runs over slices in blocks of [`LANES`].
///
/// # Safety
/// For every `i < n` the offsets address elements; the output does not alias an input.
#[inline(always)]
pub unsafe fn axpy<T: Float, const N: usize, const FMA: bool>(
    out: *mut T,
    so: isize,
    ins: [*const T; N],
    s: [isize; N],
    n: usize,
) {
    // SAFETY (every branch): i < n, so each offset is in bounds as the caller guarantees; slices
    // are formed only along unit strides.
    unsafe {
        if so == 1 && s.iter().all(|&x| x == 0 || x == 1) {
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
                1 => axpy1::<T, FMA>(o, c, moving[0]),
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
fn axpy1<T: Float, const FMA: bool>(y: &mut [T], c: T, a: &[T]) {
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

/// `y += c·a·b` elementwise, as [`axpy1`].
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

/// Where the rows of a block of outputs lie ([`rows`]): output row `r`, column `c` is
/// `out[r·ro + c·so]`, and input `k` is read at `r·ri[k] + j·m[k] + c·s[k]` for the summed `j`.
#[derive(Clone, Copy, Debug)]
pub struct Rows<const N: usize> {
    /// The output's stride between rows.
    pub ro: isize,
    /// The output's stride along a row (1 for the blocked code).
    pub so: isize,
    /// Each input's stride between rows.
    pub ri: [isize; N],
    /// Each input's stride along a row.
    pub s: [isize; N],
    /// Each input's stride along the sum.
    pub m: [isize; N],
    /// Length of the sum (`j`).
    pub n_sum: usize,
    /// Length of a row (`c`).
    pub n: usize,
}

/// `out[r·ro + c·so] += Σ_j Π_k ins[k][r·ri[k] + j·m[k] + c·s[k]]` for `r < R`, `c < n`,
/// `j < n_sum`: the two innermost loops of a kernel whose one label runs along the output and
/// whose other is summed, for `R` (1 or 2) rows of the label outside them.
///
/// `HOIST` has bit `k` set when the kernel's equation says input `k` is not indexed by the row
/// label (its `s[k]` is 0): those are read once per sum step. When the output is contiguous
/// along the row (`so` is 1), every other input is too (`s[k]` is 1) and the rows do not
/// overlap (`|ro| ≥ n`, checked), blocks of [`LANES`] outputs of the `R` rows stay in registers
/// while the sum runs (two rows: two independent chains of additions). Any other layout runs
/// the plain loops, in the same order of additions.
///
/// # Safety
/// Every offset above addresses an element of its operand and the output does not alias an
/// input.
#[inline(always)]
pub unsafe fn rows<T: Float, const N: usize, const FMA: bool, const HOIST: u32, const R: usize>(
    out: *mut T,
    ins: [*const T; N],
    g: Rows<N>,
) {
    let blocked =
        g.so == 1 && (R == 1 || g.ro.unsigned_abs() >= g.n) && (0..N).all(|k| HOIST & 1 << k != 0 || g.s[k] == 1);
    // SAFETY (both branches): as the caller guarantees.
    unsafe {
        if blocked {
            row_block::<T, N, R, FMA, HOIST>(out, ins, g)
        } else {
            plain_rows(out, ins, g, R)
        }
    }
}

/// [`rows`] as plain loops (rows, then the sum, then along the row).
///
/// # Safety
/// As [`rows`].
#[inline(never)]
unsafe fn plain_rows<T: Float, const N: usize>(out: *mut T, ins: [*const T; N], g: Rows<N>, n_rows: usize) {
    for r in 0..n_rows as isize {
        for j in 0..g.n_sum as isize {
            for c in 0..g.n as isize {
                // SAFETY: as the caller guarantees.
                unsafe {
                    *out.offset(r * g.ro + c * g.so) +=
                        product(ins, std::array::from_fn(|k| r * g.ri[k] + j * g.m[k] + c * g.s[k]));
                }
            }
        }
    }
}

/// `R` rows of [`rows`] with a contiguous output: blocks of [`LANES`] outputs of each row stay in
/// registers while `j` runs (each output gets the same additions, in the same order, as the
/// plain loops).
///
/// # Safety
/// As [`rows`], with `so` 1, `s[k]` 1 for inputs not in `HOIST`, and disjoint rows.
#[inline(always)]
unsafe fn row_block<T: Float, const N: usize, const R: usize, const FMA: bool, const HOIST: u32>(
    out: *mut T,
    ins: [*const T; N],
    g: Rows<N>,
) {
    let Rows { ro, ri, m, n_sum, n, .. } = g;
    let full = n - n % LANES;
    // SAFETY (every access): r < R, c < n and j < n_sum, as the caller guarantees; a block of
    // LANES is read or written as one only along a unit stride, below `full`.
    unsafe {
        for c in (0..full).step_by(LANES) {
            let o: [*mut [T; LANES]; R] = std::array::from_fn(|r| out.offset(r as isize * ro + c as isize) as *mut _);
            let mut acc: [[T; LANES]; R] = std::array::from_fn(|r| std::ptr::read_unaligned(o[r]));
            for j in 0..n_sum as isize {
                for (r, acc) in acc.iter_mut().enumerate() {
                    let vals: [[T; LANES]; N] = std::array::from_fn(|k| {
                        if HOIST & 1 << k != 0 {
                            [*ins[k].offset(r as isize * ri[k] + j * m[k]); LANES]
                        } else {
                            let p = ins[k].offset(r as isize * ri[k] + j * m[k] + c as isize);
                            std::ptr::read_unaligned(p as *const [T; LANES])
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
                    let off = std::array::from_fn(|k| {
                        r * ri[k] + j * m[k] + if HOIST & 1 << k != 0 { 0 } else { c as isize }
                    });
                    acc += product(ins, off);
                }
                *o = acc;
            }
        }
    }
}

macro_rules! entry {
    ($(#[$doc:meta])* $call:ident, $fma:ident, $body:ident, [$($c:ident: $ct:ty),*], ($($a:ident: $t:ty),*)) => {
        $(#[$doc])*
        ///
        /// # Safety
        /// As the microkernel's; `fma` only on a processor with AVX2 and FMA.
        #[inline(never)]
        pub unsafe fn $call<T: Float, const N: usize $(, const $c: $ct)*>(fma: bool, $($a: $t),*) {
            #[cfg(target_arch = "x86_64")]
            if fma {
                // SAFETY: as the caller guarantees, the processor has AVX2 and FMA.
                return unsafe { $fma::<T, N $(, $c)*>($($a),*) };
            }
            let _ = fma;
            // SAFETY: as the caller guarantees.
            unsafe { $body::<T, N, false $(, $c)*>($($a),*) }
        }

        /// The copy compiled for AVX2 and FMA.
        ///
        /// # Safety
        /// As the microkernel's, on a processor with AVX2 and FMA.
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $fma<T: Float, const N: usize $(, const $c: $ct)*>($($a: $t),*) {
            // SAFETY: as the caller guarantees.
            unsafe { $body::<T, N, true $(, $c)*>($($a),*) }
        }
    };
}

entry!(
    /// [`dot`], shared by every kernel of a crate.
    dot_call, dot_fma, dot, [], (out: *mut T, ins: [*const T; N], s: [isize; N], n: usize)
);
entry!(
    /// [`axpy`], shared by every kernel of a crate.
    axpy_call, axpy_fma, axpy, [], (out: *mut T, so: isize, ins: [*const T; N], s: [isize; N], n: usize)
);
entry!(
    /// [`rows`], shared by every kernel of a crate.
    rows_call, rows_fma, rows, [HOIST: u32, R: usize], (out: *mut T, ins: [*const T; N], g: Rows<N>)
);

/// A buffer for [`pack`].
pub type PackBuf<T> = [MaybeUninit<T>; PACK_MAX];

/// An uninitialised [`PackBuf`].
#[inline(always)]
pub fn pack_buf<T: Float>() -> PackBuf<T> {
    [MaybeUninit::uninit(); PACK_MAX]
}

/// Copies an operand that a blocked kernel reads along its row with a stride other than 0 or
/// 1 (a transposed operand, as in the gradient `ik,jk->ij` of a matrix product) into `buf`, so
/// that it has unit stride along `first` (the row's loop level) and is laid out along the other
/// loops that move it, innermost first. Rewrites `strides` (the operand's stride per loop level)
/// to the copy's and returns the copy's address; returns `src` unchanged when the operand is
/// read with stride 0 or 1 along `first` or has more than [`PACK_MAX`] elements.
///
/// # Safety
/// Every offset `Σ index·strides[l]` with index below `sizes[l]` addresses an element of `src`.
#[inline(never)]
pub unsafe fn pack<T: Float, const D: usize>(
    src: *const T,
    sizes: &[usize; D],
    strides: &mut [isize; D],
    first: usize,
    buf: &mut PackBuf<T>,
) -> *const T {
    if matches!(strides[first], 0 | 1) {
        return src;
    }
    let extent: usize = sizes.iter().zip(strides.iter()).filter(|(_, &s)| s != 0).map(|(&n, _)| n).product();
    if extent > PACK_MAX {
        return src;
    }
    // the loops that move the operand: `first`, then the others innermost first
    let mut levels = [0usize; D];
    let mut m = 0;
    for l in std::iter::once(first).chain((0..D).rev().filter(|&l| l != first)) {
        if strides[l] != 0 {
            levels[m] = l;
            m += 1;
        }
    }
    let levels = &levels[..m];
    let old = *strides;
    let mut step = 1isize;
    for &l in levels {
        strides[l] = step;
        step *= sizes[l] as isize;
    }
    let (n0, s0) = (sizes[first], old[first]);
    let mut idx = [0usize; D];
    let (mut from, mut to) = (0isize, 0usize);
    loop {
        for c in 0..n0 {
            // SAFETY: the offset is Σ index·stride over indices below the sizes, an element as
            // the caller guarantees; `to + c` is below the extent, at most PACK_MAX.
            unsafe { buf.get_unchecked_mut(to + c).write(*src.offset(from + c as isize * s0)) };
        }
        to += n0;
        let mut d = 1;
        while d < levels.len() {
            let l = levels[d];
            idx[d] += 1;
            from += old[l];
            if idx[d] < sizes[l] {
                break;
            }
            from -= old[l] * sizes[l] as isize;
            idx[d] = 0;
            d += 1;
        }
        if d == levels.len() {
            break;
        }
    }
    buf.as_ptr().cast()
}

/// The loop nest of a generated kernel (`run`), after copying each input that `pack` copies:
/// the path of a blocked kernel whose operand is read along its row with a stride other than 0
/// or 1. The copies live on this function's stack.
///
/// # Safety
/// As `run` for these sizes, strides and pointers; every offset `Σ index·si[k][l]` addresses an
/// element of input `k`.
#[inline(never)]
#[allow(clippy::type_complexity)]
pub unsafe fn run_packed<T: Float, const D: usize, const N: usize>(
    n: &[usize; D],
    so: &[isize; D],
    mut si: [[isize; D]; N],
    po: *mut T,
    mut ptr: [*const T; N],
    row: usize,
    run: unsafe fn(&[usize; D], &[isize; D], &[[isize; D]; N], *mut T, [*const T; N]),
) {
    let mut bufs: [PackBuf<T>; N] = std::array::from_fn(|_| pack_buf());
    for ((p, s), buf) in ptr.iter_mut().zip(si.iter_mut()).zip(bufs.iter_mut()) {
        // SAFETY: as the caller guarantees for input k.
        *p = unsafe { pack(*p, n, s, row, buf) };
    }
    // SAFETY: each copy holds its input's elements at the offsets its new strides give; the
    // rest as the caller guarantees.
    unsafe { run(n, so, &si, po, ptr) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_rows(out: &mut [f64], ins: [&[f64]; 2], g: Rows<2>, n_rows: usize) {
        for r in 0..n_rows as isize {
            for j in 0..g.n_sum as isize {
                for c in 0..g.n as isize {
                    let mut p = 1.0;
                    for k in 0..2 {
                        p *= ins[k][(r * g.ri[k] + j * g.m[k] + c * g.s[k]) as usize];
                    }
                    out[(r * g.ro + c * g.so) as usize] += p;
                }
            }
        }
    }

    /// `n_rows` rows, two at a time as generated code runs them.
    ///
    /// # Safety
    /// The offsets of `g` stay inside the buffers.
    unsafe fn run_rows(fma: bool, out: &mut [f64], ins: [&[f64]; 2], g: Rows<2>, n_rows: usize) {
        let mut r = 0;
        let p = [ins[0].as_ptr(), ins[1].as_ptr()];
        while r < n_rows {
            let o = out.as_mut_ptr().wrapping_offset(r as isize * g.ro);
            let i = std::array::from_fn(|k| p[k].wrapping_offset(r as isize * g.ri[k]));
            // SAFETY: as the caller guarantees.
            unsafe {
                match (fma, r + 1 < n_rows) {
                    (true, true) => rows::<f64, 2, true, 0b01, 2>(o, i, g),
                    (true, false) => rows::<f64, 2, true, 0b01, 1>(o, i, g),
                    (false, true) => rows::<f64, 2, false, 0b01, 2>(o, i, g),
                    (false, false) => rows::<f64, 2, false, 0b01, 1>(o, i, g),
                }
            }
            r += 2;
        }
    }

    /// The blocked rows of a matrix product (`ij,jk->ik`: the row label `k`, the sum `j`, rows
    /// `i`), for sizes around the block width, equal the plain loops exactly (small integers).
    #[test]
    fn blocked_rows_equal_plain_loops() {
        for (ni, nj, nk) in [(1, 1, 1), (3, 5, 7), (2, 3, 8), (5, 9, 17), (4, 2, 24)] {
            let a: Vec<f64> = (0..ni * nj).map(|x| (x % 7) as f64 - 3.0).collect();
            let b: Vec<f64> = (0..nj * nk).map(|x| (x % 5) as f64 - 2.0).collect();
            let g =
                Rows { ro: nk as isize, so: 1, ri: [nj as isize, 0], s: [0, 1], m: [1, nk as isize], n_sum: nj, n: nk };
            let mut want = vec![0.0; ni * nk];
            naive_rows(&mut want, [&a, &b], g, ni);
            for fma in [false, true] {
                let mut got = vec![0.0; ni * nk];
                // SAFETY: offsets inside the buffers by construction.
                unsafe { run_rows(fma, &mut got, [&a, &b], g, ni) };
                assert_eq!(got, want, "{ni}x{nj}x{nk}");
            }
            // a non-contiguous output runs the plain loops
            let g2 = Rows { so: 2, ro: 2 * nk as isize, ..g };
            let mut want = vec![0.0; 2 * ni * nk];
            naive_rows(&mut want, [&a, &b], g2, ni);
            let mut got = vec![0.0; 2 * ni * nk];
            // SAFETY: as above.
            unsafe { run_rows(false, &mut got, [&a, &b], g2, ni) };
            assert_eq!(got, want);
        }
    }

    /// A transposed operand is copied with unit stride along the row level, the others after.
    #[test]
    fn pack_lays_out_the_row_level_first() {
        // b[j, k] read at loops (i, j, k) with the row level j: strides (0, 3, 1) for a 2×3 b
        let b = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
        let sizes = [4usize, 2, 3];
        let mut strides = [0isize, 3, 1];
        let mut buf = pack_buf::<f64>();
        // SAFETY: every offset below the sizes is inside b.
        let p = unsafe { pack(b.as_ptr(), &sizes, &mut strides, 1, &mut buf) };
        assert_eq!(strides, [0, 1, 2]);
        // SAFETY: the copy holds six elements.
        let copy: Vec<f64> = (0..6).map(|i| unsafe { *p.add(i) }).collect();
        assert_eq!(copy, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        // unit stride along the level: nothing to copy
        let mut unit = [0isize, 3, 1];
        // SAFETY: as above.
        let q = unsafe { pack(b.as_ptr(), &sizes, &mut unit, 2, &mut buf) };
        assert_eq!((q, unit), (b.as_ptr(), [0, 3, 1]));
    }
}
