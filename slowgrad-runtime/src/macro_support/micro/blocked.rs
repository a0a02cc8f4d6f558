//! Register-blocked rows: the two innermost loops of a kernel with one output label and one
//! summed label (a matrix product and its gradients).

use super::{mac, product, LANES};
use crate::Float;

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
