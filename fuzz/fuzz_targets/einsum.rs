//! `einsum()` end to end: pattern, shapes and values come from the input; forward and backward
//! must return `Ok`/`Err` without panicking, and the gradients must have the operands' shapes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ndarray::{ArrayD, IxDyn};
use slowgrad::{einsum, Operand, Var};

fuzz_target!(|data: &[u8]| {
    // layout: [n_ops] [rank, dims...]* [pattern length] pattern values...
    let mut it = data.iter().copied();
    let n_ops = (it.next().unwrap_or(0) % 5) as usize;
    let mut shapes = Vec::new();
    for _ in 0..n_ops {
        let rank = (it.next().unwrap_or(0) % 5) as usize;
        shapes.push((0..rank).map(|_| (it.next().unwrap_or(1) % 5) as usize).collect::<Vec<_>>());
    }
    let len = (it.next().unwrap_or(0) % 32) as usize;
    let bytes: Vec<u8> = it.by_ref().take(len).collect();
    let Ok(pattern) = String::from_utf8(bytes) else { return };
    // bound the work: the product of all dimensions stays small
    let work: usize = shapes.iter().flatten().map(|&d| d.max(1)).product();
    if work > 1 << 16 {
        return;
    }
    let mut value = it.map(|b| b as f64 / 16.0 - 8.0).chain(std::iter::repeat(0.5));
    let vars: Vec<Var<f64>> = shapes
        .iter()
        .map(|s| Var::new(ArrayD::from_shape_fn(IxDyn(s), |_| value.next().unwrap_or(0.0))))
        .collect();
    let ops: Vec<&dyn Operand<f64>> = vars.iter().map(|v| v as &dyn Operand<f64>).collect();
    if let Ok(out) = einsum(&pattern, &ops) {
        out.backward_with(ArrayD::from_elem(IxDyn(&out.shape()), 1.0));
        for (v, s) in vars.iter().zip(&shapes) {
            if let Some(g) = v.grad() {
                assert_eq!(g.shape(), &s[..]);
            }
        }
    }
});
