//! Prepared steps: how a step runs ([`Prepared`]: the GEMM, the loop nest whole or split
//! across threads, or a core and copies along output-only labels), chosen once per equation,
//! shapes and strides and kept with its output shape ([`Ready`]) in the per-thread cache.

use super::dims::{Dims, OUT};
use super::{gemm, nest, NEST_PAR_MIN_WORK};
use crate::Float;
use rayon::prelude::*;
use slowgrad_core::KernelKind;

/// A raw pointer that may cross threads.
#[derive(Clone, Copy)]
pub(crate) struct SyncPtr<T>(pub *mut T);

// SAFETY: the pointer is only dereferenced by tasks that write disjoint elements of the output
// and only read the inputs (see the SAFETY comments where they run).
unsafe impl<T> Send for SyncPtr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for SyncPtr<T> {}

impl<T> SyncPtr<T> {
    /// The pointer (a method, so closures capture the whole `SyncPtr`).
    pub fn get(self) -> *mut T {
        self.0
    }
}

/// A prepared step: its output shape and how it runs.
#[derive(Debug)]
pub(crate) struct Ready {
    /// The output shape.
    pub(super) shape: Vec<usize>,
    /// How the step runs.
    pub(super) prepared: Prepared,
    /// The step writes every output element before reading any ([`Prepared::overwrites`], on
    /// dimensions that reach every element), so its output is not zeroed first.
    pub(super) overwrite: bool,
}

/// How a step runs, prepared once per equation, shapes and strides.
#[derive(Debug)]
pub(crate) enum Prepared {
    /// A dimension has size 0: the output stays zero.
    Zero,
    /// The strided loop nest.
    Nest(nest::NestPlan),
    /// The loop nest split along one output dimension into chunks that run on rayon's threads:
    /// per chunk, the participants' offsets and its nest.
    ParNest(Vec<(Vec<isize>, nest::NestPlan)>),
    /// (Batched) matrix products.
    Gemm(gemm::GemmPlan),
    /// Output-only dimensions: the core once (into its block of the output, zeroed first by the
    /// fill nest when the core adds to what is there), then copies of its block along each of
    /// them (destination offset and copy nest), which assign: every element is written once.
    Broadcast(Box<Prepared>, Option<nest::NestPlan>, Vec<(isize, nest::NestPlan)>),
}

impl Prepared {
    /// How a step of class `kind` with these dimensions and `n_in` inputs runs.
    pub(super) fn new<T: Float>(kind: KernelKind, dims: Dims, n_in: usize) -> Prepared {
        let (bcast, core): (Vec<usize>, Vec<usize>) = (0..dims.len()).partition(|&d| dims.mask[d] == OUT);
        if bcast.is_empty() {
            return Prepared::core::<T>(kind, dims, n_in);
        }
        let first = Prepared::core::<T>(kind, dims.select(&core), n_in);
        // copy the computed block along each broadcast dimension in turn
        let mut block: Vec<usize> = core.into_iter().filter(|&d| dims.mask[d] & OUT != 0).collect();
        // the block filled with zeros (a source of stride 0) before a core that adds into it
        let fill = (!first.overwrites()).then(|| {
            let b = dims.select(&block);
            let n = block.len();
            nest::NestPlan::new(&Dims {
                size: b.size,
                mask: vec![0b11; n],
                stride: vec![b.stride[0].clone(), vec![0; n]],
            })
        });
        let mut copies = Vec::new();
        for d in bcast {
            let b = dims.select(&block);
            let st = dims.stride[0][d];
            let mut copy = Dims { size: b.size, mask: vec![0b11; block.len()], stride: vec![b.stride[0].clone(); 2] };
            copy.size.push(dims.size[d] - 1);
            copy.mask.push(OUT);
            copy.stride[0].push(st);
            copy.stride[1].push(0);
            copies.push((st, nest::NestPlan::new(&copy)));
            block.push(d);
        }
        Prepared::Broadcast(Box::new(first), fill, copies)
    }

    fn core<T: Float>(kind: KernelKind, dims: Dims, n_in: usize) -> Prepared {
        let gemm_like = matches!(kind, KernelKind::BatchedGemm | KernelKind::Scatter | KernelKind::LoopNest);
        if gemm_like && n_in == 2 {
            if let Some(g) = gemm::GemmPlan::new::<T>(&dims) {
                return Prepared::Gemm(g);
            }
        }
        let threads = if dims.work() >= NEST_PAR_MIN_WORK { rayon::current_num_threads() } else { 1 };
        let split = (0..dims.len()).filter(|&d| dims.mask[d] & OUT != 0).max_by_key(|&d| dims.size[d]);
        match split {
            Some(d) if threads > 1 && dims.size[d] >= threads => {
                let n = dims.size[d];
                let chunks = (0..threads)
                    .map(|c| {
                        let (lo, hi) = (n * c / threads, n * (c + 1) / threads);
                        let mut sub = dims.clone();
                        sub.size[d] = hi - lo;
                        (dims.stride.iter().map(|s| s[d] * lo as isize).collect(), nest::NestPlan::new(&sub))
                    })
                    .collect();
                Prepared::ParNest(chunks)
            }
            _ => Prepared::Nest(nest::NestPlan::new(&dims)),
        }
    }

    /// Whether running the step writes every element its dimensions reach before reading any: a
    /// GEMM's first product assigns, and a broadcast assigns its copies (and zeroes its core's
    /// block itself where the core adds). Where the dimensions reach every element of the
    /// output (no repeated output label), the output then needs no zeroing first.
    pub(super) fn overwrites(&self) -> bool {
        match self {
            Prepared::Zero | Prepared::Nest(_) | Prepared::ParNest(_) => false,
            Prepared::Gemm(g) => g.overwrites(),
            Prepared::Broadcast(..) => true,
        }
    }

    /// Runs the step into `out`: adding into it, which must start zeroed, unless
    /// [`Prepared::overwrites`], when the elements it reaches may hold no values yet.
    ///
    /// # Safety
    /// The plan's sizes and strides must address valid elements of `out` and `ins`, and
    /// distinct index tuples of the output's dimensions must address distinct elements of `out`
    /// (see `execute`).
    pub(super) unsafe fn run<T: Float>(&self, out: *mut T, ins: &[*const T]) {
        match self {
            Prepared::Zero => {}
            // SAFETY: as the caller guarantees.
            Prepared::Nest(n) => unsafe { n.run(out, ins) },
            // SAFETY: as the caller guarantees.
            Prepared::Gemm(g) => unsafe { g.run(out, ins[0], ins[1]) },
            Prepared::ParNest(chunks) => {
                let out = SyncPtr(out);
                let ins: Vec<SyncPtr<T>> = ins.iter().map(|&p| SyncPtr(p as *mut T)).collect();
                chunks.par_iter().for_each(|(off, plan)| {
                    let ptrs: Vec<*const T> =
                        ins.iter().zip(&off[1..]).map(|(p, &o)| p.get().wrapping_offset(o) as *const T).collect();
                    // SAFETY: chunk `c` covers indices [lo, hi) of one output dimension, so its
                    // offsets and its nest address the same elements as the whole nest does
                    // for those indices (in bounds, as the caller guarantees); distinct chunks
                    // write distinct output elements, since distinct output index tuples are
                    // distinct elements; the inputs are only read.
                    unsafe { plan.run(out.get().offset(off[0]), &ptrs) };
                });
            }
            Prepared::Broadcast(core, fill, copies) => {
                if let Some(fill) = fill {
                    let zero = T::zero();
                    // SAFETY: the fill covers the core's block of the output (in bounds, as the
                    // caller guarantees) and reads only `zero`, with stride 0.
                    unsafe { fill.assign(out, &zero) };
                }
                // SAFETY: the core's dimensions are a subset of the step's, at index 0 of the
                // broadcast ones; its block was zeroed above unless the core overwrites it.
                unsafe { core.run(out, ins) };
                for (st, copy) in copies {
                    // SAFETY: the destination (indices 1.. along the broadcast dimension) and the
                    // source (index 0, written by the core or an earlier copy) are disjoint parts
                    // of the output, since distinct output index tuples are distinct elements;
                    // every index stays in bounds. Each element of the output outside the core's
                    // block is written by exactly one copy: the one of the last broadcast
                    // dimension along which its index is not 0.
                    unsafe { copy.assign(out.offset(*st), out) };
                }
            }
        }
    }
}
