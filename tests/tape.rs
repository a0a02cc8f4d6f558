//! The tape: topological order, accumulation, no_grad, detach, released graphs, create_graph.

use ndarray::{arr0, array, Array2, ArrayD, IxDyn};
use slowgrad::{einsum, no_grad, BackwardError, BackwardOptions, Var};

#[test]
fn breadth_first_order_would_be_wrong() {
    // x = 2, a = 2x, b = 3a, c = 5b, L = a + c: dL/dx = 2 + 2*3*5 = 32.
    // `a` is reached from L directly and through c -> b; it must be processed once, after both.
    let x = Var::new(arr0(2.0));
    let a = x.mul_scalar(2.0);
    let b = a.mul_scalar(3.0);
    let c = b.mul_scalar(5.0);
    let l = &a + &c;
    l.backward();
    assert_eq!(x.grad().unwrap(), arr0(32.0));
    assert_eq!(l.item(), 64.0);
}

#[test]
fn a_var_used_twice_accumulates_both_contributions() {
    let x = Var::new(array![1.0, 2.0, 3.0]);
    // L = sum_i x_i * x_i -> dL/dx = 2x
    let l = einsum("i,i->", &[&x, &x]).unwrap();
    l.backward();
    assert_eq!(x.grad().unwrap(), array![2.0, 4.0, 6.0]);
}

#[test]
fn gradients_accumulate_until_zero_grad() {
    let x = Var::new(array![1.0, -1.0]);
    for _ in 0..3 {
        einsum("i->", &[&x]).unwrap().backward();
    }
    assert_eq!(x.grad().unwrap(), array![3.0, 3.0]);
    x.zero_grad();
    assert!(x.grad().is_none());
    einsum("i->", &[&x]).unwrap().backward();
    assert_eq!(x.grad().unwrap(), array![1.0, 1.0]);
}

#[test]
fn constants_detach_and_no_grad_record_nothing() {
    let c = Var::constant(array![1.0, 2.0]);
    let x = Var::new(array![3.0, 4.0]);
    let y = einsum("i,i->", &[&c, &x]).unwrap();
    assert!(y.requires_grad());
    y.backward();
    assert!(c.grad().is_none());
    assert_eq!(x.grad().unwrap(), array![1.0, 2.0]);

    let d = x.detach();
    assert!(!d.requires_grad());
    assert!(d.is_leaf());
    let z = einsum("i->", &[&d]).unwrap();
    assert!(!z.requires_grad());

    let w = no_grad(|| einsum("i,i->", &[&x, &x]).unwrap());
    assert!(!w.requires_grad());
    assert!(slowgrad::is_grad_enabled());
}

#[test]
fn graph_is_released_after_backward_unless_retained() {
    let x = Var::new(array![1.0, 2.0]);
    let y = einsum("i,i->", &[&x, &x]).unwrap();
    y.try_backward(BackwardOptions { retain_graph: true, create_graph: false }).unwrap();
    y.backward();
    assert_eq!(x.grad().unwrap(), array![4.0, 8.0]);
    let err = y.try_backward(BackwardOptions::default()).unwrap_err();
    assert!(matches!(err, BackwardError::GraphFreed { .. }), "{err}");
    assert!(err.to_string().contains("retain_graph"));
}

#[test]
fn seed_errors_are_reported() {
    let x = Var::new(array![1.0, 2.0]);
    let y = einsum("i->i", &[&x]).unwrap();
    assert!(matches!(y.try_backward(BackwardOptions::default()), Err(BackwardError::NotScalar { .. })));
    let err = y.try_backward_with(array![1.0, 2.0, 3.0], BackwardOptions::default()).unwrap_err();
    assert_eq!(err.to_string(), "the upstream gradient has shape [3] but the output has shape [2]");
}

#[test]
#[should_panic(expected = "backward() needs a single-element output")]
fn backward_on_a_matrix_panics_with_advice() {
    let x = Var::new(Array2::<f64>::ones((2, 2)));
    einsum("ij->ij", &[&x]).unwrap().backward();
}

#[test]
fn create_graph_gives_differentiable_gradients() {
    // f(x) = sum(x^3) via einsum; f'(x) = 3x^2; the gradient of sum(f'(x)) is 6x.
    let x = Var::new(array![1.0, 2.0]).as_dyn();
    let f = einsum("i,i,i->", &[&x, &x, &x]).unwrap();
    f.try_backward(BackwardOptions { retain_graph: true, create_graph: true }).unwrap();
    let g = x.grad_var().unwrap();
    assert_eq!(g.value(), array![3.0, 12.0].into_dyn());
    assert!(g.requires_grad());
    x.zero_grad();
    let s = einsum("i->", &[&g]).unwrap();
    s.backward();
    assert_eq!(x.grad().unwrap(), array![6.0, 12.0].into_dyn());
}

#[test]
fn deep_chains_drop_without_overflowing_the_stack() {
    let x = Var::new(arr0(1.0));
    let mut y = x.clone();
    for _ in 0..200_000 {
        y = y.add_scalar(0.0);
    }
    drop(y);
    let mut y = x.as_dyn();
    for _ in 0..1000 {
        y = y.mul_scalar(1.0);
    }
    y.backward();
    assert_eq!(x.grad().unwrap(), arr0(1.0));
}

#[test]
fn debug_prints_the_node_and_graph_prints_the_graph() {
    let x = Var::new(ArrayD::<f64>::zeros(IxDyn(&[2])));
    let y = einsum("i->", &[&x]).unwrap();
    let text = format!("{y:?}");
    assert_eq!(
        text,
        format!("Var {{ id: {}, op: einsum, inputs: [{}], shape: [], requires_grad: true }}", y.id(), x.id())
    );
    let graph = y.graph(10);
    assert!(graph.contains("einsum []"), "{graph}");
    assert!(graph.contains("leaf [2] requires_grad"), "{graph}");
}

#[test]
fn a_backward_with_too_few_or_too_many_gradients_is_an_error() {
    use slowgrad::record;
    let (a, b) = (Var::new(ndarray::array![1.0, 2.0]).as_dyn(), Var::new(ndarray::array![3.0, 4.0]).as_dyn());
    let sum = a.value() + b.value();
    // two inputs, one gradient
    let y = record("short", sum.clone(), &[a.clone(), b.clone()], |g: &Var<f64>, _: &[Var<f64>], _: &Var<f64>| {
        vec![Some(g.clone())]
    });
    let e = y.try_backward_with(ndarray::array![1.0, 1.0], BackwardOptions::default()).unwrap_err();
    assert_eq!(e, BackwardError::GradientCount { op: "short", expected: 2, got: 1 });
    assert!(e.to_string().contains("returned 1 gradients for 2 inputs"), "{e}");
    // two inputs, three gradients
    let y =
        record("long", sum, &[a, b], |g: &Var<f64>, _: &[Var<f64>], _: &Var<f64>| vec![Some(g.clone()), None, None]);
    let e = y.try_backward_with(ndarray::array![1.0, 1.0], BackwardOptions::default()).unwrap_err();
    assert_eq!(e, BackwardError::GradientCount { op: "long", expected: 2, got: 3 });
}
