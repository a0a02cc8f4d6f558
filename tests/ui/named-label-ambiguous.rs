use ndarray::array;
use slowgrad::einsum;

fn main() {
    let a = array![[1.0, 2.0], [3.0, 4.0]];
    let b = array![[1.0, 0.0], [0.0, 1.0]];
    let _y = einsum!("b i, oi -> b o", &a, &b);
}
