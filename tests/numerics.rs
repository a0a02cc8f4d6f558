//! NaN and infinities propagate without panics, empty dimensions give empty or zero results and
//! zero gradients, and element counts that overflow are errors.

use ndarray::{array, Array2, ArrayD, IxDyn};
use slowgrad::{einsum, EinsumError, Var};

#[test]
fn nan_and_infinity_propagate() {
    let x = Var::new(array![[1.0, f64::NAN], [f64::INFINITY, 2.0]]);
    let w = Var::new(array![[1.0, 0.0], [0.0, 1.0]]);
    let y = einsum("ij,jk->ik", &[&x, &w]).unwrap();
    // IEEE rules, as numpy: NaN * 0 and inf * 0 are NaN
    let v = y.value();
    assert!(v[[0, 0]].is_nan() && v[[0, 1]].is_nan() && v[[1, 1]].is_nan());
    assert_eq!(v[[1, 0]], f64::INFINITY);
    // elementwise, NaN and inf stay where they are
    let ones = Var::constant(Array2::ones((2, 2)));
    let v = einsum("ij,ij->ij", &[&x, &ones]).unwrap().value();
    assert!(v[[0, 1]].is_nan() && v[[1, 0]].is_infinite());
    assert!(v[[0, 0]] == 1.0 && v[[1, 1]] == 2.0);
    y.sigmoid().backward_with(Array2::ones((2, 2)));
    let g = w.grad().unwrap();
    assert!(g.iter().any(|e| e.is_nan()), "NaN reaches the gradient: {g}");
    // inf - inf = NaN, never a panic
    let z = Var::new(array![f64::INFINITY]);
    let d = &z - &z;
    assert!(d.value()[0].is_nan());
    let s = Var::new(array![f64::NEG_INFINITY, 0.0, f64::INFINITY]).sigmoid().value();
    assert_eq!(s, array![0.0, 0.5, 1.0]);
}

#[test]
fn empty_dimensions_are_valid() {
    // contracted label of size 0: the output is zeros, the gradients are empty
    let a = Var::new(Array2::<f64>::zeros((3, 0)));
    let b = Var::new(Array2::<f64>::zeros((0, 2)));
    let y = einsum("ij,jk->ik", &[&a, &b]).unwrap();
    assert_eq!(y.value(), ArrayD::<f64>::zeros(IxDyn(&[3, 2])));
    y.backward_with(Array2::ones((3, 2)));
    assert_eq!(a.grad().unwrap().shape(), &[3, 0]);
    assert_eq!(b.grad().unwrap().shape(), &[0, 2]);
    // free label of size 0: an empty output; the other operand's gradient is zero
    let c = Var::new(Array2::<f64>::zeros((0, 4)));
    let d = Var::new(array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]);
    let y = einsum("ij,jk->ik", &[&c, &d]).unwrap();
    assert_eq!(y.shape(), vec![0, 2]);
    y.backward_with(Array2::<f64>::zeros((0, 2)));
    assert_eq!(d.grad().unwrap(), Array2::<f64>::zeros((4, 2)));
    // a label of size 0 summed away
    let e = Var::new(ArrayD::<f64>::zeros(IxDyn(&[0])));
    let s = einsum("i->", &[&e]).unwrap();
    assert_eq!(s.item(), 0.0);
    s.backward();
    assert_eq!(e.grad().unwrap().len(), 0);
}

#[test]
fn element_count_overflow_is_an_error_not_a_wrap() {
    // operands with no elements, but labels so large that the output cannot exist
    let big = 1usize << 62;
    let a = Var::new(ArrayD::<f32>::zeros(IxDyn(&[0, big])));
    let b = Var::new(ArrayD::<f32>::zeros(IxDyn(&[big, 0])));
    let err = einsum("ab,cd->bc", &[&a, &b]).unwrap_err();
    assert!(matches!(err, EinsumError::TooLarge { .. }), "{err}");
    assert!(err.to_string().contains("more elements than fit"), "{err}");
    let err = einsum("ab,cd->abcd", &[&a, &b]).unwrap_err();
    assert!(matches!(err, EinsumError::TooLarge { .. }), "{err}");
}
