//! Copies of transposed operands, so that blocked kernels read them with unit stride.

use super::PACK_MAX;
use crate::Float;
use std::mem::MaybeUninit;

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
/// As `run` for these sizes, strides, pointers and `store`; every offset `Σ index·si[k][l]` addresses an
/// element of input `k`.
#[inline(never)]
#[allow(clippy::too_many_arguments)] // `run`'s own six, the row and `run`
pub unsafe fn run_packed<T: Float, const D: usize, const N: usize>(
    n: &[usize; D],
    so: &[isize; D],
    mut si: [[isize; D]; N],
    po: *mut T,
    mut ptr: [*const T; N],
    row: usize,
    run: crate::__private::Nest<T, D, N>,
    store: bool,
) {
    let mut bufs: [PackBuf<T>; N] = std::array::from_fn(|_| pack_buf());
    for ((p, s), buf) in ptr.iter_mut().zip(si.iter_mut()).zip(bufs.iter_mut()) {
        // SAFETY: as the caller guarantees for input k.
        *p = unsafe { pack(*p, n, s, row, buf) };
    }
    // SAFETY: each copy holds its input's elements at the offsets its new strides give; the
    // rest as the caller guarantees.
    unsafe { run(n, so, &si, po, ptr, store) }
}
