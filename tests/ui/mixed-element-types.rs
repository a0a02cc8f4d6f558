use ndarray::{Array1, Array2};
use slowgrad::einsum;

fn main() {
    let m = Array2::<f64>::zeros((2, 3));
    let v = Array1::<f32>::zeros(3);
    let _y = einsum!("ij,j->i", &m, &v);
}
