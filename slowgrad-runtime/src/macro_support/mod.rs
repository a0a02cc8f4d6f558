//! Support code for the expansion of `einsum!` and `try_einsum!`. Not a public API: generated
//! code refers to these items as `$crate::__private::…`, and they may change in any release.
//!
//! For a pattern without `...`, the macro plans the contraction at compile time and writes, for
//! every step and every gradient of a step (to any order: the family is finite), a zero-sized
//! type implementing [`Spec`]: the kernel's constant data ([`KernelData`]: its equation, loop
//! order and class) and a [`Spec::forward`] made of two parts:
//!
//! - `run`, the kernel's loop nest, generated for it: one `for` per label in the kernel's loop
//!   order, each advancing only the operands that its label indexes (an operand without the
//!   label is not moved, so it stays hoisted), with the innermost one or two loops handed to a
//!   microkernel chosen at compile time from the labels' roles ([`micro`]: dot, axpy or blocked
//!   rows). The microkernels exist twice, for AVX2+FMA and for the baseline, and
//!   [`micro::kernels_use_fma`], read once per call, picks one;
//! - a call of the shared [`forward`] (one copy per element type, label count and input count)
//!   with `run`: it checks the sizes, hands large work to the executor as the kernel's class,
//!   allocates the output, computes each operand's stride per loop level from the kernel's
//!   label table (a diagonal's stride is the sum of its axes' strides; a broadcast axis's is 0)
//!   and calls `run`.
//!
//! Patterns with `...` have ranks known only at run time and run through the interpreter.

mod kernel;
pub mod micro;
mod operands;
mod plan;

pub use crate::Float;
pub use kernel::*;
pub use micro::kernels_use_fma;
pub use ndarray::{ArrayD, ArrayViewD, Ix0, Ix1, Ix2, Ix3, Ix4, Ix5, Ix6, IxDyn as IxD};
pub use operands::*;
pub use plan::*;
pub use slowgrad_core::EinsumError as Error;
pub use slowgrad_core::KernelKind;
pub use slowgrad_macros::{einsum as expand_einsum, try_einsum as expand_try_einsum};

use crate::Kernel;
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
    /// The loop level of each label (the inverse of `order`).
    pub level: &'static [usize],
    /// The kernel class, decided at compile time; large work runs in the executor as this class.
    pub kind: KernelKind,
    /// For a batched matrix-matrix product (batch, left-free, right-free and contracted labels),
    /// its batch labels: its work goes to the executor by the size of one product
    /// ([`is_large_batched`]); `None` for every other kernel ([`is_large`]).
    pub batch: Option<&'static [usize]>,
    /// For a nest of blocked rows, the level of its row: the inputs read along it with a stride
    /// other than 0 or 1 are copied first ([`micro::run_packed`]).
    pub pack: Option<usize>,
    /// For an axpy or dot nest of two levels or more: its two innermost levels run as one when
    /// every operand walks them as one ([`merge_inner`]).
    pub merge: bool,
    /// For an axpy nest whose labels are all output labels, each on one output axis (no sum,
    /// no diagonal written): it writes each output element once, so its output is not zeroed
    /// first, unless a loop of more than one step does not move the output (a label summed
    /// to a size-1 output axis).
    pub overwrite: bool,
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
        gradient(k, S::DATA, [kernel::<T, S::G0>, kernel::<T, S::G1>])
    }

    fn name(&self) -> &'static str {
        S::DATA.name
    }
}

/// [`Kernel::gradient`] of a generated kernel with data `data` and gradient kernels `grads`:
/// one copy for every kernel.
///
/// **Panics** for an input the kernel does not have.
#[inline(never)]
fn gradient<T: Float>(k: usize, data: &KernelData, grads: [fn() -> Box<dyn Kernel<T>>; 2]) -> Box<dyn Kernel<T>> {
    match (k, data.labels.inputs.len()) {
        (0, _) => grads[0](),
        (1, 2) => grads[1](),
        (k, n) => panic!("gradient {k} of a kernel with {n} inputs"),
    }
}
