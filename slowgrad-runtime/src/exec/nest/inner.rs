//! The innermost loop of a nest ([`inner1`], [`inner2`], [`innern`] for one, two and any
//! number of inputs) and the pairwise sums and dot products of slices it uses, with independent
//! accumulators so that they vectorise.

use crate::Float;

/// Elements a sum or dot product of slices adds in one block (16 into each of 32 independent
/// accumulators) before blocks are added pairwise.
pub(super) const BLOCK: usize = 512;

/// Elements of a block of a strided sum (16 into each of four accumulators).
const STRIDED_BLOCK: usize = 64;

/// Elements of a block of a sum with one accumulator.
const SERIAL_BLOCK: usize = 32;

/// `leaf(lo, hi)` summed over `lo..hi` pairwise: ranges longer than `B` are split in two (at a
/// multiple of 32 from `lo`, so a block's accumulators see whole chunks) and the halves' sums
/// added.
#[inline]
pub(super) fn pairwise<T: Float, const B: usize>(lo: usize, hi: usize, leaf: &impl Fn(usize, usize) -> T) -> T {
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

/// Sum of a slice: blocks summed with independent accumulators (vectorises), added pairwise.
#[inline(always)]
pub(super) fn sum<T: Float>(x: &[T]) -> T {
    pairwise::<T, BLOCK>(0, x.len(), &|lo, hi| sum_block(&x[lo..hi]))
}

/// Dot product of two slices of equal length: blocks summed with independent accumulators
/// (vectorises), added pairwise.
#[inline(always)]
pub(in crate::exec) fn dot<T: Float>(x: &[T], y: &[T]) -> T {
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
pub(super) unsafe fn inner1<T: Float>(o: *mut T, so: isize, a: *const T, sa: isize, n: usize) {
    // SAFETY (every branch): i < n = the dimension's size, so each offset is in bounds; a slice
    // is formed only over unit strides, where it covers exactly the n addressed elements, and
    // the output slice never overlaps the input slice (see `NestPlan::run`).
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
pub(super) unsafe fn inner2<T: Float>(o: *mut T, so: isize, a: *const T, sa: isize, b: *const T, sb: isize, n: usize) {
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
pub(super) unsafe fn innern<T: Float>(o: *mut T, so: isize, ins: &[*const T], off: &[isize], s: &[isize], n: usize) {
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
