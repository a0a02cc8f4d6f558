//! Generated kernels on operands that are not in standard layout: transposed (Fortran order),
//! stepped slices, reversed axes and broadcast views (stride 0), each against the reference
//! executor (`einsum_reference`, plain loops over the operands' own strides) for the forward,
//! and, through the tape with values stored in Fortran order, against the runtime `einsum()`
//! for the forward, the gradients and second order. Each family covers the kernel classes the
//! macro writes: blocked rows (products and their gradients), dot products (reductions), axpys
//! (elementwise, broadcasts) and diagonals.

mod common;

use common::*;
use ndarray::{s, Array, ArrayD, ArrayViewD, Axis, IxDyn, ShapeBuilder};
use slowgrad::{einsum_reference, ExtEinsum, Operand, Var};

/// The same values as `a` in a buffer twice as large along the last axis, read every other
/// element (stride 2), and the view that reads them.
fn stepped(a: &ArrayD<f64>) -> ArrayD<f64> {
    let mut shape = a.shape().to_vec();
    if let Some(last) = shape.last_mut() {
        *last *= 2;
    }
    let mut big = ArrayD::<f64>::from_elem(IxDyn(&shape), f64::NAN);
    if a.ndim() == 0 {
        return a.clone();
    }
    let last = a.ndim() - 1;
    big.slice_axis_mut(Axis(last), ndarray::Slice::new(0, None, 2)).assign(a);
    big
}

fn view_stepped(big: &ArrayD<f64>) -> ArrayViewD<'_, f64> {
    if big.ndim() == 0 {
        return big.view();
    }
    let last = big.ndim() - 1;
    big.slice_axis(Axis(last), ndarray::Slice::new(0, None, 2))
}

/// The same values as `a`, stored with the first axis reversed, and the view that reads them in
/// the original order (a negative stride).
fn reversed(a: &ArrayD<f64>) -> ArrayD<f64> {
    let mut r = a.clone();
    if a.ndim() > 0 {
        r.invert_axis(Axis(0));
        r = r.as_standard_layout().into_owned();
    }
    r
}

fn view_reversed(r: &ArrayD<f64>) -> ArrayViewD<'_, f64> {
    let mut v = r.view();
    if v.ndim() > 0 {
        v.invert_axis(Axis(0));
    }
    v
}

fn close(got: &ArrayD<f64>, want: &ArrayD<f64>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    let scale = want.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    for (x, y) in got.iter().zip(want) {
        assert!((x - y).abs() <= 1e-12 * scale, "{what}: generated {got} vs reference {want}");
    }
}

macro_rules! family {
    ($seed:expr, $pat:literal, $($shape:expr),+) => {{
        let pattern = $pat;
        let mut seed = $seed * 10;
        let shapes: Vec<Vec<usize>> = vec![$($shape.to_vec()),+];
        let ranks: Vec<usize> = shapes.iter().map(|s| s.len()).collect();
        let ext = ExtEinsum::parse(pattern, &ranks).expect("a valid pattern");
        let bases: Vec<ArrayD<f64>> = shapes.iter().map(|s| { seed += 1; values::<IxDyn>(s, seed) }).collect();
        // every operand in each layout, the others in standard layout: forward on array views
        for which in 0..shapes.len() {
            let steppeds: Vec<ArrayD<f64>> = bases.iter().map(stepped).collect();
            let reverseds: Vec<ArrayD<f64>> = bases.iter().map(reversed).collect();
            for layout in ["fortran", "stepped", "reversed"] {
                let mut f = Array::zeros(IxDyn(&shapes[which]).f());
                f.assign(&bases[which]);
                let views: Vec<ArrayViewD<'_, f64>> = (0..shapes.len())
                    .map(|k| {
                        if k != which {
                            bases[k].view()
                        } else {
                            match layout {
                                "fortran" => f.view(),
                                "stepped" => view_stepped(&steppeds[k]),
                                _ => view_reversed(&reverseds[k]),
                            }
                        }
                    })
                    .collect();
                let want = einsum_reference(&ext, &views, None).expect("reference");
                let mut k = 0..;
                let got: ArrayD<f64> = slowgrad::einsum!($pat, $(&views[{ let _ = $shape; k.next().unwrap() }]),+).into_dyn();
                close(&got, &want, &format!("{pattern}: operand {which} {layout}"));
            }
        }
        // through the tape with every value in Fortran order: gradients and second order
        // against the runtime (whose kernels are the executor's, not generated)
        let vars: Vec<Var<f64, IxDyn>> = bases
            .iter()
            .map(|b| {
                let mut f = Array::zeros(IxDyn(b.shape()).f());
                f.assign(b);
                Var::new(f)
            })
            .collect();
        let arrays: Vec<ArrayD<f64>> = vars.iter().map(|v| v.value()).collect();
        let ops: Vec<&dyn Operand<f64>> = vars.iter().map(|v| v as &dyn Operand<f64>).collect();
        let mut k = 0..;
        let m = slowgrad::einsum!($pat, $(&vars[{ let _ = $shape; k.next().unwrap() }]),+).as_dyn();
        let mut k = 0..;
        let a = slowgrad::einsum!($pat, $(&arrays[{ let _ = $shape; k.next().unwrap() }]),+).into_dyn();
        compare(pattern, &m, &a, &ops, $seed);
    }};
}

#[test]
fn generated_kernels_on_strided_operands_match_the_reference() {
    // products and their gradients (blocked rows), small and past a block of eight
    family!(1, "ij,jk->ik", [3, 4], [4, 5]);
    family!(2, "ij,jk->ik", [9, 10], [10, 11]);
    family!(3, "ik,jk->ij", [5, 9], [10, 9]);
    family!(4, "bij,bjk->bik", [2, 3, 4], [2, 4, 5]);
    family!(5, "bi,oi->bo", [4, 9], [3, 9]);
    // reductions (dot products), elementwise and broadcasts (axpys)
    family!(6, "ij->j", [7, 5]);
    family!(7, "ij->i", [4, 10]);
    family!(8, "ij,ij->ij", [3, 9], [3, 9]);
    family!(9, "ij,j->ij", [4, 9], [9]);
    family!(10, "i,j->ij", [5], [9]);
    family!(11, "i,i->", [11], [11]);
    // diagonals and traces, and a label private to one operand
    family!(12, "ii->i", [6, 6]);
    family!(13, "iij->ij", [4, 4, 3]);
    family!(14, "ii->", [5, 5]);
    family!(15, "ab,cd->ab", [3, 4], [2, 5]);
    // size-1 broadcasting of a label, and a three-operand chain (two steps)
    family!(16, "ij,ij->ij", [3, 1], [3, 9]);
    family!(17, "ij,jk,kl->il", [3, 4], [4, 5], [5, 2]);
    family!(18, "bi,oij,bj->bo", [2, 3], [4, 3, 5], [2, 5]);
}

/// A broadcast view (stride 0 along a label of full size) as an operand.
#[test]
fn broadcast_views_match_the_reference() {
    let row = values::<IxDyn>(&[1, 6], 3);
    let wide = row.broadcast(IxDyn(&[4, 6])).expect("broadcastable");
    let b = values::<IxDyn>(&[6, 5], 4);
    let ext = ExtEinsum::parse("ij,jk->ik", &[2, 2]).expect("valid");
    let want = einsum_reference(&ext, &[wide.view(), b.view()], None).expect("reference");
    let got: ArrayD<f64> = slowgrad::einsum!("ij,jk->ik", &wide, &b).into_dyn();
    close(&got, &want, "ij,jk->ik with a broadcast left operand");
    let ext = ExtEinsum::parse("ij,ij->j", &[2, 2]).expect("valid");
    let bt = values::<IxDyn>(&[4, 6], 5);
    let want = einsum_reference(&ext, &[wide.view(), bt.view()], None).expect("reference");
    let got: ArrayD<f64> = slowgrad::einsum!("ij,ij->j", &wide, &bt).into_dyn();
    close(&got, &want, "ij,ij->j with a broadcast operand");
    // a slice with a step along both axes
    let big = values::<IxDyn>(&[8, 12], 6);
    let sl = big.slice(s![..;2, ..;3]);
    let ext = ExtEinsum::parse("ij->ji", &[2]).expect("valid");
    let want = einsum_reference(&ext, &[sl.view().into_dyn()], None).expect("reference");
    let got: ArrayD<f64> = slowgrad::einsum!("ij->ji", &sl).into_dyn();
    close(&got, &want, "ij->ji on a stepped slice");
}

#[test]
fn strided_kernels_pass_with_the_baseline_kernels() {
    rerun_with_baseline_kernels(2);
}
