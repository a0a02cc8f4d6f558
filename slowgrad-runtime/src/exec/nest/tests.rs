use super::inner::{dot, pairwise, sum, BLOCK};
use super::*;
use crate::exec::{execute, execute_reference};
use ndarray::{s, Array, ArrayD, IxDyn};
use slowgrad_core::ExtEinsum;

/// Small integers: every sum of them is exact in f64, whatever the order, so the pairwise
/// nest must equal the reference exactly.
fn ints(shape: &[usize], seed: usize) -> ArrayD<f64> {
    let n: usize = shape.iter().product();
    Array::from_shape_vec(IxDyn(shape), (0..n).map(|i| ((i * 37 + seed * 11) % 19) as f64 - 9.0).collect()).unwrap()
}

#[track_caller]
fn same_as_reference(inputs: &str, output: &str, ops: &[&ArrayD<f64>], out_shape: Option<&[usize]>) {
    let spec = ExtEinsum::from_letters(inputs, output).unwrap();
    let views: Vec<_> = ops.iter().map(|a| a.view()).collect();
    let got = execute(&spec, &views, out_shape).unwrap();
    let want = execute_reference(&spec, &views, out_shape).unwrap();
    assert_eq!(got, want, "{inputs}->{output}");
}

#[test]
fn pairwise_splits_at_multiples_of_32_and_covers_the_range() {
    let n = 3000;
    // count how often each index is visited and how long the leaves are
    let seen = std::cell::RefCell::new(vec![0u32; n]);
    let total = pairwise::<f64, BLOCK>(0, n, &|lo, hi| {
        assert!(hi - lo <= BLOCK && lo % 32 == 0, "leaf {lo}..{hi}");
        for c in &mut seen.borrow_mut()[lo..hi] {
            *c += 1;
        }
        (hi - lo) as f64
    });
    assert_eq!(total, n as f64);
    assert!(seen.borrow().iter().all(|&c| c == 1));
    assert_eq!(sum(&[1.0f64; 1000]), 1000.0);
    let x: Vec<f64> = (0..777).map(|i| i as f64).collect();
    assert_eq!(dot(&x, &x), (0..777).map(|i| (i * i) as f64).sum::<f64>());
}

/// Outer summed loops long enough to be halved, with one, two and three inputs, strided
/// and broadcast operands, summed to size 1, and outputs of every rank.
#[test]
fn halved_outer_sums_equal_the_reference() {
    let a = ints(&[300, 5], 1);
    same_as_reference("ij", "j", &[&a], None);
    same_as_reference("ij", "", &[&a.clone().reversed_axes()], None);
    same_as_reference("ij", "ij", &[&a], Some(&[1, 5]));
    let b = ints(&[300, 5], 2);
    same_as_reference("ij,ij", "j", &[&a, &b], None);
    same_as_reference("ij,ij,ij", "j", &[&a, &b, &a], None);
    // two summed outer dimensions, neither longer than 32, whose product is
    let c = ints(&[20, 3, 30, 2], 3).permuted_axes(IxDyn(&[1, 0, 3, 2]));
    same_as_reference("abcd", "ac", &[&c], None);
    same_as_reference("abcd", "", &[&c], None);
    // a strided operand, summed along and across
    let d = ints(&[400, 90], 4);
    let v = d.slice(s![..;3, 1..;2]).to_owned().reversed_axes().into_dyn();
    same_as_reference("ij", "i", &[&v], None);
    same_as_reference("ij", "j", &[&v], None);
    // a column of a broadcast operand times a row
    let e = ints(&[500, 1], 5);
    let f = ints(&[1, 7], 6);
    same_as_reference("ij,ij", "j", &[&e, &f], None);
}

#[test]
fn only_long_outer_sums_are_halved() {
    let plan = |inputs: &str, output: &str, shapes: &[&[usize]]| {
        let spec = ExtEinsum::from_letters(inputs, output).unwrap();
        let arrays: Vec<ArrayD<f64>> = shapes.iter().map(|s| ArrayD::zeros(IxDyn(s))).collect();
        let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
        let sizes = spec.label_sizes(shapes, None).unwrap();
        let shape = spec.output_shape(&sizes).unwrap();
        let out = ArrayD::<f64>::zeros(IxDyn(&shape));
        let strides: Vec<isize> = out.strides().to_vec();
        NestPlan::new(&Dims::new(&spec, &sizes, &shape, &strides, &views))
    };
    // rows summed into 4 columns: 1000 terms each, halved down to 32; two buffers of 4
    let p = plan("ij", "j", &[&[1000, 4]]);
    let b = p.blocked.as_ref().expect("halved");
    assert_eq!((b.len, b.summed.len()), (4, 1));
    assert_eq!(b.levels, 5); // 1000 → 500 → 250 → 125 → 63 → 32
                             // 32 rows: one block; a sum along the innermost loop is never halved here
    assert!(plan("ij", "j", &[&[32, 4]]).blocked.is_none());
    assert!(plan("ij", "i", &[&[4, 1000]]).blocked.is_none());
}
