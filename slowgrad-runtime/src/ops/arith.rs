//! `+ - * /` with numpy broadcasting, between `Var`s and with scalars; negation.

use super::reduce::sum_to;
use crate::tape::record;
use crate::{Float, Var};
use ndarray::{ArrayD, DimMax, Dimension, IxDyn};
use std::ops::{Add, Div, Mul, Neg, Sub};

type Dyn<T> = Var<T, IxDyn>;

fn binary<T: Float>(
    name: &'static str,
    a: &Dyn<T>,
    b: &Dyn<T>,
    f: impl Fn(&ArrayD<T>, &ArrayD<T>) -> ArrayD<T>,
    backward: impl Fn(&Dyn<T>, &Dyn<T>, &Dyn<T>, &Dyn<T>) -> (Option<Dyn<T>>, Option<Dyn<T>>) + 'static,
) -> Dyn<T> {
    let value = a.with_value(|x| b.with_value(|y| f(x, y)));
    record(name, value, &[a.clone(), b.clone()], move |g: &Dyn<T>, ins: &[Dyn<T>], out: &Dyn<T>| {
        let (ga, gb) = backward(g, &ins[0], &ins[1], out);
        let ga = if ins[0].requires_grad() { ga.map(|x| sum_to(&x, &ins[0].shape())) } else { None };
        let gb = if ins[1].requires_grad() { gb.map(|x| sum_to(&x, &ins[1].shape())) } else { None };
        vec![ga, gb]
    })
}

#[track_caller]
fn check_broadcast(op: &str, a: &[usize], b: &[usize]) {
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = if i < a.len() { a[a.len() - 1 - i] } else { 1 };
        let y = if i < b.len() { b[b.len() - 1 - i] } else { 1 };
        assert!(x == y || x == 1 || y == 1, "cannot {op} shapes {a:?} and {b:?}: they do not broadcast");
    }
}

/// `a + b` with broadcasting.
#[track_caller]
pub(crate) fn add<T: Float>(a: &Dyn<T>, b: &Dyn<T>) -> Dyn<T> {
    check_broadcast("add", &a.shape(), &b.shape());
    binary("add", a, b, |x, y| x + y, |g, _, _, _| (Some(g.clone()), Some(g.clone())))
}

#[track_caller]
pub(crate) fn sub<T: Float>(a: &Dyn<T>, b: &Dyn<T>) -> Dyn<T> {
    check_broadcast("subtract", &a.shape(), &b.shape());
    binary("sub", a, b, |x, y| x - y, |g, _, _, _| (Some(g.clone()), Some(-g)))
}

#[track_caller]
pub(crate) fn mul<T: Float>(a: &Dyn<T>, b: &Dyn<T>) -> Dyn<T> {
    check_broadcast("multiply", &a.shape(), &b.shape());
    binary("mul", a, b, |x, y| x * y, |g, a, b, _| (Some(mul(g, b)), Some(mul(g, a))))
}

#[track_caller]
pub(crate) fn div<T: Float>(a: &Dyn<T>, b: &Dyn<T>) -> Dyn<T> {
    check_broadcast("divide", &a.shape(), &b.shape());
    binary("div", a, b, |x, y| x / y, |g, _, b, out| (Some(div(g, b)), Some(-&div(&mul(g, out), b))))
}

/// `x * c` for a scalar `c`.
pub(crate) fn scale<T: Float>(x: &Dyn<T>, c: T) -> Dyn<T> {
    let value = x.with_value(|v| v * c);
    record("scale", value, std::slice::from_ref(x), move |g: &Dyn<T>, _: &[Dyn<T>], _: &Dyn<T>| vec![Some(scale(g, c))])
}

/// `x + c` for a scalar `c`.
pub(crate) fn shift<T: Float>(x: &Dyn<T>, c: T) -> Dyn<T> {
    let value = x.with_value(|v| v + c);
    record("shift", value, std::slice::from_ref(x), |g: &Dyn<T>, _: &[Dyn<T>], _: &Dyn<T>| vec![Some(g.clone())])
}

/// `c / x` for a scalar `c`.
pub(crate) fn rdiv<T: Float>(c: T, x: &Dyn<T>) -> Dyn<T> {
    let value = x.with_value(|v| v.mapv(|e| c / e));
    record("rdiv", value, std::slice::from_ref(x), |g: &Dyn<T>, ins: &[Dyn<T>], out: &Dyn<T>| {
        vec![Some(-&div(&mul(g, out), &ins[0]))]
    })
}

fn retype<T: Float, D: Dimension>(v: Dyn<T>) -> Var<T, D> {
    v.into_dimensionality::<D>().expect("the result has the broadcast rank")
}

macro_rules! binop {
    ($tr:ident, $method:ident, $f:ident) => {
        impl<T: Float, D, E> $tr<&Var<T, E>> for &Var<T, D>
        where
            D: Dimension + DimMax<E>,
            E: Dimension,
        {
            type Output = Var<T, <D as DimMax<E>>::Output>;
            #[track_caller]
            fn $method(self, rhs: &Var<T, E>) -> Self::Output {
                retype($f(&self.as_dyn(), &rhs.as_dyn()))
            }
        }
        impl<T: Float, D, E> $tr<Var<T, E>> for Var<T, D>
        where
            D: Dimension + DimMax<E>,
            E: Dimension,
        {
            type Output = Var<T, <D as DimMax<E>>::Output>;
            #[track_caller]
            fn $method(self, rhs: Var<T, E>) -> Self::Output {
                retype($f(&self.as_dyn(), &rhs.as_dyn()))
            }
        }
    };
}

binop!(Add, add, add);
binop!(Sub, sub, sub);
binop!(Mul, mul, mul);
binop!(Div, div, div);

macro_rules! scalar_ops {
    ($t:ty) => {
        impl<D: Dimension> Mul<$t> for &Var<$t, D> {
            type Output = Var<$t, D>;
            fn mul(self, c: $t) -> Var<$t, D> {
                retype(scale(&self.as_dyn(), c))
            }
        }
        impl<D: Dimension> Mul<&Var<$t, D>> for $t {
            type Output = Var<$t, D>;
            fn mul(self, x: &Var<$t, D>) -> Var<$t, D> {
                retype(scale(&x.as_dyn(), self))
            }
        }
        impl<D: Dimension> Div<$t> for &Var<$t, D> {
            type Output = Var<$t, D>;
            fn div(self, c: $t) -> Var<$t, D> {
                retype(scale(&self.as_dyn(), 1.0 / c))
            }
        }
        impl<D: Dimension> Div<&Var<$t, D>> for $t {
            type Output = Var<$t, D>;
            fn div(self, x: &Var<$t, D>) -> Var<$t, D> {
                retype(rdiv(self, &x.as_dyn()))
            }
        }
        impl<D: Dimension> Add<$t> for &Var<$t, D> {
            type Output = Var<$t, D>;
            fn add(self, c: $t) -> Var<$t, D> {
                retype(shift(&self.as_dyn(), c))
            }
        }
        impl<D: Dimension> Add<&Var<$t, D>> for $t {
            type Output = Var<$t, D>;
            fn add(self, x: &Var<$t, D>) -> Var<$t, D> {
                retype(shift(&x.as_dyn(), self))
            }
        }
        impl<D: Dimension> Sub<$t> for &Var<$t, D> {
            type Output = Var<$t, D>;
            fn sub(self, c: $t) -> Var<$t, D> {
                retype(shift(&self.as_dyn(), -c))
            }
        }
        impl<D: Dimension> Sub<&Var<$t, D>> for $t {
            type Output = Var<$t, D>;
            fn sub(self, x: &Var<$t, D>) -> Var<$t, D> {
                retype(shift(&scale(&x.as_dyn(), -1.0), self))
            }
        }
    };
}

scalar_ops!(f32);
scalar_ops!(f64);

impl<T: Float, D: Dimension> Var<T, D> {
    /// `self * c` for a scalar `c` of any float type (`&x * 2.0` works for `f32` and `f64`).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::{Float, Var};
    /// // generic code has no `&x * 2.0`: it multiplies by a `T`
    /// fn double<T: Float>(x: &Var<T>) -> Var<T> {
    ///     x.mul_scalar(T::cast(2.0))
    /// }
    /// let x = Var::new(array![1.0f32, -3.0]);
    /// let y = double(&x.as_dyn());
    /// assert_eq!(y.value(), array![2.0f32, -6.0].into_dyn());
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap(), array![2.0f32, 2.0]);
    /// ```
    pub fn mul_scalar(&self, c: T) -> Var<T, D> {
        retype(scale(&self.as_dyn(), c))
    }

    /// `self + c` for a scalar `c`.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![1.0, -3.0]);
    /// let y = x.add_scalar(0.5);
    /// assert_eq!(y.value(), array![1.5, -2.5]);
    /// (&y * &y).sum().backward(); // d/dx (x + 0.5)² = 2 (x + 0.5)
    /// assert_eq!(x.grad().unwrap(), array![3.0, -5.0]);
    /// ```
    pub fn add_scalar(&self, c: T) -> Var<T, D> {
        retype(shift(&self.as_dyn(), c))
    }
}

impl<T: Float, D: Dimension> Neg for &Var<T, D> {
    type Output = Var<T, D>;
    fn neg(self) -> Var<T, D> {
        retype(scale(&self.as_dyn(), -T::one()))
    }
}

impl<T: Float, D: Dimension> Neg for Var<T, D> {
    type Output = Var<T, D>;
    fn neg(self) -> Var<T, D> {
        -&self
    }
}
