// A `Vec` of fixed-rank `Var`s is not a parameter list (an empty `vec![]` must infer
// `Vec<Var<T>>`): the error says to call `.as_dyn()` on the elements.
use slowgrad::optim::SGD;
use slowgrad::Var;

fn main() {
    let w = Var::new(ndarray::array![[1.0f64, 2.0]]);
    let _opt = SGD::new(vec![w.clone()], 0.1);
}
