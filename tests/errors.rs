//! Mistakes that used to pass silently or panic with internal messages: a backward pass from a
//! value without a graph, a reshape whose sizes overflow, changing a value while it is
//! borrowed, and a gradient check of a function whose output shape changes.

use ndarray::{array, ArrayD, IxDyn};
use slowgrad::gradcheck::{gradcheck, gradgradcheck, FailureKind, GradcheckOptions};
use slowgrad::{einsum, no_grad, BackwardError, BackwardOptions, Var};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The message of the panic `f` raises.
fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("a panic");
    match err.downcast::<String>() {
        Ok(s) => *s,
        Err(e) => e.downcast::<&str>().map(|s| s.to_string()).unwrap_or_default(),
    }
}

#[test]
fn backward_from_a_constant_is_an_error() {
    let c = Var::constant(array![1.0, 2.0]);
    let s = c.sum();
    assert!(!s.requires_grad());
    assert_eq!(s.try_backward(BackwardOptions::default()), Err(BackwardError::NoGrad));
    assert_eq!(c.try_backward_with(array![1.0, 1.0], BackwardOptions::default()), Err(BackwardError::NoGrad));
    let seed = Var::constant(array![1.0, 1.0]).as_dyn();
    assert_eq!(c.as_dyn().try_backward_with_var(&seed, BackwardOptions::default()), Err(BackwardError::NoGrad));
    // reported before the shape: a graph is missing whatever the seed
    assert_eq!(c.try_backward(BackwardOptions::default()), Err(BackwardError::NoGrad));
    let msg = panic_message(|| s.backward());
    assert!(msg.starts_with("backward() from a value that does not require grad"), "{msg}");
    assert!(msg.contains("no_grad") && msg.contains("Var::new"), "{msg}");
    let msg = panic_message(|| c.backward_with(array![1.0, 1.0]));
    assert_eq!(msg, BackwardError::NoGrad.to_string());
}

#[test]
fn backward_from_a_value_made_under_no_grad_is_an_error() {
    let x = Var::new(array![1.0, 2.0]);
    let y = no_grad(|| einsum("i,i->", &[&x, &x]).unwrap());
    assert_eq!(y.try_backward(BackwardOptions::default()), Err(BackwardError::NoGrad));
    assert!(x.grad().is_none());
    // the same computation outside no_grad works
    einsum("i,i->", &[&x, &x]).unwrap().backward();
    assert_eq!(x.grad().unwrap(), array![2.0, 4.0]);
    // a leaf that requires grad is its own graph: its gradient is the seed
    let z = Var::new(ndarray::arr0(3.0));
    z.backward();
    assert_eq!(z.grad().unwrap(), ndarray::arr0(1.0));
}

#[test]
fn a_reshape_whose_sizes_overflow_names_them() {
    let x = Var::new(array![1.0, 2.0, 3.0, 4.0]);
    let msg = panic_message(|| drop(x.reshape(&[usize::MAX, 2])));
    assert_eq!(
        msg,
        format!(
            "cannot reshape shape [4] (4 elements) to [{}, 2]: the product of those sizes overflows usize",
            usize::MAX
        )
    );
    let msg = panic_message(|| drop(x.reshape(&[3])));
    assert_eq!(msg, "cannot reshape shape [4] (4 elements) to [3] (3 elements)");
}

#[test]
fn changing_a_value_while_it_is_borrowed_panics_clearly() {
    let x = Var::new(array![1.0, 2.0]);
    let id = x.id();
    let msg = panic_message(|| x.with_value(|_| x.set_value(array![3.0, 4.0])));
    assert!(msg.starts_with(&format!("set_value on Var #{id} while its value is borrowed")), "{msg}");
    let msg = panic_message(|| x.with_value(|_| x.update(|v| *v *= 2.0)));
    assert!(msg.starts_with(&format!("update on Var #{id} while its value is borrowed")), "{msg}");
    // reading inside an update of the same value
    let y = x.clone();
    let msg = panic_message(|| x.update(|v| *v += &y.value()));
    assert!(msg.starts_with(&format!("value on Var #{id} while its value is being changed")), "{msg}");
    // nothing was changed, and the value is usable again
    assert_eq!(x.value(), array![1.0, 2.0]);
    x.update(|v| *v *= 2.0);
    assert_eq!(x.value(), array![2.0, 4.0]);
}

#[test]
fn set_value_and_update_name_the_shapes() {
    let x = Var::new(array![1.0, 2.0]);
    let msg = panic_message(|| x.set_value(array![1.0]));
    assert_eq!(msg, "set_value may not change the shape: the value has shape [2], the new one [1]");
    let msg = panic_message(|| x.update(|v| *v = ArrayD::zeros(IxDyn(&[3]))));
    assert_eq!(msg, "update may not change the shape: it was [2], it became [3]");
}

/// The elements above 0: an output shape that depends on the values.
fn positives(xs: &[Var<f64>]) -> Var<f64> {
    let keep: Vec<usize> = xs[0].value().iter().enumerate().filter(|&(_, &v)| v > 0.0).map(|(i, _)| i).collect();
    xs[0].index_select(0, &keep).tanh()
}

#[test]
fn gradcheck_of_a_function_whose_output_shape_changes_is_an_error() {
    // x[1] = 5e-7 becomes negative when moved down by eps = 1e-6
    let x = [array![2.0, 5e-7, 1.0].into_dyn()];
    let err = gradcheck(&positives, &x, GradcheckOptions::default()).unwrap_err();
    assert_eq!(err.kind, FailureKind::OutputShape { expected: [3].into(), got: [2].into() });
    assert_eq!((err.input, err.input_index.clone(), err.order), (0, vec![1], "gradient"));
    let msg = err.to_string();
    assert!(
        msg.starts_with("the checked function's output has shape [3] at the inputs but [2] with input 0[1] moved"),
        "{msg}"
    );
    // away from 0 the same function passes
    let fine = [array![2.0, 0.5, -1.0].into_dyn()];
    assert_eq!(gradcheck(&positives, &fine, GradcheckOptions::default()).unwrap().entries, 2 * 3);

    let err = gradgradcheck(&positives, &x, GradcheckOptions::default()).unwrap_err();
    assert_eq!(err.kind, FailureKind::OutputShape { expected: [3].into(), got: [2].into() });
    assert_eq!(err.order, "second derivative");
    gradgradcheck(&positives, &fine, GradcheckOptions::default()).unwrap();
}

#[test]
fn gradcheck_of_a_function_that_changes_between_calls_is_an_error() {
    let calls = std::cell::Cell::new(0usize);
    // one more element on every call after the first
    let f = |xs: &[Var<f64>]| {
        calls.set(calls.get() + 1);
        let n = if calls.get() == 1 { 1 } else { 2 };
        xs[0].index_select(0, &vec![0; n])
    };
    let err = gradcheck(&f, &[array![1.0, 2.0].into_dyn()], GradcheckOptions::default()).unwrap_err();
    assert_eq!(err.kind, FailureKind::OutputShape { expected: [1].into(), got: [2].into() });
    assert_eq!(err.input_index, vec![0]);
    assert!(err.numeric.is_nan() && err.analytic.is_nan() && err.output_index.is_empty());
}
