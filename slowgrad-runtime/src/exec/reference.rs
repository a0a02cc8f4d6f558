//! The reference interpreter: one strided loop nest over raw data, with no kernel dispatch.
//!
//! [`execute`](super::execute) dispatches to faster kernels; this plain loop nest is kept as the
//! independent reference that tests compare every kernel class against.
//!
//! Every operand and the output get one stride per label (the sum of the strides of the axes
//! that carry it, so a repeated label walks the diagonal; 0 where an axis of size 1 is broadcast
//! against a larger size, so the output sums back to size 1). The loops run over every label
//! once, innermost the label with the smallest strides, with one plain multiply-add per element.

use crate::Float;
use ndarray::{ArrayD, ArrayViewD, IxDyn};
use slowgrad_core::{EinsumError, ExtEinsum};

/// Computes the extended einsum `spec` of `inputs` with the plain loop nest (the reference for
/// [`execute`](super::execute), with the same arguments and results).
///
/// `out_shape` gives the output shape; it is required when an output label appears in no
/// input, and may hold 1 where a label of larger size is to be summed to size 1. With `None`
/// every output label takes its full size.
///
/// **Errors** if the shapes do not fit `spec` (see [`EinsumError`]).
///
/// The public API runs it as [`crate::einsum_reference`].
pub(crate) fn execute_reference<T: Float>(
    spec: &ExtEinsum,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
) -> Result<ArrayD<T>, EinsumError> {
    let (sizes, shape) = super::check(spec, inputs, out_shape)?;
    let mut out = ArrayD::<T>::zeros(IxDyn(&shape));
    let n_labels = sizes.len();
    if spec.used_labels().iter().any(|&l| sizes[l] == 0) {
        return Ok(out);
    }
    // strides[p][l]: participant p (0 = output, 1.. = inputs) moves by this for label l
    let label_strides = |term: &[usize], dims: &[usize], strides: &[isize]| {
        let mut s = vec![0isize; n_labels];
        for ((&l, &d), &st) in term.iter().zip(dims).zip(strides) {
            s[l] += super::stride(d, st, sizes[l]);
        }
        s
    };
    let mut strides = Vec::with_capacity(inputs.len() + 1);
    strides.push(label_strides(&spec.output, out.shape(), out.strides()));
    for (t, a) in spec.inputs.iter().zip(inputs) {
        strides.push(label_strides(t, a.shape(), a.strides()));
    }
    // loop labels: size > 1; innermost the smallest stride, then the most unit strides, then a
    // summed label (accumulated in a register)
    let mut order: Vec<usize> = (0..n_labels).filter(|&l| sizes[l] > 1).collect();
    let key = |l: usize| {
        let all = strides.iter().map(|s| s[l].unsigned_abs()).filter(|&s| s > 0);
        let min = all.clone().min().unwrap_or(usize::MAX);
        let units = all.filter(|&s| s == 1).count();
        (min, usize::MAX - units, strides[0][l] != 0)
    };
    order.sort_by_key(|&l| std::cmp::Reverse(key(l)));
    let ptrs: Vec<*const T> = inputs.iter().map(|a| a.as_ptr()).collect();
    let out_ptr = out.as_mut_ptr();
    let nest = LoopNest { sizes: &sizes, order: &order, strides: &strides };
    // SAFETY: every offset the nest forms is Σ index[l] · stride[p][l] with index[l] < sizes[l];
    // sizes were checked against every participant's shape (label_sizes), and a stride is
    // nonzero only for axes whose dimension equals the label's size, so each offset addresses an
    // element of the participant's view (or of the freshly allocated, standard-layout output).
    unsafe { nest.run(out_ptr, &ptrs) };
    Ok(out)
}

struct LoopNest<'a> {
    sizes: &'a [usize],
    order: &'a [usize],
    strides: &'a [Vec<isize>],
}

impl LoopNest<'_> {
    /// # Safety
    /// The strides and sizes must address valid elements of `out` and `ins` (see `execute`).
    unsafe fn run<T: Float>(&self, out: *mut T, ins: &[*const T]) {
        let n_in = ins.len();
        let (outer, inner) = match self.order.split_last() {
            Some((&inner, outer)) => (outer, Some(inner)),
            None => (&[][..], None),
        };
        let (n_inner, s_out, s_in): (usize, isize, Vec<isize>) = match inner {
            Some(l) => (self.sizes[l], self.strides[0][l], self.strides[1..].iter().map(|s| s[l]).collect()),
            None => (1, 0, vec![0; n_in]),
        };
        let mut idx = vec![0usize; outer.len()];
        let mut off_out = 0isize;
        let mut off_in = vec![0isize; n_in];
        loop {
            // SAFETY: offsets stay within the views, as the caller guarantees.
            unsafe {
                let o = out.offset(off_out);
                innern(o, s_out, ins, &off_in, &s_in, n_inner);
            }
            // advance the odometer over the outer labels
            let mut d = outer.len();
            loop {
                if d == 0 {
                    return;
                }
                d -= 1;
                let l = outer[d];
                idx[d] += 1;
                off_out += self.strides[0][l];
                for (o, s) in off_in.iter_mut().zip(&self.strides[1..]) {
                    *o += s[l];
                }
                if idx[d] < self.sizes[l] {
                    break;
                }
                let back = self.sizes[l] as isize;
                off_out -= self.strides[0][l] * back;
                for (o, s) in off_in.iter_mut().zip(&self.strides[1..]) {
                    *o -= s[l] * back;
                }
                idx[d] = 0;
            }
        }
    }
}

/// `o[i·so] += Π_k ins[k][off[k] + i·s[k]]` for `i < n`: one plain loop for any operand count.
#[inline(always)]
unsafe fn innern<T: Float>(o: *mut T, so: isize, ins: &[*const T], off: &[isize], s: &[isize], n: usize) {
    for i in 0..n as isize {
        let mut p = T::one();
        for ((&ptr, &base), &st) in ins.iter().zip(off).zip(s) {
            // SAFETY: i < n = the label's size and base is an in-bounds offset of this operand.
            p *= unsafe { *ptr.offset(base + i * st) };
        }
        // SAFETY: as above, for the output.
        unsafe { *o.offset(i * so) += p };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    fn ex(inputs: &str, output: &str, ops: &[ArrayViewD<'_, f64>], shape: Option<&[usize]>) -> ArrayD<f64> {
        execute_reference(&ExtEinsum::from_letters(inputs, output).unwrap(), ops, shape).unwrap()
    }

    #[test]
    fn matmul_and_transposed_views() {
        let a = array![[1.0, 2.0], [3.0, 4.0]];
        let b = array![[5.0, 6.0], [7.0, 8.0]];
        let want = a.dot(&b);
        assert_eq!(ex("ij,jk", "ik", &[a.view().into_dyn(), b.view().into_dyn()], None), want.clone().into_dyn());
        let at = a.t().to_owned();
        assert_eq!(ex("ji,jk", "ik", &[at.t().into_dyn(), b.view().into_dyn()], None).shape(), &[2, 2]);
        assert_eq!(ex("ij,jk", "ik", &[at.t().t().t().into_dyn(), b.view().into_dyn()], None), want.into_dyn());
    }

    #[test]
    fn extended_outputs() {
        let v = array![1.0, 2.0];
        // diagonal scatter
        assert_eq!(ex("i", "ii", &[v.view().into_dyn()], None), array![[1.0, 0.0], [0.0, 2.0]].into_dyn());
        // broadcast label given by the output shape
        assert_eq!(
            ex("i", "ij", &[v.view().into_dyn()], Some(&[2, 3])),
            array![[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]].into_dyn()
        );
        // size-1 output dimension sums
        let m = Array2::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f64);
        assert_eq!(ex("ij", "ij", &[m.view().into_dyn()], Some(&[2, 1])), array![[3.0], [12.0]].into_dyn());
        // empty dimensions give empty or zero results
        let e = Array2::<f64>::zeros((0, 3));
        assert_eq!(ex("ij", "j", &[e.view().into_dyn()], None), array![0.0, 0.0, 0.0].into_dyn());
    }
}
