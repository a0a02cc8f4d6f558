//! The loop dimensions of a step ([`Dims`]), and [`stride`], the one rule by which the
//! executor, the reference loop nest and `einsum!`'s generated kernels give a participant a
//! stride along a label.

use crate::Float;
use ndarray::ArrayViewD;
use slowgrad_core::ExtEinsum;

/// The stride of a loop along an axis of length `dim` and stride `stride`, for a label of size
/// `size`: the axis's stride where it has the label's size, 0 where it has size 1 (broadcast
/// against a larger size, or a size-1 output dimension that sums the label back) and for a label
/// of size 1 (no loop runs along it). A participant's stride along a label is the sum of this
/// over the axes that carry the label, so a repeated label walks the diagonal.
///
/// Generated kernels use it through `__private::forward`, which computes their strides.
#[inline(always)]
pub(crate) fn stride(dim: usize, stride: isize, size: usize) -> isize {
    if dim == size && size > 1 {
        stride
    } else {
        0
    }
}

/// Whether a participant walks two nested loops as one: its stride along the outer one is its
/// stride along the inner one times the inner one's length. The rule by which the executor
/// fuses dimensions and generated kernels join their two innermost loops.
#[inline(always)]
pub(crate) fn in_step(outer: isize, inner: isize, inner_len: usize) -> bool {
    inner.checked_mul(inner_len as isize) == Some(outer)
}

/// The loop dimensions of a step: participant 0 is the output, `1..` the inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dims {
    /// Size of each dimension (all > 1).
    pub size: Vec<usize>,
    /// Bit `p` set: participant `p` is indexed by the dimension (its role).
    pub mask: Vec<u64>,
    /// `stride[p][d]`: how far participant `p` moves along dimension `d` (0 if not indexed).
    pub stride: Vec<Vec<isize>>,
}

/// Mask bit of the output.
pub(crate) const OUT: u64 = 1;

impl Dims {
    /// The dimensions of `spec` for labels of `sizes`, inputs laid out as `inputs` and an output
    /// of `out_shape` and `out_strides`: one per label of size > 1, then fused (see
    /// [`Dims::coalesce`]).
    pub(super) fn new<T: Float>(
        spec: &ExtEinsum,
        sizes: &[usize],
        out_shape: &[usize],
        out_strides: &[isize],
        inputs: &[ArrayViewD<'_, T>],
    ) -> Dims {
        let np = inputs.len() + 1;
        let mut dims = Dims { size: Vec::new(), mask: Vec::new(), stride: vec![Vec::new(); np] };
        for (l, &n) in sizes.iter().enumerate() {
            if n <= 1 {
                continue;
            }
            let mut mask = 0u64;
            for p in 0..np {
                let (term, shape, strides) = match p {
                    0 => (&spec.output, out_shape, out_strides),
                    _ => (&spec.inputs[p - 1], inputs[p - 1].shape(), inputs[p - 1].strides()),
                };
                let mut s = 0isize;
                for ((&m, &d), &st) in term.iter().zip(shape).zip(strides) {
                    if m == l {
                        s += stride(d, st, n);
                        if d == n {
                            mask |= 1 << p;
                        }
                    }
                }
                dims.stride[p].push(s);
            }
            dims.size.push(n);
            dims.mask.push(mask);
        }
        dims.coalesce();
        dims
    }

    /// Number of dimensions.
    pub fn len(&self) -> usize {
        self.size.len()
    }

    /// Fuses pairs of dimensions with the same role that every participant walks in step (the
    /// outer one's stride is the inner one's times its size), so loops get longer and fewer.
    fn coalesce(&mut self) {
        'again: loop {
            for a in 0..self.len() {
                for b in 0..self.len() {
                    let nested = a != b
                        && self.mask[a] == self.mask[b]
                        && self.stride.iter().all(|s| in_step(s[a], s[b], self.size[b]));
                    if nested {
                        self.size[b] *= self.size[a];
                        self.remove(a);
                        continue 'again;
                    }
                }
            }
            return;
        }
    }

    fn remove(&mut self, d: usize) {
        self.size.remove(d);
        self.mask.remove(d);
        for s in &mut self.stride {
            s.remove(d);
        }
    }

    /// The dimensions `keep` (in that order).
    pub fn select(&self, keep: &[usize]) -> Dims {
        Dims {
            size: keep.iter().map(|&d| self.size[d]).collect(),
            mask: keep.iter().map(|&d| self.mask[d]).collect(),
            stride: self.stride.iter().map(|s| keep.iter().map(|&d| s[d]).collect()).collect(),
        }
    }

    /// Total multiply-adds (saturating).
    pub fn work(&self) -> usize {
        self.size.iter().fold(1usize, |w, &n| w.saturating_mul(n))
    }
}
