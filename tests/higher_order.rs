//! Second derivatives, the functional API and their oracle and closed-form checks.

mod common;

use common::gen::generate;
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use slowgrad::functional::{grad, hessian, hvp, jacobian, jvp, vjp};
use slowgrad::gradcheck::{gradgradcheck, GradcheckOptions};
use slowgrad::{einsum, Operand, Var};

fn tensor(v: &serde_json::Value) -> ArrayD<f64> {
    let shape: Vec<usize> = v["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    let data: Vec<f64> = v["data"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    ArrayD::from_shape_vec(IxDyn(&shape), data).unwrap()
}

fn max_abs_diff(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    common::max_diff(a.iter().copied().zip(b.iter().copied()))
}

#[test]
fn hessian_and_jacobian_match_pytorch() {
    let programs = common::programs();
    let p = programs["programs"].as_array().unwrap().iter().find(|p| p["name"] == "hessian_sigmoid_quadratic").unwrap();
    let a = Var::constant(tensor(&p["A"]));
    let x = tensor(&p["x"]);
    // f(x) = sum(sigmoid(A x)^2)
    let f = |x: &Var<f64>| {
        let s = einsum("ij,j->i", &[&a, x]).unwrap().sigmoid();
        einsum("i,i->", &[&s, &s]).unwrap()
    };
    let h = hessian(f, &x).unwrap();
    let err = max_abs_diff(&h, &tensor(&p["hessian"]));
    assert!(err <= 1e-9, "hessian differs from PyTorch by {err:e}");
    let j = jacobian(|x: &Var<f64>| einsum("ij,j->i", &[&a, x]).unwrap().sigmoid(), &x).unwrap();
    let err = max_abs_diff(&j, &tensor(&p["jacobian"]));
    assert!(err <= 1e-9, "jacobian differs from PyTorch by {err:e}");
}

#[test]
fn hessian_of_a_quadratic_form_is_a_plus_a_transposed() {
    let mut rng = StdRng::seed_from_u64(7);
    let a = Array2::from_shape_fn((5, 5), |_| rng.random_range(-2.0..2.0));
    let x = Array1::from_shape_fn(5, |_| rng.random_range(-1.0..1.0));
    let av = Var::constant(a.clone());
    let h = hessian(|x| einsum("i,ij,j->", &[x, &av, x]).unwrap(), &x).unwrap();
    let want = (&a + &a.t()).into_dyn();
    assert!(max_abs_diff(&h, &want) < 1e-12);
    // the same through x^T (A x) written as two einsums and a product
    let h2 = hessian(|x| (x * &einsum("ij,j->i", &[&av, x]).unwrap()).sum(), &x).unwrap();
    assert!(max_abs_diff(&h2, &want) < 1e-12);
    // Hessian-vector products without the Hessian
    let v = Array1::from_shape_fn(5, |i| i as f64 - 2.0);
    let hv = hvp(|x| einsum("i,ij,j->", &[x, &av, x]).unwrap(), &x, &v).unwrap();
    let want_hv = (&a + &a.t()).dot(&v);
    assert!((&hv - &want_hv).iter().all(|e| e.abs() < 1e-12));
}

#[test]
fn jvp_and_vjp_agree_with_the_jacobian() {
    let mut rng = StdRng::seed_from_u64(11);
    for trial in 0..20 {
        let (m, n) = (rng.random_range(1..5), rng.random_range(1..5));
        let w = Var::constant(Array2::from_shape_fn((m, n), |_| rng.random_range(-1.0..1.0)));
        let b = Var::constant(Array2::from_shape_fn((n, n), |_| rng.random_range(-1.0..1.0)));
        let f = |x: &Var<f64, ndarray::Ix1>| {
            let h = einsum("ij,j->i", &[&w, &einsum("jk,k->j", &[&b, x]).unwrap().tanh()]).unwrap();
            (&h * &h).sigmoid()
        };
        let x = Array1::from_shape_fn(n, |_| rng.random_range(-1.0..1.0));
        let j = jacobian(f, &x).unwrap().into_dimensionality::<ndarray::Ix2>().unwrap();
        let v = Array1::from_shape_fn(n, |_| rng.random_range(-1.0..1.0));
        let (_, jv) = jvp(f, &x, &v).unwrap();
        let want = j.dot(&v).into_dyn();
        assert!(max_abs_diff(&jv, &want) < 1e-12, "trial {trial}: jvp");
        let u = Array1::from_shape_fn(m, |_| rng.random_range(-1.0..1.0)).into_dyn();
        let (_, uj) = vjp(f, &x, &u).unwrap();
        let want = u.view().into_dimensionality::<ndarray::Ix1>().unwrap().dot(&j);
        assert!((&uj - &want).iter().all(|e| e.abs() < 1e-12), "trial {trial}: vjp");
        // grad of a scalar function is the vjp with seed 1
        let g = grad(|x: &Var<f64, ndarray::Ix1>| f(x).sum(), &x).unwrap();
        let ones = ndarray::Array1::ones(m);
        assert!((&g - &ones.dot(&j)).iter().all(|e| e.abs() < 1e-12));
    }
}

#[test]
fn jacobian_picks_forward_mode_for_wide_outputs_and_reverse_for_narrow() {
    // both modes give the same matrix: y = outer(x, c) has more outputs than inputs
    let c = Var::constant(ndarray::array![1.0, 2.0, 3.0]);
    let x = ndarray::array![0.5, -1.0];
    let wide = jacobian(|x| einsum("i,j->ij", &[x, &c]).unwrap(), &x).unwrap();
    assert_eq!(wide.shape(), &[2, 3, 2]);
    for i in 0..2 {
        for j in 0..3 {
            for k in 0..2 {
                let want = if i == k { (j + 1) as f64 } else { 0.0 };
                assert_eq!(wide[[i, j, k]], want);
            }
        }
    }
    let narrow = jacobian(|x| einsum("i->", &[x]).unwrap(), &x).unwrap();
    assert_eq!(narrow, ndarray::array![1.0, 1.0].into_dyn());
}

/// Second derivatives of `einsum()` against finite differences of first derivatives, on
/// generated equations (every feature of the pattern language).
#[test]
fn second_derivatives_of_generated_equations() {
    let mut checked = 0;
    for seed in 0..130u64 {
        let g = generate(seed);
        let mut rng = StdRng::seed_from_u64(seed);
        let xs: Vec<ArrayD<f64>> =
            g.shapes.iter().map(|s| ArrayD::from_shape_fn(IxDyn(s), |_| rng.random_range(-1.0..1.0))).collect();
        let pattern = g.pattern.clone();
        let squash = seed % 2 == 0;
        let f = move |vars: &[Var<f64>]| {
            let ops: Vec<&dyn Operand<f64>> = vars.iter().map(|v| v as &dyn Operand<f64>).collect();
            let y = einsum(&pattern, &ops).unwrap();
            if squash {
                y.tanh()
            } else {
                y
            }
        };
        gradgradcheck(&f, &xs, GradcheckOptions::default())
            .unwrap_or_else(|e| panic!("{} {:?}: {e}", g.pattern, g.shapes));
        checked += 1;
    }
    assert!(checked >= 100);
}

#[test]
fn gradgradcheck_detects_a_wrong_second_derivative() {
    // a custom op whose backward is right to first order but not differentiable correctly:
    // y = x^3 with dy/dx computed as the constant 3x^2 (cut off from the graph)
    use ndarray::ArrayViewD;
    use slowgrad::function::{apply, Function, Saved};
    struct Cube;
    impl Function<f64> for Cube {
        fn forward(&self, x: &[ArrayViewD<'_, f64>], _: &mut Saved<f64>) -> ArrayD<f64> {
            x[0].mapv(|v| v * v * v)
        }
        fn backward(&self, _: &Saved<f64>, g: &Var<f64>, x: &[Var<f64>], _: &Var<f64>) -> Vec<Option<Var<f64>>> {
            let d = Var::constant(x[0].value().mapv(|v| 3.0 * v * v));
            vec![Some(g * &d)]
        }
    }
    let f = |xs: &[Var<f64>]| apply(Cube, &[&xs[0]]);
    let x = [ndarray::array![0.5, -1.5].into_dyn()];
    slowgrad::gradcheck::gradcheck(&f, &x, GradcheckOptions::default()).unwrap();
    let err = gradgradcheck(&f, &x, GradcheckOptions::default()).unwrap_err();
    assert_eq!(err.input, 0);
    assert!(err.to_string().contains("second derivative mismatch"), "{err}");
}

#[test]
fn a_vector_of_another_shape_is_an_error() {
    use slowgrad::BackwardError;
    let f = |x: &Var<f64, ndarray::Ix1>| einsum("i,i->", &[x, x]).unwrap();
    let x = ndarray::array![1.0, 2.0, 3.0];
    // [1.0] would broadcast to x's shape; it is still refused
    let e = hvp(f, &x, &ndarray::array![1.0]).unwrap_err();
    assert_eq!(e, BackwardError::VectorShape { expected: vec![3], got: vec![1] });
    assert!(e.to_string().contains("needs v of x's shape"), "{e}");
    let e = jvp(f, &x, &ndarray::array![1.0, 2.0]).unwrap_err();
    assert_eq!(e, BackwardError::VectorShape { expected: vec![3], got: vec![2] });
}
