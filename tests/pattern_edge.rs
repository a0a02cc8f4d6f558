//! Edge cases of the pattern language and of its errors, through the runtime `einsum()`.

use ndarray::{arr0, array, Array1, Array2};
use slowgrad::{einsum, einsum_array, explain, EinsumError, Var};

#[test]
fn empty_and_blank_patterns_are_the_scalar() {
    for p in ["", " ", " \t ", "->", " -> "] {
        let s = Var::new(arr0(2.5f64));
        let y = einsum(p, &[&s]).unwrap_or_else(|e| panic!("{p:?}: {e}"));
        assert_eq!(y.shape(), [0usize; 0], "{p:?}");
        assert_eq!(y.item(), 2.5, "{p:?}");
        // d(s)/ds = 1
        y.backward();
        assert_eq!(s.grad().unwrap(), arr0(1.0), "{p:?}");
        let a = einsum_array(p, &[arr0(-4.0f32).into_dyn().view()]).unwrap();
        assert_eq!(a, arr0(-4.0f32).into_dyn(), "{p:?}");
    }
    // two empty terms: the product of two scalars, as numpy's `einsum(",", 2, 3)`
    let (a, b) = (Var::new(arr0(2.0)), Var::new(arr0(3.0)));
    let y = einsum(" , ", &[&a, &b]).unwrap();
    assert_eq!(y.item(), 6.0);
    y.backward();
    assert_eq!((a.grad().unwrap(), b.grad().unwrap()), (arr0(3.0), arr0(2.0)));
}

#[test]
fn an_empty_pattern_on_an_array_says_the_term_is_a_scalar() {
    let m = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
    let err = einsum("", &[&m]).unwrap_err();
    assert!(matches!(err, EinsumError::RankMismatch { operand: 0, labels: 0, rank: 2, .. }), "{err:?}");
    assert_eq!(err.to_string(), "operand 0 has rank 2 but its term is empty: an empty term is a scalar (rank 0)");
    // and one scalar term with two operands is an operand count error
    let s = Var::new(arr0(1.0));
    let err = einsum(" ", &[&s, &s]).unwrap_err();
    assert_eq!(err, EinsumError::OperandCount { terms: 1, operands: 2 });
}

#[test]
fn ellipsis_size_mismatch_names_the_ellipsis() {
    let a = Var::new(Array2::<f64>::zeros((2, 3)));
    let b = Var::new(Array2::<f64>::zeros((4, 3)));
    let err = einsum("...i,...i->...i", &[&a, &b]).unwrap_err();
    assert_eq!(
        err,
        EinsumError::SizeMismatch {
            label: "...".into(),
            first: Some(0),
            first_size: 2,
            second: Some(1),
            second_size: 4
        }
    );
    let text = err.to_string();
    assert!(text.starts_with("the dimensions of `...` have size 2 in operand 0 but 4 in operand 1"), "{text}");
    assert!(!text.contains("`0`"), "{text}");
}

#[test]
fn counts_in_messages_are_singular_or_plural() {
    let s = Var::new(arr0(1.0));
    let err = einsum("...i->i", &[&s]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "operand 0 has rank 0 but its term `...i` needs at least 1 dimension (1 label plus `...`)"
    );
    let err = einsum("...ij->i", &[&s]).unwrap_err();
    assert!(err.to_string().ends_with("needs at least 2 dimensions (2 labels plus `...`)"), "{err}");
    let v = Var::new(array![1.0, 2.0]);
    let err = einsum("ij", &[&v]).unwrap_err();
    assert_eq!(err.to_string(), "operand 0 has rank 1 but its term `ij` has 2 labels");
    let err = einsum("i", &[&s]).unwrap_err();
    assert_eq!(err.to_string(), "operand 0 has rank 0 but its term `i` has 1 label");
}

#[test]
fn a_named_label_summed_once_runs_and_explain_hints_at_a_typo() {
    // `inpt` for `inp`: numpy's reading sums each of them away, so the result is the outer
    // product of the row sums of x and of w
    let x = Var::new(array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let w = Var::new(array![[1.0, -1.0, 2.0], [0.5, 0.5, 0.0]]);
    let y = einsum("batch inp, out inpt -> batch out", &[&x, &w]).unwrap();
    assert_eq!(y.value(), array![[12.0, 6.0], [30.0, 15.0]].into_dyn());
    let text = explain("batch inp, out inpt -> batch out").unwrap();
    assert!(text.contains("hint: label `inp` appears once and is summed away: a typo?"), "{text}");
    assert!(text.contains("hint: label `inpt` appears once and is summed away: a typo?"), "{text}");
    // the same layer spelled right, and single letters, give no hint
    for p in ["batch inp, out inp -> batch out", "bi,oj->bo", "batch inp, out inpt"] {
        let text = explain(p).unwrap();
        assert!(!text.contains("hint:"), "{p}: {text}");
    }
}

#[test]
fn an_impossible_allocation_is_an_error() {
    // 2^23 × 2^23 elements fit in usize, but their 2^48 bytes (f32) or 2^49 (f64) fit in no
    // address space
    let n = 1usize << 23;
    let v = Var::new(Array1::<f32>::zeros(n));
    let err = einsum("i,j->ij", &[&v, &v]).unwrap_err();
    assert_eq!(err, EinsumError::AllocationFailed { shape: vec![n, n], bytes: 1 << 48 });
    assert_eq!(
        err.to_string(),
        "cannot allocate the result of shape [8388608, 8388608]: 281474976710656 bytes (256.0 TiB) are more than the system gives"
    );
    let a = Array1::<f64>::zeros(n);
    let err = einsum_array("i,j->ij", &[a.view().into_dyn(), a.view().into_dyn()]).unwrap_err();
    assert_eq!(err, EinsumError::AllocationFailed { shape: vec![n, n], bytes: 1 << 49 });
    // the engine is still usable afterwards
    let small = Var::new(array![1.0f32, 2.0]);
    assert_eq!(einsum("i,j->ij", &[&small, &small]).unwrap().value(), array![[1.0, 2.0], [2.0, 4.0]].into_dyn());
}
