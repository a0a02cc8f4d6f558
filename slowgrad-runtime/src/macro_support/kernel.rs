//! What a generated kernel runs around its loop nest: one shared function, [`forward`], per
//! element type, loop count and operand count, which checks the sizes, hands large work to the
//! executor, allocates the output, computes every operand's stride per loop from the kernel's
//! constant data, and calls the kernel's generated nest.

use super::KernelData;
use crate::{exec, Float};
use ndarray::{ArrayD, ArrayViewD};
use slowgrad_core::EinsumError;
use smallvec::SmallVec;

/// A generated loop nest: `run(n, so, si, po, ptr, store)` runs loop level `j` over `0..n[j]`,
/// moving the output by `so[j]` and input `k` by `si[k][j]` per step, and adds each product
/// into the output, or, with `store` (only for a kernel of [`KernelData::overwrite`]), writes
/// it there without reading the output.
///
/// # Safety
/// Every offset `Σ_j i_j·s[j]` with `i_j < n[j]` addresses an element of its operand (the output
/// through `po`, input `k` through `ptr[k]`), and the output aliases no input; the output is
/// initialised unless `store` is set, and with `store` the offsets reach each output element
/// exactly once.
pub type Nest<T, const D: usize, const N: usize> =
    unsafe fn(&[usize; D], &[isize; D], &[[isize; D]; N], *mut T, [*const T; N], bool);

/// The whole `Spec::forward` of a generated kernel of `D` labels and `N` inputs, around its
/// generated nest `run`:
///
/// 1. the label sizes are read and checked once (`sizes`; errors as the runtime `einsum()`'s);
/// 2. work of [`FAST_MIN_WORK`] multiply-adds or more goes to the executor as the kernel class
///    fixed at compile time ([`large`]); a batched matrix-matrix product
///    ([`KernelData::batch`]) counts the work of one product ([`is_large_batched`]);
/// 3. the output is allocated, and each operand's stride per loop level is the sum of the
///    strides of its axes that carry the level's label (a diagonal), 0 for an axis of size 1
///    broadcast against a larger size (the executor's stride rule), and 0 where the operand does
///    not carry the label;
/// 4. a blocked nest whose operands are read along their row with a stride other than 0 or 1
///    runs on copies of them ([`KernelData::pack`]); an axpy or dot nest whose two innermost
///    levels every operand walks as one runs them as one ([`KernelData::merge`], [`merge_inner`]);
/// 5. `run` runs; for a kernel that writes every output element once
///    ([`KernelData::overwrite`], when every loop of more than one step moves the output) on an
///    output not zeroed first, which its microkernel writes without reading.
///
/// **Errors** as the runtime executor: wrong operand count, rank or sizes; an output too large.
///
/// # Safety
/// `run` is the nest generated for `data` ([`Nest`]'s contract for the sizes and strides
/// computed here): it reads each input and writes the output only at offsets `Σ_j i_j·s[j]` with
/// `i_j < n[j]`, and `D` and `N` are the kernel's label and input counts.
#[inline(never)]
pub unsafe fn forward<T: Float, const D: usize, const N: usize>(
    data: &'static KernelData,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
    run: Nest<T, D, N>,
) -> Result<ArrayD<T>, EinsumError> {
    let sz = sizes::<T, D>(data, inputs, out_shape)?;
    let large_work = match data.batch {
        Some(batch) => is_large_batched(&sz, batch),
        None => is_large(&sz),
    };
    if large_work {
        return large(data, inputs, out_shape);
    }
    let shape = output_shape(data, &sz, out_shape);
    if sz.contains(&0) {
        return exec::alloc::try_zeros::<T>(&shape);
    }
    let mut n = [0usize; D];
    for (n, &l) in n.iter_mut().zip(data.order) {
        *n = sz[l];
    }
    // the output's strides in the standard layout it is allocated in
    let mut so = [0isize; D];
    let mut step = 1isize;
    for (&l, &d) in data.labels.output.iter().zip(shape.iter()).rev() {
        so[data.level[l]] += exec::stride(d, step, sz[l]);
        step *= d as isize;
    }
    let mut si = [[0isize; D]; N];
    for ((s, term), a) in si.iter_mut().zip(data.labels.inputs).zip(inputs) {
        add_strides(s, data, term, a.shape(), a.strides(), &sz);
    }
    let ptr: [*const T; N] = std::array::from_fn(|k| inputs[k].as_ptr());
    // every label is an output label on one axis of its own; where each loop of more than one
    // step also moves the output, the loops reach every output element exactly once, and the
    // output is written into the vector's room, not zeroed first
    let store = data.overwrite && n.iter().zip(&so).all(|(&n, &s)| n <= 1 || s != 0);
    let (mut buf, len) = if store {
        exec::alloc::try_room::<T>(&shape)?
    } else {
        let v = exec::alloc::try_zeros_vec::<T>(&shape)?;
        let len = v.len();
        (v, len)
    };
    let po = buf.as_mut_ptr();
    // SAFETY: every label size was checked against every operand's shape (`sizes`), and a
    // stride is nonzero only along an axis whose length is its label's size, so every offset
    // Σ index·stride with index below the sizes addresses an element of its operand or of the
    // output, allocated for `shape` in standard layout (the strides above), which aliases no
    // input; `run` keeps to those offsets as the caller guarantees. With `store` every output
    // element is written once (the condition above), so all `len` are initialised when the
    // length is set; otherwise they were zeros.
    unsafe {
        match data.pack {
            // the copies hold the same elements
            Some(row) if si.iter().any(|s| !matches!(s[row], 0 | 1)) => {
                super::micro::run_packed::<T, D, N>(&n, &so, si, po, ptr, row, run, store)
            }
            _ => {
                if data.merge {
                    merge_inner(&mut n, &mut so, &mut si);
                }
                run(&n, &so, &si, po, ptr, store)
            }
        }
        buf.set_len(len);
        Ok(exec::alloc::from_vec(&shape, buf))
    }
}

/// Adds to `s[level]` the stride of each axis of a term (labels `term`, shape `dim`, strides
/// `stride`) at the level of its label: a label on two axes (a diagonal) gets their sum.
#[inline(always)]
fn add_strides<const D: usize>(
    s: &mut [isize; D],
    data: &KernelData,
    term: &[usize],
    dim: &[usize],
    stride: &[isize],
    sz: &[usize; D],
) {
    for ((&l, &d), &t) in term.iter().zip(dim).zip(stride) {
        s[data.level[l]] += exec::stride(d, t, sz[l]);
    }
}

/// Checks the operand count and shapes against a kernel's equation and returns the size of
/// each of its `L` labels.
///
/// **Errors** as the runtime executor: wrong operand count, rank, or sizes.
#[inline(always)]
pub(crate) fn sizes<T: Float, const L: usize>(
    data: &'static KernelData,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
) -> Result<[usize; L], EinsumError> {
    let n = data.labels.inputs.len();
    if inputs.len() != n {
        return Err(EinsumError::OperandCount { terms: n, operands: inputs.len() });
    }
    let mut shapes: [&[usize]; 2] = [&[], &[]];
    if n > 2 {
        let all: Vec<&[usize]> = inputs.iter().map(|a| a.shape()).collect();
        return data.labels.sizes::<L>(&all, out_shape);
    }
    for (s, a) in shapes.iter_mut().zip(inputs) {
        *s = a.shape();
    }
    data.labels.sizes::<L>(&shapes[..n], out_shape)
}

/// Multiply-adds (the product of all label sizes) from which a generated kernel hands its step
/// to the executor ([`large`]): the size from which the executor's GEMM beats a loop nest.
pub const FAST_MIN_WORK: usize = exec::GEMM_MIN_WORK;

/// Whether the work of a kernel with these label sizes goes to the executor.
#[inline(always)]
pub fn is_large(sizes: &[usize]) -> bool {
    work_at_least(sizes.iter().copied(), FAST_MIN_WORK)
}

/// Whether the product of `sizes` is at least `min` (a product that overflows is).
#[inline(always)]
fn work_at_least(sizes: impl IntoIterator<Item = usize>, min: usize) -> bool {
    sizes.into_iter().try_fold(1usize, |w, n| w.checked_mul(n)).is_none_or(|w| w >= min)
}

/// Whether the work of a batched matrix-matrix product kernel with these label sizes goes to
/// the executor: one product (the labels in `batch` left out) is of [`FAST_MIN_WORK`]
/// multiply-adds or more, or the whole work is enough for the executor to use more than one
/// thread. Many small products run in the generated loops, which pay no set-up cost per
/// product as the executor's GEMM does.
#[inline(always)]
pub fn is_large_batched(sizes: &[usize], batch: &[usize]) -> bool {
    let product = (0..sizes.len()).filter(|l| !batch.contains(l)).map(|l| sizes[l]);
    work_at_least(product, FAST_MIN_WORK) || work_at_least(sizes.iter().copied(), exec::PAR_MIN_WORK)
}

/// Joins the two innermost loop levels of a generated kernel into one when every participant
/// walks them as one (the executor's rule for fusing dimensions, `exec::in_step`): the outer
/// level then runs once and the inner one over both lengths: the same elements at the same
/// addresses, in the same order (an `axpy` gives the same results; a `dot` adds the joined run
/// in its partial sums, so its rounding may differ in the last bits). Only for kernels whose
/// innermost loop alone calls the microkernel.
#[inline(always)]
pub fn merge_inner<const D: usize, const N: usize>(n: &mut [usize; D], so: &mut [isize; D], si: &mut [[isize; D]; N]) {
    if D < 2 {
        return;
    }
    let (a, b) = (D - 2, D - 1);
    let walks_as_one = |s: &[isize; D]| exec::in_step(s[a], s[b], n[b]);
    if walks_as_one(so) && si.iter().all(walks_as_one) {
        n[b] *= n[a];
        n[a] = 1;
        so[a] = 0;
        for s in si.iter_mut() {
            s[a] = 0;
        }
    }
}

/// A generated kernel's large work: the executor runs the step as the class the macro chose
/// ([`KernelData::kind`]), with the step prepared once per layout in its per-thread cache,
/// where the kernel finds it by the address of `data` (the equation is built from `data` only
/// when a step is prepared). Kernels of three or more inputs, which the planner never makes,
/// would run here whole.
///
/// **Errors** if the shapes do not fit (already checked by `sizes`) or the output is too large.
#[inline(never)]
pub fn large<T: Float>(
    data: &'static KernelData,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
) -> Result<ArrayD<T>, EinsumError> {
    let step = exec::StepKey::Static { address: data as *const KernelData as usize, build: &|| data.labels.to_ext() };
    exec::execute_as(step, Some(data.kind), inputs, out_shape)
}

/// Output ranks up to which a generated kernel keeps its output's shape on the stack.
const MAX_LABELS_ON_STACK: usize = 8;

/// The shape of a generated kernel's output: `out_shape`, or the output labels' sizes.
#[inline(always)]
fn output_shape(
    data: &KernelData,
    sizes: &[usize],
    out_shape: Option<&[usize]>,
) -> SmallVec<[usize; MAX_LABELS_ON_STACK]> {
    match out_shape {
        Some(s) => SmallVec::from_slice(s),
        None => data.labels.output.iter().map(|&l| sizes[l]).collect(),
    }
}
