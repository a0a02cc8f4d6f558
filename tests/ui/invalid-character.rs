use ndarray::array;
use slowgrad::einsum;

fn main() {
    let a = array![[1.0, 2.0], [3.0, 4.0]];
    let _t = einsum!("i1->i", &a);
}
