use ndarray::array;
use slowgrad::{einsum, Var};

fn main() {
    let x = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
    let a = array![[1.0, 0.0], [0.0, 1.0]];
    let _y = einsum!("ij,jk->ik", &x, &a);
}
