//! A sample of `einsum!` patterns and runtime `einsum()` calls small enough for Miri, covering
//! the `unsafe` loop nests of generated kernels and of the interpreter: contiguous and strided
//! operands, diagonals, broadcast labels, size-1 sums, scalars, empty dimensions and an n-ary
//! chain, forward and backward. Run under Miri with `scripts/miri.sh`; it also runs in
//! `cargo test`.

use ndarray::{Array1, Array2, Array3, ArrayD, Dimension, Ix2, IxDyn};
use slowgrad::{einsum, Var};

fn close(a: &ArrayD<f64>, b: &ArrayD<f64>) {
    assert_eq!(a.shape(), b.shape());
    for (x, y) in a.iter().zip(b.iter()) {
        assert!((x - y).abs() < 1e-12, "{a} vs {b}");
    }
}

/// Forward and gradients of one pattern: the `einsum!` result against `einsum()` on copies.
fn check(pattern: &str, macro_out: Var<f64>, macro_vars: &[Var<f64>], inputs: &[ArrayD<f64>]) {
    let vars: Vec<Var<f64>> = inputs.iter().map(|x| Var::new(x.clone())).collect();
    let refs: Vec<&dyn slowgrad::Operand<f64>> = vars.iter().map(|v| v as &dyn slowgrad::Operand<f64>).collect();
    let r = einsum(pattern, &refs).unwrap();
    close(&macro_out.value(), &r.value());
    let seed =
        ArrayD::from_shape_fn(IxDyn(&r.shape()), |d: IxDyn| (0..d.ndim()).map(|k| d[k]).sum::<usize>() as f64 - 1.5);
    r.backward_with(seed.clone());
    macro_out.backward_with(seed);
    for (a, b) in macro_vars.iter().zip(&vars) {
        close(&a.grad().unwrap(), &b.grad().unwrap());
    }
}

#[test]
fn generated_kernels_and_interpreter_agree() {
    let a = Array2::from_shape_fn((2, 3), |(i, j)| (i * 3 + j) as f64 * 0.5 - 1.0);
    let b = Array2::from_shape_fn((3, 2), |(i, j)| (i + 2 * j) as f64 - 1.0);
    let sq = Array2::from_shape_fn((3, 3), |(i, j)| (i as f64) - (j as f64) * 0.25);
    let v = Array1::from_shape_fn(3, |i| i as f64 + 0.5);
    let col = Array2::from_shape_fn((2, 1), |(i, _)| i as f64 + 1.0);
    let t3 = Array3::from_shape_fn((2, 2, 3), |(i, j, k)| (i + j * k) as f64);

    // matmul; then on arrays with a transposed (strided) operand
    let (x, w) = (Var::new(a.clone()), Var::new(b.clone()));
    let out = einsum!("ij,jk->ik", &x, &w);
    check("ij,jk->ik", out.as_dyn(), &[x.as_dyn(), w.as_dyn()], &[a.clone().into_dyn(), b.clone().into_dyn()]);
    let bt = b.t().to_owned();
    let arr: Array2<f64> = einsum!("ij,jk->ik", &a.view(), &bt.t());
    close(&arr.into_dyn(), &a.dot(&b).into_dyn());

    // diagonal (the gradient scatters onto the diagonal)
    let d = Var::new(sq.clone());
    let out = einsum!("ii->i", &d);
    check("ii->i", out.as_dyn(), &[d.as_dyn()], &[sq.clone().into_dyn()]);

    // a label private to one operand (broadcast in its gradient)
    let (p, q) = (Var::new(t3.clone()), Var::new(b.clone()));
    let out = einsum!("bij,jk->ik", &p, &q);
    check("bij,jk->ik", out.as_dyn(), &[p.as_dyn(), q.as_dyn()], &[t3.clone().into_dyn(), b.clone().into_dyn()]);

    // size-1 broadcasting summed back
    let (c, e) = (Var::new(col.clone()), Var::new(a.clone()));
    let out = einsum!("ij,ij->ij", &c, &e);
    check("ij,ij->ij", out.as_dyn(), &[c.as_dyn(), e.as_dyn()], &[col.clone().into_dyn(), a.clone().into_dyn()]);

    // a scalar operand, and a three-operand chain
    let s = Var::new(ndarray::arr0(2.5));
    let vv = Var::new(v.clone());
    let out = einsum!(",i->i", &s, &vv);
    check(",i->i", out.as_dyn(), &[s.as_dyn(), vv.as_dyn()], &[ndarray::arr0(2.5).into_dyn(), v.clone().into_dyn()]);
    let (m1, m2, m3) = (Var::new(a.clone()), Var::new(sq.clone()), Var::new(b.clone()));
    let out = einsum!("ij,jk,kl->il", &m1, &m2, &m3);
    check(
        "ij,jk,kl->il",
        out.as_dyn(),
        &[m1.as_dyn(), m2.as_dyn(), m3.as_dyn()],
        &[a.clone().into_dyn(), sq.clone().into_dyn(), b.clone().into_dyn()],
    );

    // empty dimensions
    let z = Var::new(Array2::<f64>::zeros((0, 3)));
    let out: Var<f64, Ix2> = einsum!("ij,jk->ik", &z, &Var::new(b.clone()));
    assert_eq!(out.shape(), vec![0, 2]);
    out.backward_with(Array2::<f64>::zeros((0, 2)));
    assert_eq!(z.grad().unwrap().shape(), &[0, 3]);
}
