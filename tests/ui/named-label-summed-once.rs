// A named label that appears once and not in the output is summed away, as numpy does; the
// macro warns at the pattern (a typo such as `inpt` for `inp`). Denied here to show the note.
#![deny(deprecated)]
use ndarray::Array2;
use slowgrad::einsum;

fn main() {
    let x = Array2::<f64>::zeros((4, 3));
    let w = Array2::<f64>::zeros((2, 3));
    let _y: Array2<f64> = einsum!("batch inp, out inpt -> batch out", &x, &w);
}
