//! Pairwise summation over the outer summed dimensions of a loop nest ([`Blocked`]): when they
//! add more than [`OUTER_BLOCK`] terms into each output element, the largest is halved
//! recursively, the second half summed into a zeroed compact buffer that is then added to the
//! first's result.

use super::NestPlan;
use crate::exec::Dims;
use crate::Float;

/// Terms the outer summed loops may add, one after another, into an output element before they
/// are split in halves summed apart. (32 additions of `0.1f32` in a row are off by 3e-7
/// relative; 128 by 1e-6.)
pub(super) const OUTER_BLOCK: usize = 32;

/// Pairwise summation over the outer summed dimensions of a nest.
#[derive(Debug, Clone)]
pub(super) struct Blocked {
    /// Positions of the summed dimensions among the outer ones.
    pub(super) summed: Vec<usize>,
    /// The same nest writing into a compact buffer of the output elements it reaches.
    compact: NestPlan,
    /// Adds a compact buffer into the output.
    merge: NestPlan,
    /// Elements of a compact buffer.
    pub(super) len: usize,
    /// Compact buffers needed at once: the depth of the halving.
    pub(super) levels: usize,
}

impl Blocked {
    /// The pairwise summation of `plan`'s outer summed dimensions (output stride 0), if they add
    /// more than [`OUTER_BLOCK`] terms into each output element.
    pub(super) fn new(plan: &NestPlan) -> Option<Blocked> {
        let np = plan.inner.len();
        let k = plan.sizes.len();
        let summed: Vec<usize> = (0..k).filter(|&d| plan.strides.get(d, 0, np) == 0).collect();
        let terms = summed.iter().fold(1usize, |t, &d| t.saturating_mul(plan.sizes[d]));
        if terms <= OUTER_BLOCK {
            return None;
        }
        // the compact buffer: the output's dimensions in loop order, innermost fastest
        let mut compact = plan.clone();
        let (mut len, mut sizes, mut from, mut to) = (1usize, Vec::new(), Vec::new(), Vec::new());
        if plan.inner[0] != 0 {
            compact.inner[0] = 1;
            (len, sizes, from, to) = (plan.n, vec![plan.n], vec![plan.inner[0]], vec![1]);
        }
        for d in (0..k).rev() {
            let st = plan.strides.get(d, 0, np);
            if st != 0 {
                compact.strides.set(d, 0, np, len as isize);
                sizes.push(plan.sizes[d]);
                from.push(st);
                to.push(len as isize);
                len *= plan.sizes[d];
            }
        }
        let merge_dims = Dims { mask: vec![0b11; sizes.len()], size: sizes, stride: vec![from, to] };
        let merge = NestPlan::unblocked(&merge_dims);
        // the depth of the halving: the second half of the largest dimension is the larger one
        let mut half = plan.sizes.clone();
        let mut levels = 0;
        while summed.iter().fold(1usize, |t, &d| t.saturating_mul(half[d])) > OUTER_BLOCK {
            let &d = summed.iter().max_by_key(|&&d| half[d]).expect("a summed dimension");
            half[d] -= half[d] / 2;
            levels += 1;
        }
        Some(Blocked { summed, compact, merge, len, levels })
    }

    /// Runs `plan` (whose pairwise summation this is) into `out`, summing pairwise.
    ///
    /// # Safety
    /// As [`NestPlan::run`].
    pub(super) unsafe fn run<T: Float>(&self, plan: &NestPlan, out: *mut T, ins: &[*const T]) {
        let mut sizes = plan.sizes.clone();
        let mut ins = ins.to_vec();
        let mut buffers = vec![T::zero(); self.len * self.levels];
        // SAFETY: as the caller guarantees; the buffers hold `levels` compact outputs.
        unsafe { self.halve(plan, &mut sizes, out, false, &mut ins, buffers.as_mut_ptr(), self.levels) };
    }

    /// Adds the sum over `sizes` of the outer dimensions into `out` (`plan`'s output, or a
    /// compact buffer when `compact`), splitting the largest summed dimension in halves while
    /// they add more than [`OUTER_BLOCK`] terms: the first half into `out`, the second into a
    /// zeroed buffer then added to `out`.
    ///
    /// # Safety
    /// As [`NestPlan::run`] for `plan` with these sizes and input pointers; `out` addresses the
    /// compact layout when `compact`; `buffers` holds `levels` compact buffers that nothing else
    /// uses, enough for the halving of `sizes`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn halve<T: Float>(
        &self,
        plan: &NestPlan,
        sizes: &mut [usize],
        out: *mut T,
        compact: bool,
        ins: &mut [*const T],
        buffers: *mut T,
        levels: usize,
    ) {
        let nest = if compact { &self.compact } else { plan };
        let terms = self.summed.iter().fold(1usize, |t, &d| t.saturating_mul(sizes[d]));
        // (`levels` suffices by construction; were it short, the sum would still be right)
        if terms <= OUTER_BLOCK || levels == 0 {
            // SAFETY: as the caller guarantees.
            unsafe { nest.run_sizes(sizes, out, ins) };
            return;
        }
        let np = plan.inner.len();
        let &d = self.summed.iter().max_by_key(|&&d| sizes[d]).expect("a summed dimension");
        let whole = sizes[d];
        let first = whole / 2;
        // the first half, into `out`, free to use every buffer
        sizes[d] = first;
        // SAFETY: a sub-range of the caller's indices, with the same buffers.
        unsafe { self.halve(plan, sizes, out, compact, ins, buffers, levels) };
        // the second half, from index `first` on, into this level's buffer (the deeper levels
        // are the ones after it)
        sizes[d] = whole - first;
        for (p, ptr) in ins.iter_mut().enumerate() {
            *ptr = ptr.wrapping_offset(first as isize * plan.strides.get(d, p + 1, np));
        }
        // SAFETY: this level's buffer is `len` elements that nothing else uses.
        let buffer = unsafe { std::slice::from_raw_parts_mut(buffers, self.len) };
        buffer.fill(T::zero());
        // SAFETY: the inputs' offsets for indices first..whole of dimension `d` are the caller's
        // (in bounds); the summed dimension moves no output, so the compact output is the
        // buffer; the remaining buffers serve the deeper levels.
        unsafe {
            self.halve(plan, sizes, buffer.as_mut_ptr(), true, ins, buffers.add(self.len), levels - 1);
        }
        for (p, ptr) in ins.iter_mut().enumerate() {
            *ptr = ptr.wrapping_offset(-(first as isize) * plan.strides.get(d, p + 1, np));
        }
        sizes[d] = whole;
        if compact {
            // SAFETY: `out` is a compact buffer of `len` elements, disjoint from this one.
            let out = unsafe { std::slice::from_raw_parts_mut(out, self.len) };
            for (o, &b) in out.iter_mut().zip(buffer.iter()) {
                *o += b;
            }
        } else {
            // SAFETY: the merge walks the output elements the nest reaches (in bounds, as the
            // caller guarantees) and the compact buffer, which does not overlap the output.
            unsafe { self.merge.run_sizes(&self.merge.sizes, out, &[buffer.as_ptr()]) };
        }
    }
}
