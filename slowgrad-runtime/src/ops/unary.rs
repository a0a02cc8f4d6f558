//! Elementwise functions: exp, ln (log), sqrt, powf, abs, sigmoid, tanh, relu, gelu, softplus.

use crate::tape::record;
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
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![0.0, 1.0]);
    /// let y = x.exp();
    /// assert_eq!(y.value()[0], 1.0);
    /// assert!((y.value()[1] - std::f64::consts::E).abs() < 1e-12);
    /// y.sum().backward(); // the derivative of e^x is e^x
    /// assert_eq!(x.grad().unwrap(), y.value());
    /// ```
    pub fn exp(&self) -> Var<T, D> {
        unary("exp", self, T::exp, |g, _, y| g * y)
    }

    /// Natural logarithm elementwise (NaN below 0, `-inf` at 0).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![1.0, 4.0]);
    /// let y = x.ln();
    /// assert_eq!(y.value()[0], 0.0);
    /// assert!((y.value()[1] - 2.0 * 2f64.ln()).abs() < 1e-12);
    /// y.sum().backward(); // d/dx ln x = 1/x
    /// assert_eq!(x.grad().unwrap(), array![1.0, 0.25]);
    /// ```
    pub fn ln(&self) -> Var<T, D> {
        unary("ln", self, T::ln, |g, x, _| g / x)
    }

    /// Square root elementwise.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![4.0f64, 9.0]);
    /// let y = x.sqrt();
    /// assert_eq!(y.value(), array![2.0, 3.0]);
    /// y.sum().backward(); // d/dx √x = 1 / (2√x)
    /// let g = x.grad().unwrap();
    /// assert!((g[0] - 0.25).abs() < 1e-12 && (g[1] - 1.0 / 6.0).abs() < 1e-12);
    /// ```
    pub fn sqrt(&self) -> Var<T, D> {
        unary("sqrt", self, T::sqrt, |g, _, y| (g / y).mul_scalar(T::cast(0.5)))
    }

    /// `x^p` elementwise.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![2.0, 3.0]);
    /// let y = x.powf(3.0);
    /// let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    /// assert!(close(y.value()[0], 8.0) && close(y.value()[1], 27.0));
    /// y.sum().backward(); // d/dx x³ = 3x²
    /// let g = x.grad().unwrap();
    /// assert!(close(g[0], 12.0) && close(g[1], 27.0));
    /// ```
    pub fn powf(&self, p: T) -> Var<T, D> {
        unary("powf", self, move |v| v.powf(p), move |g, x, _| (g * &x.powf(p - T::one())).mul_scalar(p))
    }

    /// Absolute value elementwise (gradient 0 at 0).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![-2.0, 0.0, 3.0]);
    /// let y = x.abs();
    /// assert_eq!(y.value(), array![2.0, 0.0, 3.0]);
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap(), array![-1.0, 0.0, 1.0]);
    /// ```
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

    /// The logistic function `1 / (1 + e^-x)` elementwise, without overflow for large `|x|`.
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![0.0, 3f64.ln(), -1000.0, 1000.0]);
    /// let y = x.sigmoid().value();
    /// assert!((y[0] - 0.5).abs() < 1e-12 && (y[1] - 0.75).abs() < 1e-12);
    /// assert_eq!((y[2], y[3]), (0.0, 1.0));
    /// x.sigmoid().sum().backward(); // σ' = σ (1 − σ)
    /// let g = x.grad().unwrap();
    /// assert!((g[0] - 0.25).abs() < 1e-12 && (g[1] - 0.1875).abs() < 1e-12);
    /// assert_eq!((g[2], g[3]), (0.0, 0.0));
    /// ```
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
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// // tanh(ln 2) = (4 − 1) / (4 + 1) = 0.6
    /// let x = Var::new(array![0.0, 2f64.ln()]);
    /// let y = x.tanh();
    /// assert_eq!(y.value()[0], 0.0);
    /// assert!((y.value()[1] - 0.6).abs() < 1e-12);
    /// y.sum().backward(); // tanh' = 1 − tanh²
    /// let g = x.grad().unwrap();
    /// assert!((g[0] - 1.0).abs() < 1e-12 && (g[1] - 0.64).abs() < 1e-12);
    /// ```
    pub fn tanh(&self) -> Var<T, D> {
        unary("tanh", self, T::tanh, |g, _, y| {
            let d = (-&(y * y)).add_scalar(T::one());
            g * &d
        })
    }

    /// `max(x, 0)` elementwise (gradient 0 at 0).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![-1.0, 0.0, 2.0]);
    /// let y = x.relu();
    /// assert_eq!(y.value(), array![0.0, 0.0, 2.0]);
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap(), array![0.0, 0.0, 1.0]);
    /// ```
    pub fn relu(&self) -> Var<T, D> {
        unary(
            "relu",
            self,
            |v| if v > T::zero() { v } else { T::zero() },
            |g, x, _| g * &constant_map(x, |v| if v > T::zero() { T::one() } else { T::zero() }),
        )
    }

    /// Natural logarithm elementwise (the same as [`Var::ln`], under torch's name).
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![1.0, 2.0]);
    /// let y = x.log();
    /// assert_eq!(y.value(), array![0.0, 2f64.ln()]);
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap(), array![1.0, 0.5]);
    /// ```
    pub fn log(&self) -> Var<T, D> {
        self.ln()
    }

    /// GELU with the tanh approximation (PyTorch's `approximate="tanh"`):
    /// `0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))`.
    ///
    /// ```
    /// use slowgrad::Var;
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
    ///
    /// ```
    /// use ndarray::array;
    /// use slowgrad::Var;
    /// let x = Var::new(array![0.0, 1000.0, -1000.0]);
    /// let y = x.softplus();
    /// let v = y.value();
    /// assert!((v[0] - 2f64.ln()).abs() < 1e-12);
    /// assert_eq!((v[1], v[2]), (1000.0, 0.0)); // no overflow to infinity
    /// y.sum().backward();
    /// assert_eq!(x.grad().unwrap(), array![0.5, 1.0, 0.0]);
    /// ```
    pub fn softplus(&self) -> Var<T, D> {
        unary("softplus", self, |v| v.max(T::zero()) + (-v.abs()).exp().ln_1p(), |g, x, _| g * &x.sigmoid())
    }
}
