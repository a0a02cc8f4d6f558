//! Mistakes that used to pass silently: a `Linear` layer given an input whose last axis is
//! not its input size, and optimisers given duplicate or non-leaf parameters or a learning
//! rate that is NaN, negative or infinite.

use ndarray::{array, Array2};
use slowgrad::nn::{Linear, Module};
use slowgrad::optim::{Adam, AdamW, OptimError, Optimizer, ParamGroup, SGD};
use slowgrad::Var;

fn panic_message(f: impl FnOnce()) -> String {
    let e = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("expected a panic");
    e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap()
}

/// `Linear(4, 2)` on a (3, 1) input used to broadcast the size-1 axis against the weight's 4
/// columns, computing x·ΣW; now it is refused, naming the layer and the shape.
#[test]
fn linear_rejects_a_broadcastable_last_axis() {
    let layer = Linear::<f64>::new(4, 2, true);
    let x = Var::constant(Array2::<f64>::ones((3, 1)).into_dyn());
    let msg = panic_message(|| {
        layer.forward(&x);
    });
    assert_eq!(
        msg,
        "Linear(in_features=4, out_features=2) needs an input whose last axis has size 4, got shape [3, 1]"
    );
    // a scalar has no last axis
    let msg = panic_message(|| {
        layer.forward(&Var::constant(ndarray::arr0(1.0).into_dyn()));
    });
    assert!(msg.ends_with("got shape []"), "{msg}");
    // the right size still works, with any batch axes
    let ok = layer.forward(&Var::constant(ndarray::Array3::<f64>::ones((2, 5, 4)).into_dyn()));
    assert_eq!(ok.shape(), [2, 5, 2]);
}

#[test]
fn optimisers_reject_a_duplicate_parameter() {
    let w = Var::new(array![[1.0, 2.0]]);
    let b = Var::new(array![0.0]);
    let e = SGD::try_new((&w, &b, &w), 0.1).unwrap_err();
    assert_eq!(e, OptimError::DuplicateParameter { index: 2, first: 0, shape: vec![1, 2] });
    assert_eq!(e.to_string(), "parameter 2 (shape [1, 2]) is the same Var as parameter 0: give each parameter once");
    // across groups too
    let e = Adam::try_with_groups(vec![ParamGroup::new(&w), ParamGroup::new((&b, &w))], 0.1).unwrap_err();
    assert_eq!(e, OptimError::DuplicateParameter { index: 2, first: 0, shape: vec![1, 2] });
    let msg = panic_message(|| {
        AdamW::new(vec![w.as_dyn(), w.as_dyn()], 0.1);
    });
    assert_eq!(msg, "AdamW: parameter 1 (shape [1, 2]) is the same Var as parameter 0: give each parameter once");
}

#[test]
fn optimisers_reject_a_non_leaf_parameter() {
    let w = Var::new(array![1.0, 2.0]);
    let scaled = w.mul_scalar(2.0); // the result of an op: updating it would not reach w
    let e = Adam::try_new((&w, &scaled), 0.1).unwrap_err();
    assert_eq!(e, OptimError::NotLeaf { index: 1, shape: vec![2] });
    assert!(e.to_string().starts_with("parameter 1 (shape [2]) is the result of an op, not a leaf"), "{e}");
    let msg = panic_message(|| {
        SGD::new(&scaled, 0.1);
    });
    assert!(msg.starts_with("SGD: parameter 0 (shape [2]) is the result of an op"), "{msg}");
    // constants are leaves (a frozen parameter is one): accepted and skipped
    assert!(SGD::try_new(Var::constant(array![1.0]), 0.1).is_ok());
}

#[test]
fn optimisers_reject_a_bad_learning_rate() {
    let w = Var::new(array![1.0]);
    for lr in [f64::NAN, -0.1, f64::INFINITY, f64::NEG_INFINITY] {
        assert_eq!(
            SGD::try_new(&w, lr).unwrap_err().to_string(),
            format!("the learning rate is {lr}: it must be a finite number ≥ 0")
        );
        assert!(matches!(Adam::try_new(&w, lr), Err(OptimError::LearningRate { group: None, .. })));
        assert!(matches!(AdamW::try_new(&w, lr), Err(OptimError::LearningRate { group: None, .. })));
    }
    let msg = panic_message(|| {
        Adam::new(&w, f64::NAN);
    });
    assert_eq!(msg, "Adam: the learning rate is NaN: it must be a finite number ≥ 0");
    // a group's learning rate and weight decay are checked as well
    let e = SGD::try_with_groups(vec![ParamGroup::new(&w).lr(-1.0)], 0.1).unwrap_err();
    assert_eq!(e.to_string(), "the learning rate of parameter group 0 is -1: it must be a finite number ≥ 0");
    let e = SGD::try_with_groups(vec![ParamGroup::new(&w).weight_decay(f64::NAN)], 0.1).unwrap_err();
    assert_eq!(e.to_string(), "the weight decay of parameter group 0 is NaN: it must be a finite number ≥ 0");
    // zero is a valid learning rate (a frozen run)
    assert!(SGD::try_new(&w, 0.0).is_ok());
    // set_lr, used by schedules, checks too
    let msg = panic_message(|| {
        let mut opt = SGD::new(Var::new(array![1.0]), 0.1);
        opt.set_lr(-0.5);
    });
    assert_eq!(msg, "SGD: the learning rate is -0.5: it must be a finite number ≥ 0");
    // builder options
    let msg = panic_message(|| {
        let _ = SGD::new(Var::new(array![1.0]), 0.1).momentum(f64::NAN);
    });
    assert_eq!(msg, "the momentum is NaN: it must be a finite number ≥ 0");
    let msg = panic_message(|| {
        let _ = Adam::new(Var::new(array![1.0]), 0.1).betas(0.9, 1.0);
    });
    assert_eq!(msg, "the β₂ is 1: it must be a finite number ≥ 0 and < 1");
}
