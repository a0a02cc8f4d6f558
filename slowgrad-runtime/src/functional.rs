//! Function transformations: `grad`, `vjp`, `jvp`, `jacobian`, `hessian`, `hvp`.
//!
//! Each takes a function of one `Var` and a point (an array), runs the function on a fresh leaf
//! and differentiates it through the tape. Second derivatives differentiate the recorded
//! backward pass (`create_graph`), which is exact: every backward of slowgrad is itself made of
//! differentiable ops (for einsum, the gradient is again an einsum). Forward mode (`jvp`) is
//! the transpose of reverse mode: `J v = d/du ⟨Jᵀu, v⟩`, two exact backward passes.
//!
//! ```
//! use ndarray::{array, Array2};
//! use slowgrad::functional::{grad, hessian, hvp};
//! // f(x) = Σ xᵢ³: ∇f = 3x², H = diag(6x)
//! let f = |x: &slowgrad::Var<f64, ndarray::Ix1>| x.powf(3.0).sum();
//! let x = array![1.0, -2.0];
//! let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
//! let g = grad(f, &x).unwrap();
//! assert!(close(g[0], 3.0) && close(g[1], 12.0));
//! let h = hessian(f, &x).unwrap();
//! let expected = Array2::from_diag(&array![6.0, -12.0]).into_dyn();
//! assert!(h.iter().zip(expected.iter()).all(|(a, b)| close(*a, *b)));
//! let hv = hvp(f, &x, &array![1.0, 1.0]).unwrap();
//! assert!(close(hv[0], 6.0) && close(hv[1], -12.0));
//! ```

use crate::Float;
use crate::{gradients, BackwardError, BackwardOptions, Var};
use ndarray::{Array, ArrayD, Dimension, IxDyn};

const CREATE: BackwardOptions = BackwardOptions { retain_graph: true, create_graph: true };
const RETAIN: BackwardOptions = BackwardOptions { retain_graph: true, create_graph: false };

fn dot_all<T: Float>(a: &Var<T, IxDyn>, b: &Var<T, IxDyn>) -> Var<T, IxDyn> {
    (a * b).sum().as_dyn()
}

fn zeros_or<T: Float>(g: Option<Var<T, IxDyn>>, shape: &[usize]) -> ArrayD<T> {
    match g {
        Some(g) => g.value(),
        None => ArrayD::zeros(IxDyn(shape)),
    }
}

fn fixed<T: Float, D: Dimension>(a: ArrayD<T>) -> Array<T, D> {
    a.into_dimensionality::<D>().expect("the gradient has the input's shape")
}

/// The gradient of a scalar function `f` at `x`.
///
/// **Errors** if `f`'s output has more than one element.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum, functional::grad};
/// // f(x) = Σ x_i², ∇f = 2x
/// let g = grad(|x| einsum("i,i->", &[x, x]).unwrap(), &array![1.0, -3.0]).unwrap();
/// assert_eq!(g, array![2.0, -6.0]);
/// ```
pub fn grad<T: Float, D: Dimension, E: Dimension>(
    f: impl Fn(&Var<T, D>) -> Var<T, E>,
    x: &Array<T, D>,
) -> Result<Array<T, D>, BackwardError> {
    let xv = Var::new(x.clone());
    let y = f(&xv);
    let g = gradients(&y, &[&xv.as_dyn()], None, BackwardOptions::default())?;
    Ok(fixed(zeros_or(g.into_iter().next().flatten(), x.shape())))
}

/// The value `f(x)` and the vector-Jacobian product `vᵀ J` at `x`.
///
/// **Errors** if `v`'s shape differs from `f(x)`'s.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum, functional::vjp, Var};
/// let a = Var::constant(array![[1.0, 2.0], [3.0, 4.0]]);
/// let (y, g) = vjp(|x| einsum("ij,j->i", &[&a, x]).unwrap(), &array![1.0, 1.0], &array![1.0, 0.0].into_dyn()).unwrap();
/// assert_eq!(y, array![3.0, 7.0].into_dyn());
/// assert_eq!(g, array![1.0, 2.0]);
/// ```
pub fn vjp<T: Float, D: Dimension, E: Dimension>(
    f: impl Fn(&Var<T, D>) -> Var<T, E>,
    x: &Array<T, D>,
    v: &Array<T, E>,
) -> Result<(Array<T, E>, Array<T, D>), BackwardError> {
    let xv = Var::new(x.clone());
    let y = f(&xv);
    let seed = Var::constant(v.clone().into_dyn());
    let g = gradients(&y, &[&xv.as_dyn()], Some(&seed), BackwardOptions::default())?;
    Ok((y.value(), fixed(zeros_or(g.into_iter().next().flatten(), x.shape()))))
}

/// The value `f(x)` and the Jacobian-vector product `J v` at `x` (forward mode).
///
/// **Errors** if `v`'s shape differs from `x`'s ([`BackwardError::VectorShape`]) or a backward
/// pass fails (they do not for slowgrad's own ops).
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum, functional::jvp, Var};
/// let a = Var::constant(array![[1.0, 2.0], [3.0, 4.0]]);
/// let (_, jv) = jvp(|x| einsum("ij,j->i", &[&a, x]).unwrap(), &array![1.0, 1.0], &array![1.0, 0.0]).unwrap();
/// assert_eq!(jv, array![1.0, 3.0].into_dyn());
/// ```
pub fn jvp<T: Float, D: Dimension, E: Dimension>(
    f: impl Fn(&Var<T, D>) -> Var<T, E>,
    x: &Array<T, D>,
    v: &Array<T, D>,
) -> Result<(Array<T, E>, Array<T, E>), BackwardError> {
    same_shape(x, v)?;
    let xv = Var::new(x.clone());
    let y = f(&xv);
    let u = Var::new(ArrayD::zeros(IxDyn(&y.shape())));
    let jt_u = gradients(&y, &[&xv.as_dyn()], Some(&u), CREATE)?;
    let out_shape = y.shape();
    let jv = match jt_u.into_iter().next().flatten() {
        Some(g) if g.requires_grad() => {
            let s = dot_all(&g, &Var::constant(v.clone().into_dyn()));
            zeros_or(gradients(&s, &[&u], None, BackwardOptions::default())?.into_iter().next().flatten(), &out_shape)
        }
        _ => ArrayD::zeros(IxDyn(&out_shape)),
    };
    Ok((y.value(), jv.into_dimensionality::<E>().expect("J v has the output's shape")))
}

/// The Jacobian of `f` at `x`, of shape `f(x).shape ++ x.shape`. Reverse mode (one backward pass
/// per output element) when the output has at most as many elements as the input, forward mode
/// (one Jacobian-vector product per input element) otherwise.
///
/// **Errors** if a backward pass fails.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum, functional::jacobian, Var};
/// let a = array![[1.0, 2.0, 0.0], [3.0, 4.0, 5.0]];
/// let av = Var::constant(a.clone());
/// let j = jacobian(|x| einsum("ij,j->i", &[&av, x]).unwrap(), &array![1.0, 1.0, 1.0]).unwrap();
/// assert_eq!(j, a.into_dyn());
/// ```
pub fn jacobian<T: Float, D: Dimension, E: Dimension>(
    f: impl Fn(&Var<T, D>) -> Var<T, E>,
    x: &Array<T, D>,
) -> Result<ArrayD<T>, BackwardError> {
    let xv = Var::new(x.clone());
    let xd = xv.as_dyn();
    let y = f(&xv);
    let (m, n) = (y.shape().iter().product::<usize>(), x.len());
    let mut shape = y.shape();
    shape.extend_from_slice(x.shape());
    let mut jac = ArrayD::<T>::zeros(IxDyn(&shape));
    let flat = jac.as_slice_mut().expect("fresh arrays are contiguous");
    let basis = |i: usize, dims: &[usize]| {
        let mut e = ArrayD::<T>::zeros(IxDyn(dims));
        if let Some(s) = e.as_slice_mut() {
            s[i] = T::one();
        }
        Var::constant(e)
    };
    if m <= n {
        for i in 0..m {
            let g = gradients(&y, &[&xd], Some(&basis(i, &y.shape())), RETAIN)?;
            if let Some(g) = g.into_iter().next().flatten() {
                let row = g.value();
                for (dst, &v) in flat[i * n..(i + 1) * n].iter_mut().zip(row.iter()) {
                    *dst = v;
                }
            }
        }
    } else {
        let u = Var::new(ArrayD::zeros(IxDyn(&y.shape())));
        let Some(jt_u) = gradients(&y, &[&xd], Some(&u), CREATE)?.into_iter().next().flatten() else {
            return Ok(jac);
        };
        if !jt_u.requires_grad() {
            return Ok(jac);
        }
        for j in 0..n {
            let s = dot_all(&jt_u, &basis(j, x.shape()));
            if let Some(col) = gradients(&s, &[&u], None, RETAIN)?.into_iter().next().flatten() {
                for (i, &v) in col.value().iter().enumerate() {
                    flat[i * n + j] = v;
                }
            }
        }
    }
    Ok(jac)
}

/// The Hessian of a scalar function `f` at `x`, of shape `x.shape ++ x.shape`: the Jacobian of
/// the gradient, one backward pass through the recorded backward per element of `x`.
///
/// **Errors** if `f`'s output has more than one element.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum, functional::hessian, Var};
/// // the Hessian of xᵀAx is A + Aᵀ
/// let a = array![[1.0, 2.0], [0.0, 3.0]];
/// let av = Var::constant(a.clone());
/// let h = hessian(|x| einsum("i,ij,j->", &[x, &av, x]).unwrap(), &array![0.5, -1.0]).unwrap();
/// assert_eq!(h, (&a + &a.t()).into_dyn());
/// ```
pub fn hessian<T: Float, D: Dimension, E: Dimension>(
    f: impl Fn(&Var<T, D>) -> Var<T, E>,
    x: &Array<T, D>,
) -> Result<ArrayD<T>, BackwardError> {
    let n = x.len();
    let mut shape = x.shape().to_vec();
    shape.extend_from_slice(x.shape());
    let mut h = ArrayD::<T>::zeros(IxDyn(&shape));
    let xv = Var::new(x.clone());
    let xd = xv.as_dyn();
    let y = f(&xv);
    let Some(g) = gradients(&y, &[&xd], None, CREATE)?.into_iter().next().flatten() else {
        return Ok(h);
    };
    if !g.requires_grad() {
        return Ok(h);
    }
    let flat = h.as_slice_mut().expect("fresh arrays are contiguous");
    for i in 0..n {
        let mut e = ArrayD::<T>::zeros(IxDyn(x.shape()));
        if let Some(s) = e.as_slice_mut() {
            s[i] = T::one();
        }
        let gi = dot_all(&g, &Var::constant(e));
        if let Some(row) = gradients(&gi, &[&xd], None, RETAIN)?.into_iter().next().flatten() {
            for (dst, &v) in flat[i * n..(i + 1) * n].iter_mut().zip(row.value().iter()) {
                *dst = v;
            }
        }
    }
    Ok(h)
}

/// The Hessian-vector product `H v` of a scalar function `f` at `x`, without forming `H`: two
/// backward passes.
///
/// **Errors** if `v`'s shape differs from `x`'s ([`BackwardError::VectorShape`]) or `f`'s output
/// has more than one element.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum, functional::hvp, Var};
/// let a = Var::constant(array![[1.0, 2.0], [0.0, 3.0]]);
/// let hv = hvp(|x| einsum("i,ij,j->", &[x, &a, x]).unwrap(), &array![0.5, -1.0], &array![1.0, 0.0]).unwrap();
/// assert_eq!(hv, array![2.0, 2.0]); // (A + Aᵀ) e₀
/// ```
pub fn hvp<T: Float, D: Dimension, E: Dimension>(
    f: impl Fn(&Var<T, D>) -> Var<T, E>,
    x: &Array<T, D>,
    v: &Array<T, D>,
) -> Result<Array<T, D>, BackwardError> {
    same_shape(x, v)?;
    let xv = Var::new(x.clone());
    let xd = xv.as_dyn();
    let y = f(&xv);
    let zero = || fixed(ArrayD::zeros(IxDyn(x.shape())));
    let Some(g) = gradients(&y, &[&xd], None, CREATE)?.into_iter().next().flatten() else {
        return Ok(zero());
    };
    if !g.requires_grad() {
        return Ok(zero());
    }
    let s = dot_all(&g, &Var::constant(v.clone().into_dyn()));
    let hv = gradients(&s, &[&xd], None, BackwardOptions::default())?;
    Ok(fixed(zeros_or(hv.into_iter().next().flatten(), x.shape())))
}

/// Checks that the vector of a Jacobian- or Hessian-vector product has the point's shape.
fn same_shape<T: Float, D: Dimension>(x: &Array<T, D>, v: &Array<T, D>) -> Result<(), BackwardError> {
    if x.shape() == v.shape() {
        Ok(())
    } else {
        Err(BackwardError::VectorShape { expected: x.shape().to_vec(), got: v.shape().to_vec() })
    }
}
