//! Indexing: `index_select`, `gather`, `slice_axis`, `concat` (or `cat`), `stack`, and the
//! windows of a convolution (`unfold1d`, `unfold2d`).
//!
//! All of them are one pair of linear primitives over an index table: `take` reads
//! `out[i] = x[idx[i]]` (0 where `idx[i]` is [`PAD`]) and `put` scatter-adds `out[idx[i]] += g[i]`.
//! Each is the other's backward, so the pair is closed under differentiation.

use crate::tape::record;
use crate::{Float, Var};
use ndarray::{ArrayD, Dimension, IxDyn};
use std::ops::Range;
use std::rc::Rc;

type Dyn<T> = Var<T, IxDyn>;

/// An index-table entry that reads nothing: the element is 0 (zero padding).
const PAD: usize = usize::MAX;

fn flat<T: Float>(v: &ArrayD<T>) -> std::borrow::Cow<'_, [T]> {
    match v.as_slice() {
        Some(s) => std::borrow::Cow::Borrowed(s),
        None => std::borrow::Cow::Owned(v.iter().copied().collect()),
    }
}

/// `out[i] = x[idx[i]]` (row-major flat indices), with shape `out_shape`.
pub(crate) fn take<T: Float>(x: &Dyn<T>, idx: Rc<Vec<usize>>, out_shape: Vec<usize>) -> Dyn<T> {
    debug_assert_eq!(idx.len(), out_shape.iter().product::<usize>());
    let value = x.with_value(|v| {
        let src = flat(v);
        let data: Vec<T> = idx.iter().map(|&j| if j == PAD { T::zero() } else { src[j] }).collect();
        ArrayD::from_shape_vec(IxDyn(&out_shape), data).expect("index table has the output's length")
    });
    let in_shape = x.shape();
    record("take", value, std::slice::from_ref(x), move |g: &Dyn<T>, _: &[Dyn<T>], _: &Dyn<T>| {
        vec![Some(put(g, idx.clone(), in_shape.clone()))]
    })
}

/// `out[idx[i]] += g[i]` into zeros of shape `out_shape`: the adjoint of [`take`].
fn put<T: Float>(g: &Dyn<T>, idx: Rc<Vec<usize>>, out_shape: Vec<usize>) -> Dyn<T> {
    let value = g.with_value(|v| {
        let src = flat(v);
        let mut out = vec![T::zero(); out_shape.iter().product()];
        for (&j, &s) in idx.iter().zip(src.iter()) {
            if j != PAD {
                out[j] += s;
            }
        }
        ArrayD::from_shape_vec(IxDyn(&out_shape), out).expect("sized from the shape")
    });
    let g_shape = g.shape();
    record("put", value, std::slice::from_ref(g), move |u: &Dyn<T>, _: &[Dyn<T>], _: &Dyn<T>| {
        vec![Some(take(u, idx.clone(), g_shape.clone()))]
    })
}

/// (elements before `axis`, size of `axis`, elements after `axis`).
fn split(shape: &[usize], axis: usize) -> (usize, usize, usize) {
    (shape[..axis].iter().product(), shape[axis], shape[axis + 1..].iter().product())
}

/// The output size of a convolution window sweep.
#[track_caller]
fn conv_out(op: &str, len: usize, k: usize, stride: usize, pad: usize) -> usize {
    assert!(stride > 0, "{op}: stride must be positive");
    assert!(
        k > 0 && len + 2 * pad >= k,
        "{op}: kernel size {k} is larger than the padded input size {}",
        len + 2 * pad
    );
    (len + 2 * pad - k) / stride + 1
}

fn padded_index(o: usize, k: usize, stride: usize, pad: usize, len: usize) -> Option<usize> {
    (o * stride + k).checked_sub(pad).filter(|&i| i < len)
}

impl<T: Float, D: Dimension> Var<T, D> {
    /// The entries `indices` along `axis` (`torch.index_select`); an index may repeat. With
    /// axis 0 of a `(vocab, dim)` table this is an embedding lookup.
    ///
    /// **Panics** if `axis` is out of range or an index is not below the axis' size.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let table = Var::new(array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    /// let rows = table.index_select(0, &[2, 0, 2]);
    /// assert_eq!(rows.value(), array![[5.0, 6.0], [1.0, 2.0], [5.0, 6.0]].into_dyn());
    /// rows.sum().backward();
    /// assert_eq!(table.grad().unwrap(), array![[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]);
    /// ```
    #[track_caller]
    pub fn index_select(&self, axis: usize, indices: &[usize]) -> Var<T, IxDyn> {
        let shape = self.shape();
        assert!(axis < shape.len(), "index_select: axis {axis} is out of range for shape {shape:?}");
        let (outer, n, inner) = split(&shape, axis);
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            panic!("index_select: index {bad} is out of range for axis {axis} of shape {shape:?}");
        }
        let mut idx = Vec::with_capacity(outer * indices.len() * inner);
        for o in 0..outer {
            for &k in indices {
                let base = (o * n + k) * inner;
                idx.extend(base..base + inner);
            }
        }
        let mut out_shape = shape.clone();
        out_shape[axis] = indices.len();
        take(&self.as_dyn(), Rc::new(idx), out_shape)
    }

    /// `torch.gather`: the result has `index`'s shape, and its element at position `p` is
    /// `self`'s element at `p` with coordinate `axis` replaced by `index[p]`. With a `(batch, 1)`
    /// index of class targets along axis 1 it picks each row's target logit.
    ///
    /// **Panics** if the ranks differ, an axis of `index` is longer than `self`'s (other than
    /// `axis`), or an index is out of range.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let logits = Var::new(array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let picked = logits.gather(1, &array![[2], [0]].into_dyn());
    /// assert_eq!(picked.value(), array![[3.0], [4.0]].into_dyn());
    /// ```
    #[track_caller]
    pub fn gather(&self, axis: usize, index: &ArrayD<usize>) -> Var<T, IxDyn> {
        let shape = self.shape();
        let ishape = index.shape();
        assert!(
            ishape.len() == shape.len() && axis < shape.len(),
            "gather: index of shape {ishape:?} along axis {axis} does not fit a value of shape {shape:?}"
        );
        for (d, (&i, &s)) in ishape.iter().zip(&shape).enumerate() {
            assert!(
                d == axis || i <= s,
                "gather: index shape {ishape:?} is larger than value shape {shape:?} on axis {d}"
            );
        }
        let mut strides = vec![1usize; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1];
        }
        let idx: Vec<usize> = index
            .indexed_iter()
            .map(|(pos, &k)| {
                assert!(k < shape[axis], "gather: index {k} is out of range for axis {axis} of shape {shape:?}");
                (0..shape.len()).map(|d| if d == axis { k } else { pos[d] } * strides[d]).sum()
            })
            .collect();
        take(&self.as_dyn(), Rc::new(idx), ishape.to_vec())
    }

    /// The entries `range` along `axis` (`x[.., a..b, ..]`, `torch.narrow`).
    ///
    /// **Panics** if `axis` is out of range or `range` is not within the axis.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(x.slice_axis(1, 1..3).value(), array![[2.0, 3.0], [5.0, 6.0]].into_dyn());
    /// ```
    #[track_caller]
    pub fn slice_axis(&self, axis: usize, range: Range<usize>) -> Var<T, IxDyn> {
        let shape = self.shape();
        assert!(axis < shape.len(), "slice_axis: axis {axis} is out of range for shape {shape:?}");
        assert!(
            range.start <= range.end && range.end <= shape[axis],
            "slice_axis: range {range:?} is not within axis {axis} of shape {shape:?}"
        );
        let indices: Vec<usize> = range.collect();
        self.index_select(axis, &indices)
    }

    /// Sliding windows for a 1-D convolution: `(N, C, L)` becomes `(N, C·k, L_out)`, with
    /// `L_out = (L + 2·padding − k) / stride + 1`, zero padding, and rows ordered `(c, k)` like
    /// a `(out, C, k)` weight flattened to `(out, C·k)` (`torch.nn.functional.unfold`'s layout).
    ///
    /// **Panics** if `self` is not 3-D, `stride` is 0, or the kernel is larger than the padded
    /// input.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![[[1.0, 2.0, 3.0]]]);
    /// let w = x.unfold1d(2, 1, 0);
    /// assert_eq!(w.value(), array![[[1.0, 2.0], [2.0, 3.0]]].into_dyn());
    /// ```
    #[track_caller]
    pub fn unfold1d(&self, k: usize, stride: usize, padding: usize) -> Var<T, IxDyn> {
        let shape = self.shape();
        assert!(shape.len() == 3, "unfold1d needs a (batch, channels, length) input, got shape {shape:?}");
        let (n, c, l) = (shape[0], shape[1], shape[2]);
        let lo = conv_out("unfold1d", l, k, stride, padding);
        let mut idx = Vec::with_capacity(n * c * k * lo);
        for b in 0..n {
            for ch in 0..c {
                for kk in 0..k {
                    for o in 0..lo {
                        idx.push(match padded_index(o, kk, stride, padding, l) {
                            Some(i) => (b * c + ch) * l + i,
                            None => PAD,
                        });
                    }
                }
            }
        }
        take(&self.as_dyn(), Rc::new(idx), vec![n, c * k, lo])
    }

    /// Sliding windows for a 2-D convolution (im2col): `(N, C, H, W)` becomes
    /// `(N, C·kh·kw, H_out·W_out)` with zero padding, rows ordered `(c, i, j)` and columns
    /// row-major over output positions (`torch.nn.functional.unfold`'s layout). A convolution
    /// is then the einsum `bkl,ok->bol` with the weight flattened to `(out, C·kh·kw)`.
    ///
    /// **Panics** if `self` is not 4-D, a stride is 0, or the kernel is larger than the padded
    /// input.
    ///
    /// ```
    /// use slowgrad::Var;
    /// let x = Var::new(ndarray::Array4::<f64>::ones((2, 3, 8, 8)));
    /// let cols = x.unfold2d((3, 3), (2, 2), (1, 1));
    /// assert_eq!(cols.shape(), vec![2, 27, 16]);
    /// ```
    #[track_caller]
    pub fn unfold2d(&self, kernel: (usize, usize), stride: (usize, usize), padding: (usize, usize)) -> Var<T, IxDyn> {
        let shape = self.shape();
        assert!(shape.len() == 4, "unfold2d needs a (batch, channels, height, width) input, got shape {shape:?}");
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3]);
        let ho = conv_out("unfold2d", h, kernel.0, stride.0, padding.0);
        let wo = conv_out("unfold2d", w, kernel.1, stride.1, padding.1);
        let mut idx = Vec::with_capacity(n * c * kernel.0 * kernel.1 * ho * wo);
        for b in 0..n {
            for ch in 0..c {
                for ki in 0..kernel.0 {
                    for kj in 0..kernel.1 {
                        for oy in 0..ho {
                            let iy = padded_index(oy, ki, stride.0, padding.0, h);
                            for ox in 0..wo {
                                let ix = padded_index(ox, kj, stride.1, padding.1, w);
                                idx.push(match (iy, ix) {
                                    (Some(y), Some(x)) => ((b * c + ch) * h + y) * w + x,
                                    _ => PAD,
                                });
                            }
                        }
                    }
                }
            }
        }
        take(&self.as_dyn(), Rc::new(idx), vec![n, c * kernel.0 * kernel.1, ho * wo])
    }

    /// Concatenates `parts` along `axis` (`torch.cat`). Every part must have the same shape
    /// except along `axis`.
    ///
    /// **Panics** if `parts` is empty or the shapes do not fit.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let a = Var::new(array![[1.0], [2.0]]);
    /// let b = Var::new(array![[3.0, 4.0], [5.0, 6.0]]);
    /// let c = Var::concat(&[&a, &b], 1);
    /// assert_eq!(c.value(), array![[1.0, 3.0, 4.0], [2.0, 5.0, 6.0]].into_dyn());
    /// ```
    #[track_caller]
    pub fn concat(parts: &[&Var<T, D>], axis: usize) -> Var<T, IxDyn> {
        assert!(!parts.is_empty(), "concat needs at least one part");
        let shapes: Vec<Vec<usize>> = parts.iter().map(|p| p.shape()).collect();
        let first = &shapes[0];
        assert!(axis < first.len(), "concat: axis {axis} is out of range for shape {first:?}");
        for s in &shapes {
            let fits = s.len() == first.len() && s.iter().zip(first).enumerate().all(|(d, (a, b))| d == axis || a == b);
            assert!(fits, "concat along axis {axis}: shapes {shapes:?} differ off that axis");
        }
        let total: usize = shapes.iter().map(|s| s[axis]).sum();
        let mut out_shape = first.clone();
        out_shape[axis] = total;
        let (outer, _, inner) = split(&out_shape, axis);
        let mut offset = 0;
        let mut acc: Option<Dyn<T>> = None;
        for (p, s) in parts.iter().zip(&shapes) {
            let len = s[axis];
            let mut idx = Vec::with_capacity(outer * len * inner);
            for o in 0..outer {
                let base = (o * total + offset) * inner;
                idx.extend(base..base + len * inner);
            }
            offset += len;
            let placed = put(&p.as_dyn(), Rc::new(idx), out_shape.clone());
            acc = Some(match acc {
                Some(a) => &a + &placed,
                None => placed,
            });
        }
        acc.expect("at least one part")
    }

    /// Concatenates `parts` along `axis`: [`Var::concat`] under torch's name.
    ///
    /// **Panics** if `parts` is empty, `axis` is out of range, or the shapes differ off `axis`.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let a = Var::new(array![[1.0, 2.0]]);
    /// let b = Var::new(array![[3.0, 4.0], [5.0, 6.0]]);
    /// let c = Var::cat(&[&a, &b], 0);
    /// assert_eq!(c.value(), array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]].into_dyn());
    /// c.sum().backward();
    /// assert_eq!(b.grad().unwrap(), array![[1.0, 1.0], [1.0, 1.0]]);
    /// ```
    #[track_caller]
    pub fn cat(parts: &[&Var<T, D>], axis: usize) -> Var<T, IxDyn> {
        Var::concat(parts, axis)
    }

    /// Stacks `parts`, which all have one shape, along a new axis at position `axis`
    /// (`0..=ndim`, `torch.stack`): the result's entry `i` along `axis` is `parts[i]`.
    ///
    /// **Panics** if `parts` is empty, `axis` is greater than the parts' number of axes, or the
    /// shapes differ.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let a = Var::new(array![1.0, 2.0]);
    /// let b = Var::new(array![3.0, 4.0]);
    /// assert_eq!(Var::stack(&[&a, &b], 0).value(), array![[1.0, 2.0], [3.0, 4.0]].into_dyn());
    /// let s = Var::stack(&[&a, &b], 1);
    /// assert_eq!(s.value(), array![[1.0, 3.0], [2.0, 4.0]].into_dyn());
    /// (&s * &Var::constant(array![[1.0, 10.0], [1.0, 10.0]])).sum().backward();
    /// assert_eq!((a.grad().unwrap(), b.grad().unwrap()), (array![1.0, 1.0], array![10.0, 10.0]));
    /// ```
    #[track_caller]
    pub fn stack(parts: &[&Var<T, D>], axis: usize) -> Var<T, IxDyn> {
        assert!(!parts.is_empty(), "stack needs at least one part");
        let shapes: Vec<Vec<usize>> = parts.iter().map(|p| p.shape()).collect();
        let first = &shapes[0];
        assert!(
            axis <= first.len(),
            "stack: axis {axis} is out of range for parts of shape {first:?} (at most {})",
            first.len()
        );
        if let Some((i, s)) = shapes.iter().enumerate().find(|(_, s)| *s != first) {
            panic!("stack: part {i} has shape {s:?} but part 0 has shape {first:?}: every part must have one shape");
        }
        let lifted: Vec<Dyn<T>> = parts.iter().map(|p| p.unsqueeze(axis)).collect();
        Var::concat(&lifted.iter().collect::<Vec<_>>(), axis)
    }
}
