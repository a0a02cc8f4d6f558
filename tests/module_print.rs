//! Modules print one line per layer, as PyTorch prints a model.

use slowgrad::nn::{
    Conv1d, Conv2d, Dropout, Embedding, Flatten, LayerNorm, Linear, Module, MultiHeadAttention, ReLU, Reshape,
    Sequential, Sigmoid, Tanh, GELU,
};
use slowgrad::seq;

#[test]
fn every_layer_prints_on_one_line() {
    assert_eq!(Linear::<f64>::new(64, 10, true).to_string(), "Linear(in_features=64, out_features=10, bias=true)");
    assert_eq!(Linear::<f32>::new(3, 2, false).to_string(), "Linear(in_features=3, out_features=2, bias=false)");
    assert_eq!(
        Conv1d::<f64>::new(2, 4, 3, 2, 1).to_string(),
        "Conv1d(2, 4, kernel_size=(3,), stride=(2,), padding=(1,))"
    );
    assert_eq!(
        Conv2d::<f64>::new(1, 8, (3, 5), (1, 2), (0, 1)).to_string(),
        "Conv2d(1, 8, kernel_size=(3, 5), stride=(1, 2), padding=(0, 1))"
    );
    let no_bias = Conv2d::<f64>::with_rng(1, 1, (2, 2), (1, 1), (0, 0), false, &mut slowgrad::Rng::new(0));
    assert_eq!(no_bias.to_string(), "Conv2d(1, 1, kernel_size=(2, 2), stride=(1, 1), padding=(0, 0), bias=false)");
    assert_eq!(LayerNorm::<f64>::new(16).to_string(), "LayerNorm((16,), eps=0.00001)");
    assert_eq!(Embedding::<f64>::new(100, 8).to_string(), "Embedding(100, 8)");
    assert_eq!(
        MultiHeadAttention::<f64>::new(8, 2, true).to_string(),
        "MultiHeadAttention(embed_dim=8, num_heads=2, causal=true)"
    );
    assert_eq!(Dropout::new(0.5, 0).to_string(), "Dropout(p=0.5)");
    assert_eq!(
        (ReLU.to_string(), Sigmoid.to_string(), Tanh.to_string(), GELU.to_string()),
        ("ReLU".into(), "Sigmoid".into(), "Tanh".into(), "GELU".into())
    );
    assert_eq!(Flatten.to_string(), "Flatten");
    assert_eq!(Reshape::new(&[1, 8, 8]).to_string(), "Reshape([1, 8, 8])");
}

#[test]
fn sequential_prints_one_line_per_layer() {
    let model: Sequential<f64> = seq![Linear::new(64, 64, true), ReLU, Linear::new(64, 10, true)];
    assert_eq!(
        model.to_string(),
        "Sequential(\n  (0): Linear(in_features=64, out_features=64, bias=true)\n  (1): ReLU\n  (2): Linear(in_features=64, out_features=10, bias=true)\n)"
    );
    assert_eq!(format!("{model}"), model.to_string());
    assert_eq!(Sequential::<f64>::new(vec![]).to_string(), "Sequential()");
}

#[test]
fn nested_containers_are_indented() {
    let model: Sequential<f32> = seq![
        seq![Conv2d::new(1, 4, (3, 3), (1, 1), (1, 1)), ReLU, seq![Dropout::new(0.1, 0)]],
        Flatten,
        Linear::new(256, 10, true),
    ];
    let want = "\
Sequential(
  (0): Sequential(
    (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
    (1): ReLU
    (2): Sequential(
      (0): Dropout(p=0.1)
    )
  )
  (1): Flatten
  (2): Linear(in_features=256, out_features=10, bias=true)
)";
    assert_eq!(model.to_string(), want);
}

/// A module of one's own prints its type's name unless it writes its own line.
#[test]
fn own_modules_print_their_name() {
    struct Doubler;
    impl Module<f64> for Doubler {
        fn forward(&self, x: &slowgrad::Var<f64>) -> slowgrad::Var<f64> {
            x.mul_scalar(2.0)
        }
        fn parameters(&self) -> Vec<slowgrad::Var<f64>> {
            Vec::new()
        }
    }
    struct Shift(f64);
    impl Module<f64> for Shift {
        fn forward(&self, x: &slowgrad::Var<f64>) -> slowgrad::Var<f64> {
            x.add_scalar(self.0)
        }
        fn parameters(&self) -> Vec<slowgrad::Var<f64>> {
            Vec::new()
        }
        fn fmt_module(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "Shift(by={})", self.0)
        }
    }
    let model: Sequential<f64> = seq![Doubler, Shift(1.5)];
    assert_eq!(model.to_string(), "Sequential(\n  (0): Doubler\n  (1): Shift(by=1.5)\n)");
}
