//! `einsum!` and `try_einsum!` on hand-picked cases: values, gradients, higher orders, errors
//! equal to the runtime's, both operand kinds.

mod common;

use ndarray::{array, Array0, Array1, Array2, ArrayD, Dimension, Ix2, IxDyn};
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

#[test]
fn strided_views_and_empty_dimensions() {
    use ndarray::s;
    let a = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64 - 5.0);
    let b = ndarray::Array2::from_shape_fn((5, 4), |(i, j)| (i as f64) * 0.5 - j as f64);
    // transposed and reversed views: strides that are not row-major, some negative
    let bt = b.t();
    let ar = a.slice(s![..;-1, ..]);
    let got: Array2<f64> = einsum!("ij,jk->ik", &ar, &bt);
    assert_eq!(got, ar.dot(&bt));
    let d: Array1<f64> = einsum!("ii->i", &a.slice(s![.., ..3;-1]));
    assert_eq!(d, array![-3.0, 0.0, 3.0]);
    // a dimension of size 0: sums are 0, empty results stay empty
    let e = ndarray::Array2::<f64>::zeros((0, 4));
    let s: Array1<f64> = einsum!("ij->j", &e);
    assert_eq!(s, Array1::<f64>::zeros(4));
    let p: Array2<f64> = einsum!("ij,kj->ik", &e, &b);
    assert_eq!(p.shape(), &[0, 5]);
}

#[test]
fn f32_vars_and_generic_callers() {
    fn gram<T: slowgrad::Float>(x: &Var<T, Ix2>) -> Var<T, Ix2> {
        einsum!("ij,kj->ik", x, x)
    }
    let x = Var::new(array![[1.0f32, 2.0], [3.0, 4.0]]);
    let g = gram(&x);
    assert_eq!(g.value(), array![[5.0, 11.0], [11.0, 25.0]]);
    g.backward_with(Array2::ones((2, 2)));
    // d/dx Σ_ik x_i·x_k = 2 Σ_k x_k (per column)
    assert_eq!(x.grad().unwrap(), array![[8.0, 12.0], [8.0, 12.0]]);
}

#[test]
fn tape_names_the_generated_kernels() {
    let x = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
    let w = Var::new(array![[1.0, 0.0], [0.0, 1.0]]);
    let v = Var::new(array![1.0, 1.0]);
    let y = einsum!("ij,jk,k->i", &x, &w, &v);
    let text = y.graph(100);
    // two recorded steps, each a generated kernel named by its equation
    assert_eq!(text.lines().filter(|l| l.contains("->")).count(), 2, "{text}");
    let plan = slowgrad::explain("ij,jk,k->i").unwrap();
    for line in text.lines().filter(|l| l.contains("->")) {
        let eq = line.split_whitespace().nth(1).unwrap();
        assert!(plan.contains(eq), "{eq} not in the explained plan:\n{plan}");
    }
}

/// The expansion compiles under strict lints in the user's crate.
#[forbid(unsafe_code, non_camel_case_types, non_snake_case, non_upper_case_globals)]
#[deny(warnings, missing_docs, unused_qualifications, unused_results)]
mod strict_lints {
    use ndarray::array;
    use slowgrad::{einsum, try_einsum, Var};

    #[test]
    fn expansion_is_lint_clean() {
        let x = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
        let t = einsum!("ii", &x);
        assert_eq!(t.item(), 5.0);
        let a = array![1.0, 2.0];
        assert!(try_einsum!("i,i->", &a, &a).is_ok());
        let e = ndarray::ArrayD::<f64>::zeros(ndarray::IxDyn(&[2, 2, 2]));
        assert_eq!(einsum!("...ii->...", &e).shape(), &[2]);
    }
}

#[test]
fn the_panic_points_at_the_callers_line() {
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Option<(String, u32)>>> = Arc::default();
    let slot = seen.clone();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.to_string().contains("size 7 in operand 0 but 9") {
            if let Some(l) = info.location() {
                *slot.lock().unwrap() = Some((l.file().to_string(), l.line()));
            }
        }
    }));
    let a = ndarray::Array2::<f64>::zeros((2, 7));
    let b = ndarray::Array2::<f64>::zeros((9, 2));
    let line = line!() + 1;
    let r = std::panic::catch_unwind(|| einsum!("ij,jk->ik", &a, &b));
    std::panic::set_hook(previous);
    assert!(r.is_err());
    let (file, at) = seen.lock().unwrap().clone().expect("the hook saw the panic");
    assert!(file.ends_with("macro_basic.rs"), "{file}");
    assert_eq!(at, line);
}

/// Above `FAST_MIN_WORK` generated kernels hand their steps to the runtime executor: values and
/// gradients (including broadcast sums, transposed and diagonal views) equal the runtime
/// `einsum()`'s.
#[test]
fn large_steps_match_the_runtime() {
    let f = |shape: &[usize], seed: usize| {
        ArrayD::from_shape_fn(IxDyn(shape), |ix| {
            ((ix.as_array_view().iter().fold(seed, |h, &i| h * 31 + i * 7) % 17) as f64 - 8.0) / 4.0
        })
    };
    let close = |a: &ArrayD<f64>, b: &ArrayD<f64>| {
        assert_eq!(a.shape(), b.shape());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-9 * (1.0 + y.abs()), "{x} vs {y}");
        }
    };
    // matmul with a transposed view, batched product, broadcast bias, diagonal, three operands
    let a = f(&[40, 30], 1);
    let bt = f(&[50, 30], 2);
    let b = bt.t().to_owned();
    let c: Array2<f64> = einsum!("ij,jk->ik", &a, &bt.t());
    close(&c.into_dyn(), &slowgrad::einsum_array("ij,jk->ik", &[a.view(), b.view()]).unwrap());

    let cases: Vec<(Vec<usize>, Vec<usize>)> = vec![(vec![4, 20, 30], vec![4, 25, 30]), (vec![60, 70], vec![70])];
    for (k, (sa, sb)) in cases.into_iter().enumerate() {
        let (x, y) = (Var::new(f(&sa, 3)), Var::new(f(&sb, 4)));
        let (x2, y2) = (Var::new(x.value()), Var::new(y.value()));
        let (z, z2) = if k == 0 {
            (einsum!("bqd,bkd->bqk", &x, &y).as_dyn(), slowgrad::einsum("bqd,bkd->bqk", &[&x2, &y2]).unwrap())
        } else {
            (einsum!("ij,j->ij", &x, &y).as_dyn(), slowgrad::einsum("ij,j->ij", &[&x2, &y2]).unwrap())
        };
        close(&z.value(), &z2.value());
        let up = f(&z.shape(), 5);
        z.backward_with(up.clone());
        z2.backward_with(up);
        close(&x.grad().unwrap(), &x2.grad().unwrap());
        close(&y.grad().unwrap(), &y2.grad().unwrap());
    }
    let m = f(&[50, 50, 40], 6);
    let d: Array2<f64> = einsum!("iij->ij", &m);
    close(&d.into_dyn(), &slowgrad::einsum_array("iij->ij", &[m.view()]).unwrap());
    let (p, q, r) = (Var::new(f(&[20, 30], 7)), Var::new(f(&[30, 40], 8)), Var::new(f(&[40, 10], 9)));
    let w = einsum!("ij,jk,kl->il", &p, &q, &r);
    let want = p.value().into_dimensionality::<Ix2>().unwrap().dot(&q.value().into_dimensionality::<Ix2>().unwrap());
    let want = want.dot(&r.value().into_dimensionality::<Ix2>().unwrap());
    close(&w.value().into_dyn(), &want.into_dyn());
    w.backward_with(Array2::ones((20, 10)));
    assert_eq!(q.grad().unwrap().shape(), &[30, 40]);
}

/// Products small enough for the generated loop nest (work under `FAST_MIN_WORK`) at every length
/// of the innermost loop around its block size of 8, and a few above the hand-over to the
/// executor: forward against the plain reference interpreter, gradients against the runtime
/// `einsum()` (whose small products run other code), on standard and transposed operands.
#[test]
fn small_products_at_every_inner_length() {
    use ndarray::{Array3, ShapeBuilder};
    use slowgrad::einsum_reference;
    let close = |a: &ArrayD<f64>, b: &ArrayD<f64>, what: &str| {
        assert_eq!(a.shape(), b.shape(), "{what}");
        let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        let err = common::max_diff(a.iter().copied().zip(b.iter().copied()));
        assert!(err <= 1e-12 * scale, "{what}: max error {err}");
    };
    let fill = |shape: (usize, usize), seed: usize| {
        Array2::from_shape_fn(shape, |(i, j)| ((i * 31 + j * 17 + seed * 7) % 23) as f64 / 7.0 - 1.5)
    };
    for (m, k, n) in [(1, 1, 1), (3, 7, 8), (8, 8, 8), (5, 9, 7), (2, 3, 15), (4, 16, 17), (9, 11, 13), (13, 13, 13)] {
        let (a, b) = (fill((m, k), 1), fill((k, n), 2));
        // b stored column-major: its rows are strided
        let b_f = {
            let mut t = Array2::zeros((k, n).f());
            t.assign(&b);
            t
        };
        let want = einsum_reference(
            &slowgrad::ExtEinsum::parse("ij,jk->ik", &[2, 2]).unwrap(),
            &[a.view().into_dyn(), b.view().into_dyn()],
            None,
        )
        .unwrap();
        let what = format!("{m}x{k}x{n}");
        close(&einsum!("ij,jk->ik", &a, &b).into_dyn(), &want, &what);
        close(&einsum!("ij,jk->ik", &a, &b_f).into_dyn(), &want, &what);
        close(&einsum!("ik,jk->ij", &a, &b.t()).into_dyn(), &want, &what);
        close(&einsum!("ji,jk->ik", &a.t(), &b).into_dyn(), &want, &what);
        // gradients of both operands for an upstream gradient that is not all ones
        let up = fill((m, n), 3).into_dyn();
        let (x, w) = (Var::new(a.clone()), Var::new(b.clone()));
        einsum!("ij,jk->ik", &x, &w).as_dyn().backward_with(up.clone());
        let (x2, w2) = (Var::new(a.clone()), Var::new(b.clone()));
        slowgrad::einsum("ij,jk->ik", &[&x2, &w2]).unwrap().backward_with(up.clone());
        close(&x.grad().unwrap().into_dyn(), &x2.grad().unwrap().into_dyn(), &format!("dx {what}"));
        close(&w.grad().unwrap().into_dyn(), &w2.grad().unwrap().into_dyn(), &format!("dw {what}"));
        // a batched product and a three-factor elementwise sum
        let c = Array3::from_shape_fn((2, m, k), |(p, i, j)| (p + i * 3 + j) as f64 * 0.25 - 1.0);
        let d = Array3::from_shape_fn((2, k, n), |(p, i, j)| (p * 2 + i + j * 5) as f64 * 0.125 - 0.5);
        let want = einsum_reference(
            &slowgrad::ExtEinsum::parse("bij,bjk->bik", &[3, 3]).unwrap(),
            &[c.view().into_dyn(), d.view().into_dyn()],
            None,
        )
        .unwrap();
        close(&einsum!("bij,bjk->bik", &c, &d).into_dyn(), &want, &format!("batched {what}"));
        let e = fill((m, k), 4);
        let want = (&a * &a * &e).sum_axis(ndarray::Axis(0)).into_dyn();
        close(&einsum!("ij,ij,ij->j", &a, &a, &e).into_dyn(), &want, &format!("three factors {what}"));
    }
}

/// One call site fed operands of one shape in several layouts (standard, transposed, reversed,
/// strided): each result equals `a.dot(b)`, so the loops remembered for one layout are never
/// reused for another.
#[test]
fn one_call_site_with_operands_in_many_layouts() {
    fn product(a: ndarray::ArrayView2<'_, f64>, b: ndarray::ArrayView2<'_, f64>) -> Array2<f64> {
        einsum!("ij,jk->ik", &a, &b)
    }
    let a = Array2::from_shape_fn((7, 5), |(i, j)| (i * 5 + j) as f64 - 9.0);
    let b = Array2::from_shape_fn((5, 6), |(i, j)| (i + 2 * j) as f64 * 0.5);
    let want = a.dot(&b);
    let at = a.t().as_standard_layout().into_owned();
    let bt = b.t().as_standard_layout().into_owned();
    let a_rev = a.slice(ndarray::s![..;-1, ..;-1]).to_owned();
    let wide = Array2::from_shape_fn((7, 10), |(i, j)| if j % 2 == 0 { a[[i, j / 2]] } else { f64::NAN });
    for _ in 0..2 {
        assert_eq!(product(a.view(), b.view()), want);
        assert_eq!(product(at.t(), b.view()), want);
        assert_eq!(product(a.view(), bt.t()), want);
        assert_eq!(product(at.t(), bt.t()), want);
        assert_eq!(product(a_rev.slice(ndarray::s![..;-1, ..;-1]), b.view()), want);
        assert_eq!(product(wide.slice(ndarray::s![.., ..;2]), b.view()), want);
    }
}

/// Elementwise and broadcast kernels write their outputs without zeroing them first; a
/// gradient kernel of the same form that sums a label back to a size-1 axis (an operand
/// broadcast along it) still adds every term. Shapes of 3×20 exercise both the blocks of
/// eight lanes and the remainder, and a transposed operand the strided loop.
#[test]
fn kernels_that_write_each_element_once() {
    let xa = Array2::from_shape_fn((3, 20), |(i, j)| 1.0 + i as f64 - 0.25 * j as f64);
    let ya = Array2::from_shape_fn((3, 20), |(i, j)| 0.5 * j as f64 - i as f64);
    let x = Var::new(xa.clone());
    let y = Var::new(ya.clone());
    let z: Var<f64, Ix2> = einsum!("ij,ij->ij", &x, &y);
    assert_eq!(z.value(), &xa * &ya);
    // a broadcast (y along i) and a transposed, strided read
    let yt = ya.t().to_owned();
    let b: Array2<f64> = einsum!("ij,j->ij", &xa, &ya.row(1));
    assert_eq!(b, &xa * &ya.row(1));
    let t: Array2<f64> = einsum!("ij->ji", &yt.view());
    assert_eq!(t, yt.t());
    // a column operand broadcast along j: its gradient sums j back to size 1
    let c = Var::new(Array2::from_shape_fn((3, 1), |(i, _)| 2.0 - i as f64));
    let w: Var<f64, Ix2> = einsum!("ij,ij->ij", &c, &y);
    assert_eq!(w.value(), &c.value() * &ya);
    let g = Array2::from_shape_fn((3, 20), |(i, j)| (i * 20 + j) as f64 * 0.125);
    w.backward_with(g.clone());
    let want_c = (&g * &ya).sum_axis(ndarray::Axis(1)).insert_axis(ndarray::Axis(1));
    let got_c = c.grad().unwrap();
    assert!(got_c.iter().zip(&want_c).all(|(a, b)| (a - b).abs() <= 1e-12 * b.abs().max(1.0)), "{got_c} {want_c}");
    assert_eq!(y.grad().unwrap(), &g * &c.value());
}
