//! Printing a `Var`: `Display` shows the value as ndarray does, `Debug` the node alone, and
//! `graph` a bounded listing of the graph. None of them recurses, so graphs of any depth print
//! (and drop) without overflowing the stack.

use ndarray::{arr0, array, Array1};
use slowgrad::{no_grad, Var};
use std::time::{Duration, Instant};

const DEPTH: usize = 100_000;

#[test]
fn display_prints_the_values_then_shape_and_requires_grad() {
    let x = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
    assert_eq!(x.to_string(), "[[1, 2],\n [3, 4]], shape=[2, 2], requires_grad=true");
    let c = Var::constant(array![0.5f32, -1.25, 3.0]);
    assert_eq!(c.to_string(), "[0.5, -1.25, 3], shape=[3], requires_grad=false");
    // the precision applies to the elements
    let t = Var::new(array![1.0 / 3.0, 2.0 / 3.0]).mul_scalar(3.0);
    assert_eq!(format!("{t:.3}"), "[1.000, 2.000], shape=[2], requires_grad=true");
    // a scalar, and a value made under no_grad
    let s = no_grad(|| Var::new(arr0(2.5)).mul_scalar(2.0));
    assert_eq!(s.to_string(), "5, shape=[], requires_grad=false");
}

#[test]
fn debug_of_a_leaf_an_op_and_a_released_op() {
    let x = Var::new(array![1.0, 2.0, 3.0]);
    let c = Var::constant(array![1.0, 1.0, 1.0]);
    assert_eq!(format!("{x:?}"), format!("Var {{ id: {}, op: leaf, shape: [3], requires_grad: true }}", x.id()));
    assert_eq!(format!("{c:?}"), format!("Var {{ id: {}, op: leaf, shape: [3], requires_grad: false }}", c.id()));
    let y = &x + &c;
    assert_eq!(
        format!("{y:?}"),
        format!("Var {{ id: {}, op: add, inputs: [{}, {}], shape: [3], requires_grad: true }}", y.id(), x.id(), c.id())
    );
    let t = y.tanh();
    t.sum().backward();
    assert_eq!(
        format!("{t:?}"),
        format!("Var {{ id: {}, op: tanh, inputs: released by backward, shape: [3], requires_grad: true }}", t.id())
    );
}

/// `x = x + c` repeated `DEPTH` times.
fn deep_sum_chain() -> (Var<f64, ndarray::Ix1>, Var<f64, ndarray::Ix1>) {
    let x = Var::new(Array1::from_elem(2, 0.5));
    let c = Var::constant(Array1::from_elem(2, 1e-6));
    let mut y = x.clone();
    for _ in 0..DEPTH {
        y = &y + &c;
    }
    (x, y)
}

#[test]
fn debug_of_a_very_deep_graph_is_short_and_fast() {
    let (x, y) = deep_sum_chain();
    let start = Instant::now();
    let text = format!("{y:?}");
    let pretty = format!("{y:#?}");
    assert!(start.elapsed() < Duration::from_millis(100), "{:?}", start.elapsed());
    assert!(text.len() < 120, "{} characters: {text}", text.len());
    assert!(text.contains("op: add, inputs: ["), "{text}");
    assert!(pretty.lines().count() < 20, "{pretty}"); // `{:#?}`: a field (or list entry) a line
                                                      // the graph listing stops where asked, at any depth
    let start = Instant::now();
    let graph = y.graph(5);
    assert!(start.elapsed() < Duration::from_millis(100), "{:?}", start.elapsed());
    assert_eq!(graph.lines().count(), 6, "{graph}");
    assert!(graph.lines().next().unwrap().ends_with(" add [2]"), "{graph}");
    assert_eq!(graph.lines().last(), Some("... stopped after 5 nodes"));
    // indentation stops growing at 40 levels, so a long listing stays linear in size
    let long = y.graph(1000);
    assert_eq!(long.lines().count(), 1001);
    assert!(long.lines().all(|l| l.len() < 120), "a line too long");
    drop(y); // 10^5 nodes are released without recursion
             // the leaf is intact and usable
    assert_eq!(x.value(), Array1::from_elem(2, 0.5));
}

#[test]
fn deep_tanh_chains_print_and_drop() {
    let x = Var::new(array![0.3]);
    let mut y = x.clone();
    for _ in 0..DEPTH {
        y = y.tanh();
    }
    assert!(format!("{y:?}").contains("op: tanh"));
    assert_eq!(y.graph(2).lines().count(), 3);
    drop(y);
}
