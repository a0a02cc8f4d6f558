//! Elementwise functions: exp, ln (log), sqrt, powf, abs, sigmoid, tanh, relu, gelu, softplus.

use crate::var::record;
use crate::{Float, Var};
use ndarray::{Dimension, IxDyn};

type Dyn<T> = Var<T, IxDyn>;

fn unary<T: Float, D: Dimension>(
    name: &'static str,
    x: &Var<T, D>,
    f: impl Fn(T) -> T,
    backward: impl Fn(&Dyn<T>, &Dyn<T>, &Dyn<T>) -> Dyn<T> + 'static,
) -> Var<T, D> {
    let x = x.as_dyn();
    let value = x.with_value(|v| v.mapv(&f));
    let y = record(name, value, std::slice::from_ref(&x), move |g: &Dyn<T>, ins: &[Dyn<T>], out: &Dyn<T>| {
        vec![Some(backward(g, &ins[0], out))]
    });
    y.into_dimensionality().expect("same rank")
}

/// A constant holding `f` of `x`'s value elementwise (for masks in backward functions).
fn constant_map<T: Float>(x: &Dyn<T>, f: impl Fn(T) -> T) -> Dyn<T> {
    Var::constant(x.with_value(|v| v.mapv(f)))
}

impl<T: Float, D: Dimension> Var<T, D> {
    /// `e^x` elementwise.
    pub fn exp(&self) -> Var<T, D> {
        unary("exp", self, T::exp, |g, _, y| g * y)
    }

    /// Natural logarithm elementwise.
    pub fn ln(&self) -> Var<T, D> {
        unary("ln", self, T::ln, |g, x, _| g / x)
    }

    /// Square root elementwise.
    pub fn sqrt(&self) -> Var<T, D> {
        unary("sqrt", self, T::sqrt, |g, _, y| (g / y).mul_scalar(T::cast(0.5)))
    }

    /// `x^p` elementwise.
    pub fn powf(&self, p: T) -> Var<T, D> {
        unary("powf", self, move |v| v.powf(p), move |g, x, _| (g * &x.powf(p - T::one())).mul_scalar(p))
    }

    /// Absolute value elementwise (gradient 0 at 0).
    pub fn abs(&self) -> Var<T, D> {
        unary("abs", self, T::abs, |g, x, _| {
            g * &constant_map(x, |v| {
                if v > T::zero() {
                    T::one()
                } else if v < T::zero() {
                    -T::one()
                } else {
                    T::zero()
                }
            })
        })
    }

    /// The logistic function `1 / (1 + e^-x)` elementwise.
    pub fn sigmoid(&self) -> Var<T, D> {
        unary(
            "sigmoid",
            self,
            |v| {
                if v >= T::zero() {
                    T::one() / (T::one() + (-v).exp())
                } else {
                    let e = v.exp();
                    e / (T::one() + e)
                }
            },
            |g, _, y| {
                let one_minus = (-y).add_scalar(T::one());
                &(g * y) * &one_minus
            },
        )
    }

    /// Hyperbolic tangent elementwise.
    pub fn tanh(&self) -> Var<T, D> {
        unary("tanh", self, T::tanh, |g, _, y| {
            let d = (-&(y * y)).add_scalar(T::one());
            g * &d
        })
    }

    /// `max(x, 0)` elementwise (gradient 0 at 0).
    pub fn relu(&self) -> Var<T, D> {
        unary(
            "relu",
            self,
            |v| if v > T::zero() { v } else { T::zero() },
            |g, x, _| g * &constant_map(x, |v| if v > T::zero() { T::one() } else { T::zero() }),
        )
    }

    /// Natural logarithm elementwise (the same as [`Var::ln`], under torch's name).
    pub fn log(&self) -> Var<T, D> {
        self.ln()
    }

    /// GELU with the tanh approximation (PyTorch's `approximate="tanh"`):
    /// `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`.
    ///
    /// ```
    /// use slowgrad_runtime::Var;
    /// let y = Var::new(ndarray::array![0.0f64, 1.0]).gelu().value();
    /// assert!(y[0] == 0.0 && (y[1] - 0.8411920).abs() < 1e-6);
    /// ```
    pub fn gelu(&self) -> Var<T, D> {
        let (k, a) = (T::cast((2.0 / std::f64::consts::PI).sqrt()), T::cast(0.044715));
        let half = T::cast(0.5);
        unary(
            "gelu",
            self,
            move |v| half * v * (T::one() + (k * (v + a * v * v * v)).tanh()),
            move |g, x, _| {
                // d/dx = 0.5 (1 + t) + 0.5 x (1 - t²) k (1 + 3 a x²), t = tanh(k (x + a x³))
                let x2 = x * x;
                let inner = (x * &x2.mul_scalar(a).add_scalar(T::one())).mul_scalar(k);
                let t = inner.tanh();
                let dt = (-&(&t * &t)).add_scalar(T::one());
                let dinner = x2.mul_scalar(T::cast(3.0) * a).add_scalar(T::one()).mul_scalar(k);
                let d = &t.add_scalar(T::one()) + &(&(x * &dt) * &dinner);
                (g * &d).mul_scalar(half)
            },
        )
    }

    /// `ln(1 + e^x)` elementwise, computed stably as `max(x, 0) + ln(1 + e^-|x|)`; its
    /// derivative is the sigmoid.
    pub fn softplus(&self) -> Var<T, D> {
        unary("softplus", self, |v| v.max(T::zero()) + (-v.abs()).exp().ln_1p(), |g, x, _| g * &x.sigmoid())
    }
}
