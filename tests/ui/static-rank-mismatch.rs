use ndarray::{Array2, Array3};
use slowgrad::{einsum, Var};

fn main() {
    let x = Var::new(Array2::<f64>::zeros((2, 3)));
    let t = Var::new(Array3::<f64>::zeros((3, 4, 5)));
    let _y = einsum!("ij,jk->ik", &x, &t);
}
