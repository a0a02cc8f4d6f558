//! Support code for the expansion of `einsum!` and `try_einsum!`. Not a public API: generated
//! code refers to these items as `$crate::__private::…`, and they may change in any release.
//!
//! For a pattern without `...`, the macro plans the contraction at compile time and writes, for
//! every step and every gradient of a step (to any order: the family is finite), a zero-sized
//! type implementing [`Spec`] whose [`Spec::forward`] is generated code:
//!
//! 1. the label sizes are read and checked once ([`sizes`], errors as the runtime `einsum()`'s);
//! 2. work of [`FAST_MIN_WORK`] multiply-adds or more goes to the executor with the kernel class
//!    fixed at compile time ([`large`]: the GEMM for matrix-product classes); a batched
//!    matrix-matrix product counts the work of one product ([`is_large_batched`]);
//! 3. otherwise the output is allocated ([`output`]) and each operand's stride per loop is
//!    computed by expressions written for the kernel: the sum of the strides of the axes that
//!    carry the label (a diagonal), 0 where an axis of size 1 is broadcast ([`stride`]);
//!    operands that a label does not index get no stride for its loop at all;
//! 4. the loop nest runs: one `for` per label in the kernel's loop order, each advancing only
//!    the operands that its label indexes, with the innermost one or two loops handed to a
//!    microkernel chosen at compile time ([`micro`]). The nest is compiled twice, for AVX2+FMA
//!    and for the baseline, and [`micro::kernels_use_fma`] picks one at run time.
//!
//! Patterns with `...` have ranks known only at run time and run through the interpreter.

pub mod micro;
mod operands;
mod plan;

pub use crate::Float;
pub use micro::kernels_use_fma;
pub use ndarray::{ArrayD, ArrayViewD, Ix0, Ix1, Ix2, Ix3, Ix4, Ix5, Ix6, IxDyn as IxD};
pub use operands::*;
pub use plan::*;
pub use slowgrad_core::EinsumError as Error;
pub use slowgrad_core::KernelKind;
pub use slowgrad_macros::{einsum as expand_einsum, try_einsum as expand_try_einsum};

use crate::{exec, Kernel};
use slowgrad_core::{EinsumError, ExtEinsum};
use std::marker::PhantomData;

/// An extended einsum as constant data: label ids per term (a repeat is a diagonal; an output
/// label absent from the inputs is a broadcast) and the label names, for error messages.
#[derive(Debug)]
pub struct Labels {
    /// Label ids of each input's axes.
    pub inputs: &'static [&'static [usize]],
    /// Label ids of the output's axes.
    pub output: &'static [usize],
    /// Name of each label id.
    pub names: &'static [&'static str],
}

impl Labels {
    pub(crate) fn to_ext(&self) -> ExtEinsum {
        ExtEinsum {
            inputs: self.inputs.iter().map(|t| t.to_vec()).collect(),
            output: self.output.to_vec(),
            names: self.names.iter().map(|n| n.to_string()).collect(),
        }
    }

    /// The size of each label (at most `L` of them; further slots hold 1), exactly as `ExtEinsum::label_sizes` computes and
    /// checks it, without allocating when everything fits. On any doubt `label_sizes` itself
    /// decides, so errors are the runtime's.
    pub(crate) fn sizes<const L: usize>(
        &self,
        shapes: &[&[usize]],
        out_shape: Option<&[usize]>,
    ) -> Result<[usize; L], EinsumError> {
        if let Some(s) = self.fast_sizes::<L>(shapes, out_shape) {
            return Ok(s);
        }
        let v = self.to_ext().label_sizes(shapes, out_shape)?;
        let mut s = [1usize; L];
        for (s, v) in s.iter_mut().zip(v) {
            *s = v;
        }
        Ok(s)
    }

    fn fast_sizes<const L: usize>(&self, shapes: &[&[usize]], out_shape: Option<&[usize]>) -> Option<[usize; L]> {
        if self.names.len() > L || shapes.len() != self.inputs.len() {
            return None;
        }
        let mut seen = [false; L];
        let mut sizes = [1usize; L];
        let mut merge = |l: usize, d: usize| -> Option<()> {
            if !seen[l] {
                seen[l] = true;
                sizes[l] = d;
            } else if sizes[l] == d || d == 1 {
            } else if sizes[l] == 1 {
                sizes[l] = d;
            } else {
                return None;
            }
            Some(())
        };
        for (term, shape) in self.inputs.iter().zip(shapes) {
            if term.len() != shape.len() {
                return None;
            }
            for (i, (&l, &d)) in term.iter().zip(shape.iter()).enumerate() {
                if let Some(j) = term[..i].iter().position(|&m| m == l) {
                    if shape[j] != d {
                        return None;
                    }
                }
                merge(l, d)?;
            }
        }
        if let Some(shape) = out_shape {
            if shape.len() != self.output.len() {
                return None;
            }
            for (&l, &d) in self.output.iter().zip(shape) {
                merge(l, d)?;
            }
        }
        if self.output.iter().any(|&l| !seen[l]) {
            return None;
        }
        Some(sizes)
    }
}

/// One generated kernel's constant data.
#[derive(Debug)]
pub struct KernelData {
    /// The equation, for the tape's debug output.
    pub name: &'static str,
    /// The equation's terms (label ids numbered from 0 in order of first appearance).
    pub labels: Labels,
    /// Every label of the kernel, outermost loop first (the generated loops' order).
    pub order: &'static [usize],
    /// The kernel class, decided at compile time; large work runs in the executor as this class.
    pub kind: KernelKind,
}

/// A generated kernel: its data, its generated loop nest, and the kernels of its gradients.
pub trait Spec: 'static {
    /// The kernel's constant data.
    const DATA: &'static KernelData;
    /// The kernel of the gradient with respect to input 0.
    type G0: Spec;
    /// The kernel of the gradient with respect to input 1 (any spec for one-input kernels).
    type G1: Spec;
    /// Runs the kernel: generated code (see the module documentation).
    ///
    /// **Errors** if the shapes do not fit the kernel's equation.
    fn forward<T: Float>(
        inputs: &[ndarray::ArrayViewD<'_, T>],
        out_shape: Option<&[usize]>,
    ) -> Result<ndarray::ArrayD<T>, EinsumError>;
}

/// The runtime kernel of a generated [`Spec`]: a zero-sized handle, so boxing it allocates
/// nothing.
pub struct Gen<S>(PhantomData<S>);

/// The boxed kernel of spec `S`.
pub fn kernel<T: Float, S: Spec>() -> Box<dyn Kernel<T>> {
    Box::new(Gen::<S>(PhantomData))
}

impl<T: Float, S: Spec> Kernel<T> for Gen<S> {
    fn forward(
        &self,
        inputs: &[ndarray::ArrayViewD<'_, T>],
        out_shape: Option<&[usize]>,
    ) -> Result<ndarray::ArrayD<T>, EinsumError> {
        S::forward::<T>(inputs, out_shape)
    }

    fn gradient(&self, k: usize) -> Box<dyn Kernel<T>> {
        match (k, S::DATA.labels.inputs.len()) {
            (0, _) => kernel::<T, S::G0>(),
            (1, 2) => kernel::<T, S::G1>(),
            (k, n) => no_gradient(k, n),
        }
    }

    fn name(&self) -> &'static str {
        S::DATA.name
    }
}

/// The panic of [`Kernel::gradient`] for an input the kernel does not have: one copy for every
/// kernel.
#[cold]
#[inline(never)]
fn no_gradient(k: usize, n: usize) -> ! {
    panic!("gradient {k} of a kernel with {n} inputs")
}

/// Step 1 of a generated kernel: checks the operand count and shapes against the kernel's
/// equation and returns the size of each of its `L` labels.
///
/// **Errors** as the runtime executor: wrong operand count, rank, or sizes.
#[inline(never)]
pub fn sizes<T: Float, const L: usize>(
    data: &'static KernelData,
    inputs: &[ndarray::ArrayViewD<'_, T>],
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

/// Step 2 of a generated kernel, for large work: the executor runs the step as the class the
/// macro chose ([`KernelData::kind`]), with the step prepared once per layout in its
/// per-thread cache, where the kernel finds it by the address of `data` (the equation is built
/// from `data` only when a step is prepared).
///
/// **Errors** if the shapes do not fit (already checked by [`sizes`]) or the output is too large.
#[inline(never)]
pub fn large<T: Float>(
    data: &'static KernelData,
    inputs: &[ndarray::ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
) -> Result<ndarray::ArrayD<T>, EinsumError> {
    let step = exec::StepKey::Static { address: data as *const KernelData as usize, build: &|| data.labels.to_ext() };
    exec::execute_as(step, Some(data.kind), inputs, out_shape)
}

/// Step 3 of a generated kernel: its zeroed output, of `out_shape` or the output labels' sizes.
///
/// **Errors** if the output's element count overflows or the memory cannot be allocated.
#[inline(never)]
pub fn output<T: Float, const L: usize, const R: usize>(
    data: &'static KernelData,
    sizes: &[usize; L],
    out_shape: Option<&[usize]>,
) -> Result<ndarray::ArrayD<T>, EinsumError> {
    let shape: [usize; R] = match out_shape {
        Some(s) => std::array::from_fn(|i| s[i]),
        None => std::array::from_fn(|i| sizes[data.labels.output[i]]),
    };
    exec::alloc::try_zeros::<T>(&shape)
}

/// The shape and strides of an array of rank `R` as arrays, so that generated code reads them
/// by constant index (one copy of this function per rank, not one bounds check per read in
/// every kernel).
///
/// **Panics** if the array's rank is not `R` (the kernel's size check has ruled that out).
#[inline(never)]
pub fn axes<T, S: ndarray::RawData<Elem = T>, const R: usize>(
    a: &ndarray::ArrayBase<S, ndarray::IxDyn>,
) -> ([usize; R], [isize; R]) {
    assert_eq!(a.ndim(), R, "rank checked by the kernel's size check");
    let (mut d, mut t) = ([0; R], [0; R]);
    d.copy_from_slice(a.shape());
    t.copy_from_slice(a.strides());
    (d, t)
}

/// The stride of a loop along an axis of length `dim` and stride `stride`, for a label of size
/// `size`: the axis's stride where it has the label's size, 0 where it has size 1 (broadcast
/// against a larger size, or a size-1 output dimension that sums the label back). The
/// executor's own rule, which its steps and its reference loop nest use too.
#[inline(always)]
pub fn stride(dim: usize, stride: isize, size: usize) -> isize {
    exec::stride(dim, stride, size)
}
