use ndarray::array;
use slowgrad::{einsum, Var};

fn main() {
    let x = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
    let w = Var::new(array![[1.0, 0.0], [0.0, 1.0]]);
    // the result is used afterwards: the error must not cascade
    let z = einsum!("ij,jk->il", &x, &w);
    z.backward();
}
