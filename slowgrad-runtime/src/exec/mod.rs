//! The extended-einsum executor: each step goes to the kernel class that fits it.
//!
//! Every operand and the output ("participants") get one stride per label: the sum of the
//! strides of the axes that carry it, so a repeated label walks the diagonal, and 0 where an axis
//! of size 1 is broadcast against a larger size, so the output sums back to size 1. Labels of
//! size 1 are dropped, and labels that move every participant in step are fused into one
//! dimension (`bhqd` with contiguous `b`, `h` becomes one batch dimension of size `b·h`). The
//! result is a small list of dimensions, each with a size, a stride per participant and the set
//! of participants it indexes (its role). The kernel is chosen from the step's class
//! ([`slowgrad_core::classify`]) and these roles:
//!
//! - labels only in the output (broadcast, diagonal scatter of a scalar): the result is computed
//!   once with those labels at index 0 and then copied along them;
//! - two operands whose dimensions are batch, left-free, right-free or contracted (a batched
//!   matrix product, forward or gradient, such as `ik,jk->ij`) go to the `gemm` crate with the
//!   participants' own strides, no copies: one dimension per role is handed to the GEMM and the
//!   others are looped over (contracted ones accumulating). Small products stay in the loop nest,
//!   which has no set-up cost;
//! - everything else (copy and permute, elementwise with broadcasting, reductions, diagonal
//!   reads) runs in one strided loop nest whose innermost loop works on contiguous slices where
//!   the layout allows, so it vectorises.
//!
//! Large work uses both cores: the GEMM's own threads for one large product (or blocks of its
//! columns or rows on rayon's threads, for the operand layouts whose products the GEMM's own
//! threads do not split well), rayon over the batch for many small ones, and loop nests split
//! along an output dimension; work under
//! [`PAR_MIN_WORK`] (products) or [`NEST_PAR_MIN_WORK`] (loop nests) never touches a thread.
//! [`execute_reference`] is the plain loop nest every kernel is tested against.
//!
//! This file holds the entry points ([`execute`], [`execute_as`]), the shape check and the
//! thresholds; the parts are:
//!
//! - `dims.rs`: a step's loop dimensions ([`Dims`]) and [`stride`], the stride rule shared with
//!   the reference and with generated kernels;
//! - `prepared.rs`: how a step runs ([`Prepared`], [`Ready`]);
//! - `cache.rs`: the per-thread cache of prepared steps, for interpreted and generated kernels
//!   alike ([`StepKey`]);
//! - `gemm.rs`: matrix products on the `gemm` crate; `nest/`: the strided loop nest;
//! - `reference.rs`: the reference loop nest; `alloc.rs`: fallible allocation of results.

pub(crate) mod alloc;
mod cache;
mod dims;
mod gemm;
mod nest;
mod prepared;
mod reference;
#[cfg(test)]
mod tests;

pub(crate) use cache::StepKey;
pub(crate) use dims::{in_step, stride};
pub(crate) use reference::execute_reference;

use crate::Float;
use dims::{Dims, OUT};
use ndarray::{ArrayD, ArrayViewD, Dimension, IxDyn};
use prepared::{Prepared, Ready, SyncPtr};
use slowgrad_core::{checked_len, classify, EinsumError, ExtEinsum, KernelKind};

/// Multiply-adds from which a matrix-product step goes to the GEMM rather than the loop nest:
/// an 8×8×8 product stays in plain loops, a 16×16×16 one goes to the GEMM, on one thread.
pub(crate) const GEMM_MIN_WORK: usize = 12 * 12 * 12;
/// Multiply-adds from which a matrix-product step may use more than one thread: a 64×64×64
/// product runs on one thread, a 128×128×128 one may use all of them.
pub(crate) const PAR_MIN_WORK: usize = 1 << 20;
/// Iterations from which a loop nest (copies, reductions, elementwise: bound by memory, so
/// threads gain less) is split across threads: summing the rows of a 1024×1024 matrix runs on
/// one thread, of a 4096×4096 one on all of them.
pub(crate) const NEST_PAR_MIN_WORK: usize = 1 << 22;

// The examples of the thresholds' documentation, checked at compile time.
const _: () = {
    assert!(8 * 8 * 8 < GEMM_MIN_WORK && 16 * 16 * 16 >= GEMM_MIN_WORK && 16 * 16 * 16 < PAR_MIN_WORK);
    assert!(64 * 64 * 64 < PAR_MIN_WORK && 128 * 128 * 128 >= PAR_MIN_WORK);
    assert!(1024 * 1024 < NEST_PAR_MIN_WORK && 4096 * 4096 >= NEST_PAR_MIN_WORK);
};

/// Computes the extended einsum `spec` of `inputs`.
///
/// `out_shape` gives the output shape; it is required when an output label appears in no
/// input, and may hold 1 where a label of larger size is to be summed to size 1. With `None`
/// every output label takes its full size.
///
/// **Errors** if the shapes do not fit `spec` (see [`EinsumError`]).
///
/// The public API runs it as [`crate::ext_einsum_array`].
pub(crate) fn execute<T: Float>(
    spec: &ExtEinsum,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
) -> Result<ArrayD<T>, EinsumError> {
    execute_as(StepKey::Ext(spec), None, inputs, out_shape)
}

/// [`execute`] on the equation `step` names, with the kernel class given (a generated
/// kernel's, chosen at compile time) instead of classified when the step is prepared. The
/// equation itself is needed (and, for a generated kernel, built) only when the step is not in
/// the cache yet.
pub(crate) fn execute_as<T: Float>(
    step: StepKey<'_>,
    kind: Option<KernelKind>,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
) -> Result<ArrayD<T>, EinsumError> {
    if inputs.len() >= 64 {
        return execute_reference(&step.equation(), inputs, out_shape);
    }
    let ready = match cache::lookup::<T>(step, inputs, out_shape) {
        Some(hit) => hit,
        None => {
            let spec = &*step.equation();
            let (sizes, shape) = check(spec, inputs, out_shape)?;
            let (prepared, overwrite) = if spec.used_labels().iter().any(|&l| sizes[l] == 0) {
                (Prepared::Zero, false)
            } else {
                let strides = IxDyn(&shape).default_strides();
                let out_strides: Vec<isize> = strides.slice().iter().map(|&s| s as isize).collect();
                let dims = Dims::new(spec, &sizes, &shape, &out_strides, inputs);
                // the dimensions reach every output element (not only a diagonal of it)
                let reached =
                    (0..dims.len()).filter(|&d| dims.mask[d] & OUT != 0).map(|d| dims.size[d]).product::<usize>();
                let covers = reached == shape.iter().product::<usize>();
                let kind = kind.unwrap_or_else(|| classify(spec));
                let prepared = Prepared::new::<T>(kind, dims, inputs.len());
                let overwrite = covers && prepared.overwrites();
                (prepared, overwrite)
            };
            cache::insert::<T>(step, inputs, out_shape, Ready { shape, prepared, overwrite })
        }
    };
    let (shape, prepared) = (&ready.shape, &ready.prepared);
    let ptrs: SmallPtrs<T> = SmallPtrs::new(inputs);
    // SAFETY (both branches): the plan was built from dimensions that give a nonzero stride to
    // a participant only for axes whose dimension equals the label's size, after `check`
    // verified every participant's shape against those sizes (or, on a cache hit, for identical
    // shapes and strides), so every offset Σ index·stride with index < size addresses an
    // element of the participant's view, or of the freshly allocated standard-layout output,
    // which no view aliases and in which distinct output index tuples are distinct elements.
    if ready.overwrite {
        // every element is written before any is read: no zeroing first
        let mut out = alloc::try_uninit::<T>(shape)?;
        debug_assert!(out.is_standard_layout());
        if cfg!(debug_assertions) {
            // NaN in every element, so a test sees any the run fails to write
            out.fill(std::mem::MaybeUninit::new(T::nan()));
        }
        unsafe { prepared.run(out.as_mut_ptr().cast::<T>(), ptrs.get()) };
        // SAFETY: `overwrites` means the run wrote every element of the output.
        Ok(unsafe { out.assume_init() })
    } else {
        let mut out = alloc::try_zeros::<T>(shape)?;
        debug_assert!(out.is_standard_layout());
        unsafe { prepared.run(out.as_mut_ptr(), ptrs.get()) };
        Ok(out)
    }
}

/// The inputs' data pointers, on the stack for up to four operands.
struct SmallPtrs<T> {
    stack: [*const T; 4],
    heap: Vec<*const T>,
    len: usize,
}

impl<T: Float> SmallPtrs<T> {
    fn new(inputs: &[ArrayViewD<'_, T>]) -> SmallPtrs<T> {
        let mut p = SmallPtrs { stack: [std::ptr::null(); 4], heap: Vec::new(), len: inputs.len() };
        if inputs.len() <= 4 {
            for (s, a) in p.stack.iter_mut().zip(inputs) {
                *s = a.as_ptr();
            }
        } else {
            p.heap = inputs.iter().map(|a| a.as_ptr()).collect();
        }
        p
    }

    fn get(&self) -> &[*const T] {
        if self.len <= 4 {
            &self.stack[..self.len]
        } else {
            &self.heap
        }
    }
}

/// Label sizes and the output shape, with every shape checked.
fn check<T: Float>(
    spec: &ExtEinsum,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
) -> Result<(Vec<usize>, Vec<usize>), EinsumError> {
    let shapes: Vec<&[usize]> = inputs.iter().map(|a| a.shape()).collect();
    let sizes = spec.label_sizes(&shapes, out_shape)?;
    let shape = match out_shape {
        Some(s) => {
            checked_len(s)?;
            s.to_vec()
        }
        None => spec.output_shape(&sizes)?,
    };
    for a in inputs {
        checked_len(a.shape())?;
    }
    Ok((sizes, shape))
}
