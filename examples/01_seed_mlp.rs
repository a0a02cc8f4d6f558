//! The seed example: a small MLP with MSE, and every parameter's gradient.
//!
//! Run: `cargo run --release --example seed_mlp`

use ndarray::Array2;
use slowgrad::loss::MSELoss;
use slowgrad::nn::{manual_seed, Linear, Module, Sequential, Sigmoid};
use slowgrad::{Rng, Var};

fn main() {
    manual_seed(0);
    let model = Sequential::new(vec![
        Linear::new(2, 4, true).boxed(),
        Sigmoid.boxed(),
        Linear::new(4, 4, true).boxed(),
        Sigmoid.boxed(),
        Linear::new(4, 1, true).boxed(),
    ]);

    // x: 100×2 uniform in [-1, 1); y = x0·x1 (a target the model cannot fit exactly)
    let mut rng = Rng::new(1);
    let x = Array2::from_shape_simple_fn((100, 2), || rng.uniform(-1.0, 1.0));
    let y = Array2::from_shape_fn((100, 1), |(i, _)| x[[i, 0]] * x[[i, 1]]);
    let (x, y) = (Var::constant(x.into_dyn()), Var::constant(y.into_dyn()));

    let loss = MSELoss.forward(&model.forward(&x), &y);
    loss.backward();

    println!("loss = {:.6}", loss.item());
    for (i, p) in model.parameters().iter().enumerate() {
        println!("parameter {i} {:?}: grad =\n{:.6}", p.shape(), p.grad().expect("a gradient"));
    }
}
