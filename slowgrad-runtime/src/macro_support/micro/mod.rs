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

mod blocked;
mod pack;
#[cfg(test)]
mod tests;

pub use blocked::{rows, Rows};
pub use pack::{pack, pack_buf, run_packed, PackBuf};

/// Lanes of the innermost loops: they run in fixed blocks of this many elements, which the
/// compiler turns into vector instructions however short the loop.
pub const LANES: usize = 8;
// the dot product adds its LANES partial sums pairwise, written out for eight
const _: () = assert!(LANES == 8);

/// Most elements of an operand that [`pack()`] copies into a buffer on the stack.
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

/// The output moves along the innermost label: `out[i·so] += Π_k ins[k][i·s[k]]` for `i < n`,
/// or, with `store`, `out[i·so] = Π_k ins[k][i·s[k]]` (for a kernel that writes each output
/// element once, on an output not zeroed first: nothing is read from it). Operands with stride
/// 0 are multiplied once outside the loop; with a contiguous output and contiguous moving
/// operands the loop runs over slices in blocks of [`LANES`].
///
/// # Safety
/// For every `i < n` the offsets address elements (with `store`, the output's may be
/// uninitialised); the output does not alias an input.
#[inline(always)]
pub unsafe fn axpy<T: Float, const N: usize, const FMA: bool>(
    out: *mut T,
    so: isize,
    ins: [*const T; N],
    s: [isize; N],
    n: usize,
    store: bool,
) {
    // SAFETY (every branch): i < n, so each offset is in bounds as the caller guarantees; slices
    // are formed only along unit strides, over the output only when it is initialised.
    unsafe {
        if so == 1 && s.iter().all(|&x| x == 0 || x == 1) {
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
            if store {
                match m {
                    0 => (0..n).for_each(|i| out.add(i).write(c)),
                    1 => store1(out, c, moving[0]),
                    _ => store2(out, c, moving[0], moving[N - 1]),
                }
                return;
            }
            let o = std::slice::from_raw_parts_mut(out, n);
            match m {
                0 => o.iter_mut().for_each(|y| *y += c),
                1 => axpy1::<T, FMA>(o, c, moving[0]),
                _ => axpy2::<T, FMA>(o, c, moving[0], moving[N - 1]),
            }
        } else if store {
            for i in 0..n as isize {
                out.offset(i * so).write(product(ins, s.map(|x| x * i)));
            }
        } else {
            for i in 0..n as isize {
                *out.offset(i * so) += product(ins, s.map(|x| x * i));
            }
        }
    }
}

/// `y[i] = c·a[i]` for `i < a.len()`, in blocks of [`LANES`], written without reading `y`.
///
/// # Safety
/// `y` addresses `a.len()` elements, possibly uninitialised, that do not overlap `a`.
#[inline(always)]
unsafe fn store1<T: Float>(y: *mut T, c: T, a: &[T]) {
    let mut ac = a.chunks_exact(LANES);
    let mut i = 0;
    for a in &mut ac {
        let mut v = [T::zero(); LANES];
        for (v, &a) in v.iter_mut().zip(a) {
            *v = c * a;
        }
        // SAFETY: elements i..i + LANES of `y` exist, as the caller guarantees.
        unsafe { y.add(i).cast::<[T; LANES]>().write_unaligned(v) };
        i += LANES;
    }
    for &a in ac.remainder() {
        // SAFETY: as above, for element i.
        unsafe { y.add(i).write(c * a) };
        i += 1;
    }
}

/// `y[i] = c·a[i]·b[i]`, as [`store1`] (the products rounded as [`axpy2`] rounds them onto 0).
///
/// # Safety
/// As [`store1`]; `b` is as long as `a`.
#[inline(always)]
unsafe fn store2<T: Float>(y: *mut T, c: T, a: &[T], b: &[T]) {
    let mut ac = a.chunks_exact(LANES);
    let mut bc = b.chunks_exact(LANES);
    let mut i = 0;
    for (a, b) in (&mut ac).zip(&mut bc) {
        let mut v = [T::zero(); LANES];
        for ((v, &a), &b) in v.iter_mut().zip(a).zip(b) {
            *v = c * a * b;
        }
        // SAFETY: elements i..i + LANES of `y` exist, as the caller guarantees.
        unsafe { y.add(i).cast::<[T; LANES]>().write_unaligned(v) };
        i += LANES;
    }
    for (&a, &b) in ac.remainder().iter().zip(bc.remainder()) {
        // SAFETY: as above, for element i.
        unsafe { y.add(i).write(c * a * b) };
        i += 1;
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
    axpy_call, axpy_fma, axpy, [], (out: *mut T, so: isize, ins: [*const T; N], s: [isize; N], n: usize, store: bool)
);
entry!(
    /// [`rows`], shared by every kernel of a crate.
    rows_call, rows_fma, rows, [HOIST: u32, R: usize], (out: *mut T, ins: [*const T; N], g: Rows<N>)
);
