//! `einsum!` and `try_einsum!` on hand-picked cases: values, gradients, higher orders, errors
//! equal to the runtime's, both operand kinds.

use ndarray::{array, Array0, Array1, Array2, ArrayD, Ix2, IxDyn};
use slowgrad::{einsum, try_einsum, BackwardOptions, EinsumError, Var};

#[test]
fn matmul_var_and_array() {
    let x = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
    let w = Var::new(array![[0.5, -1.0], [2.0, 0.0]]);
    let z: Var<f64, Ix2> = einsum!("ij,jk->ik", &x, &w);
    assert_eq!(z.value(), array![[4.5, -1.0], [9.5, -3.0]]);
    z.backward_with(Array2::ones((2, 2)));
    assert_eq!(x.grad().unwrap(), array![[-0.5, 2.0], [-0.5, 2.0]]);
    assert_eq!(w.grad().unwrap(), array![[4.0, 4.0], [6.0, 6.0]]);
    let a = array![[1.0, 2.0], [3.0, 4.0]];
    let b = array![[0.5, -1.0], [2.0, 0.0]];
    let c: Array2<f64> = einsum!("ij,jk->ik", &a, &b.view());
    assert_eq!(c, a.dot(&b));
    let t: Array0<f32> = einsum!("ii", &array![[1.0f32, 2.0], [3.0, 4.0]]);
    assert_eq!(t.into_scalar(), 5.0);
}

#[test]
fn named_and_implicit_and_scalar() {
    let x = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let w = array![[1.0, 0.0, -1.0]];
    let y: Array2<f64> = einsum!("batch inp, out inp -> batch out", &x, &w);
    assert_eq!(y, array![[-2.0], [-2.0]]);
    let s = ndarray::arr0(2.0);
    let v: Array1<f64> = einsum!("i,->i", &array![1.0, 2.0], &s);
    assert_eq!(v, array![2.0, 4.0]);
}

#[test]
fn ellipsis_runs_through_the_interpreter() {
    let a = Var::new(ArrayD::from_shape_fn(IxDyn(&[2, 3, 4]), |d| (d[0] + d[1] * d[2]) as f64));
    let b = Var::new(ArrayD::from_shape_fn(IxDyn(&[4, 2]), |d| (d[0] as f64) - d[1] as f64));
    let c = einsum!("...ij,jk->...ik", &a, &b);
    let r = slowgrad::einsum("...ij,jk->...ik", &[&a, &b]).unwrap();
    assert_eq!(c.value(), r.value());
    assert_eq!(c.shape(), vec![2, 3, 2]);
}

#[test]
fn errors_are_the_runtimes() {
    let x = Var::new(ArrayD::<f64>::zeros(IxDyn(&[2, 3])));
    let y = Var::new(ArrayD::<f64>::zeros(IxDyn(&[4, 5])));
    let v = Var::new(ArrayD::<f64>::zeros(IxDyn(&[4])));
    let m: Result<Var<f64, Ix2>, EinsumError> = try_einsum!("ij,jk->ik", &x, &y);
    let r = slowgrad::einsum("ij,jk->ik", &[&x, &y]);
    assert_eq!(m.unwrap_err(), r.unwrap_err());
    let m = try_einsum!("ij,jk->ik", &x, &v).unwrap_err();
    let r = slowgrad::einsum("ij,jk->ik", &[&x, &v]).unwrap_err();
    assert_eq!(m, r);
    assert_eq!(m.to_string(), "operand 1 has rank 1 but its term `jk` has 2 labels");
    let d = Var::new(ArrayD::<f64>::zeros(IxDyn(&[2, 3])));
    assert_eq!(try_einsum!("ii->i", &d).unwrap_err(), slowgrad::einsum("ii->i", &[&d]).unwrap_err());
    let a = ndarray::Array2::<f64>::zeros((2, 3));
    let b = ndarray::Array2::<f64>::zeros((4, 5));
    let e = try_einsum!("ij,jk->ik", &a, &b).unwrap_err();
    assert_eq!(e.to_string(), r_string());
}

fn r_string() -> String {
    "label `j` has size 3 in operand 0 but 4 in operand 1: sizes of one label must be equal, or 1 to broadcast"
        .to_string()
}

#[test]
#[should_panic(expected = "label `j` has size 3 in operand 0 but 4 in operand 1")]
fn einsum_panics_with_the_message() {
    let a = ndarray::Array2::<f64>::zeros((2, 3));
    let b = ndarray::Array2::<f64>::zeros((4, 5));
    let _c = einsum!("ij,jk->ik", &a, &b);
}

#[test]
fn third_order_derivative_through_generated_kernels() {
    // f(x) = Σ_i x_i^3 as einsum("i,i,i->"): f''' = 6 per coordinate
    let x = Var::new(array![1.0, -2.0, 0.5]);
    let y = einsum!("i,i,i->", &x, &x, &x);
    y.try_backward(BackwardOptions { create_graph: true, ..Default::default() }).unwrap();
    let g = x.grad_var().unwrap(); // 3 x^2
    assert_eq!(g.value(), array![3.0, 12.0, 0.75]);
    x.zero_grad();
    let s = einsum!("i->", &g);
    s.try_backward(BackwardOptions { create_graph: true, ..Default::default() }).unwrap();
    let h = x.grad_var().unwrap(); // 6 x
    assert_eq!(h.value(), array![6.0, -12.0, 3.0]);
    x.zero_grad();
    einsum!("i->", &h).backward();
    assert_eq!(x.grad().unwrap(), array![6.0, 6.0, 6.0]);
}

#[test]
fn hessian_of_quadratic_form() {
    let a = Var::constant(array![[1.0, 2.0], [0.5, 3.0]]);
    let x = Var::new(array![0.3, -0.7]);
    let q = einsum!("i,ij,j->", &x, &a, &x);
    q.try_backward(BackwardOptions { create_graph: true, ..Default::default() }).unwrap();
    let g = x.grad_var().unwrap();
    let want = array![[1.0, 2.0], [0.5, 3.0]];
    let want = &want + &want.t();
    for i in 0..2 {
        x.zero_grad();
        let e = Var::constant(Array1::from_shape_fn(2, |j| if i == j { 1.0 } else { 0.0 }));
        einsum!("i,i->", &g, &e).try_backward(BackwardOptions { retain_graph: true, ..Default::default() }).unwrap();
        assert_eq!(x.grad().unwrap(), want.row(i));
    }
}
