//! Checkpoints: resuming from a saved model and optimiser reproduces the uninterrupted run's
//! losses bit for bit (SGD with momentum, Adam, AdamW; f64 and f32), the files are standard
//! safetensors, parameter names follow PyTorch's `state_dict`, and a checkpoint that does not
//! fit is a clear error that changes nothing.

use ndarray::{Array2, ArrayD, IxDyn};
use slowgrad::nn::{
    manual_seed, Conv1d, Conv2d, Embedding, LayerNorm, Linear, Module, MultiHeadAttention, Sequential, Tanh,
};
use slowgrad::optim::{Adam, AdamW, Optimizer, OptimizerState, SGD};
use slowgrad::{seq, Float, Var};
use slowgrad_runtime::checkpoint::{
    load_module, load_module_bytes, load_optimizer, load_optimizer_bytes, module_bytes, optimizer_bytes, save_module,
    save_optimizer, CheckpointError,
};
use std::path::PathBuf;

/// A file name in the temporary directory, distinct per test and process.
fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("slowgrad-{}-{name}.safetensors", std::process::id()))
}

fn model<T: Float>(seed: u64) -> Sequential<T> {
    manual_seed(seed);
    seq![Linear::new(4, 8, true), Tanh, Linear::new(8, 3, true)]
}

/// A fixed regression problem: 16 rows of 4 features, 3 targets.
fn data<T: Float>() -> (Var<T>, Var<T>) {
    let x = Array2::from_shape_fn((16, 4), |(i, j)| T::cast(((i * 7 + j * 3) % 11) as f64 / 5.0 - 1.0));
    let y = Array2::from_shape_fn((16, 3), |(i, j)| T::cast(((i + 2 * j) % 5) as f64 / 2.0 - 1.0));
    (Var::constant(x.into_dyn()), Var::constant(y.into_dyn()))
}

/// `steps` training steps; the loss of each (as bits, to compare exactly).
fn train<T: Float>(model: &Sequential<T>, opt: &mut dyn Optimizer, steps: usize) -> Vec<f64> {
    let (x, y) = data::<T>();
    (0..steps)
        .map(|_| {
            opt.zero_grad();
            let loss = slowgrad::loss::mse_loss(&model.forward(&x), &y);
            loss.backward();
            opt.step();
            loss.item().as_f64()
        })
        .collect()
}

/// Trains `n` steps uninterrupted, and `k` steps, a save, a load into a fresh model and
/// optimiser (initialised differently), then `n − k` steps: the losses must be equal bit for bit.
fn check_resume<T: Float, O: Optimizer + OptimizerState<T>>(
    name: &str,
    make: impl Fn(Vec<Var<T>>) -> O,
    n: usize,
    k: usize,
) {
    let whole = {
        let m = model::<T>(1);
        let mut opt = make(m.parameters());
        train(&m, &mut opt, n)
    };
    let (mpath, opath) = (temp(&format!("{name}-model")), temp(&format!("{name}-opt")));
    let first = {
        let m = model::<T>(1);
        let mut opt = make(m.parameters());
        let losses = train(&m, &mut opt, k);
        save_module(&m, &mpath).unwrap();
        save_optimizer(&opt, &opath).unwrap();
        losses
    };
    let m = model::<T>(2); // other initial values: only the checkpoint can make it match
    assert_ne!(m.parameters()[0].value(), model::<T>(1).parameters()[0].value());
    let mut opt = make(m.parameters());
    load_module(&m, &mpath).unwrap();
    load_optimizer(&mut opt, &opath).unwrap();
    let rest = train(&m, &mut opt, n - k);
    std::fs::remove_file(&mpath).ok();
    std::fs::remove_file(&opath).ok();
    let resumed: Vec<u64> = first.iter().chain(&rest).map(|l| l.to_bits()).collect();
    let expected: Vec<u64> = whole.iter().map(|l| l.to_bits()).collect();
    assert_eq!(resumed, expected, "{name}: resumed {first:?} + {rest:?}, uninterrupted {whole:?}");
    // the losses moved, so the optimiser state mattered
    assert!(whole[n - 1] < whole[0]);
}

#[test]
fn resume_reproduces_losses_sgd_momentum() {
    check_resume::<f64, _>("sgd64", |p| SGD::new(p, 0.05).momentum(0.9).weight_decay(1e-3), 12, 5);
    check_resume::<f32, _>("sgd32", |p| SGD::new(p, 0.05).momentum(0.9), 12, 5);
}

#[test]
fn resume_reproduces_losses_adam() {
    check_resume::<f64, _>("adam64", |p| Adam::new(p, 0.01), 12, 5);
    check_resume::<f32, _>("adam32", |p| Adam::new(p, 0.01), 12, 7);
    check_resume::<f64, _>("adamw64", |p| AdamW::new(p, 0.01).weight_decay(0.1), 12, 5);
}

/// Without the optimiser's state (a fresh Adam on the loaded model), the run differs: the
/// resume test above depends on the moments and the step count being restored.
#[test]
fn resume_without_optimizer_state_differs() {
    let m = model::<f64>(1);
    let mut opt = Adam::new(m.parameters(), 0.01);
    let all = train(&m, &mut opt, 8);
    let m2 = model::<f64>(1);
    let mut opt2 = Adam::new(m2.parameters(), 0.01);
    train(&m2, &mut opt2, 4);
    let fresh = model::<f64>(3);
    load_module_bytes(&fresh, &module_bytes(&m2).unwrap()).unwrap();
    let rest = train(&fresh, &mut Adam::new(fresh.parameters(), 0.01), 4);
    assert_eq!(rest[0].to_bits(), all[4].to_bits()); // same parameters: same first loss
    assert_ne!(rest[1].to_bits(), all[5].to_bits()); // a first Adam step from scratch differs
}

/// The file is standard safetensors: an 8-byte little-endian header length, a JSON header with
/// each tensor's dtype, shape and byte range, then the values in row-major order.
#[test]
fn module_file_is_safetensors() {
    let w = Var::new(ndarray::array![[1.5, -2.0, 0.25], [4.0, 5.0, -6.0]].into_dyn());
    let b = Var::new(ndarray::array![0.5, -0.5].into_dyn());
    let bytes = module_bytes(&Linear::from_parameters(w, Some(b))).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let data = &bytes[8 + n..];
    assert_eq!(header["weight"]["dtype"], "F64");
    assert_eq!(header["weight"]["shape"], serde_json::json!([2, 3]));
    assert_eq!(header["bias"]["shape"], serde_json::json!([2]));
    let read = |name: &str| -> Vec<f64> {
        let range = &header[name]["data_offsets"];
        let (a, b) = (range[0].as_u64().unwrap() as usize, range[1].as_u64().unwrap() as usize);
        data[a..b].chunks(8).map(|c| f64::from_le_bytes(c.try_into().unwrap())).collect()
    };
    assert_eq!(read("weight"), [1.5, -2.0, 0.25, 4.0, 5.0, -6.0]);
    assert_eq!(read("bias"), [0.5, -0.5]);

    // f32 models store F32
    let bytes = module_bytes(&Linear::<f32>::new(2, 2, false)).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    assert_eq!(header["weight"]["dtype"], "F32");
    assert!(header.get("bias").is_none());
}

fn names<T: Float>(m: &dyn Module<T>) -> Vec<String> {
    m.named_parameters().into_iter().map(|(n, _)| n).collect()
}

/// PyTorch `state_dict`-style names for every layer, nested through `Sequential`.
#[test]
fn named_parameters_of_every_layer() {
    assert_eq!(names::<f64>(&Linear::new(2, 3, true)), ["weight", "bias"]);
    assert_eq!(names::<f64>(&Linear::new(2, 3, false)), ["weight"]);
    assert_eq!(names::<f64>(&Conv1d::new(1, 2, 3, 1, 0)), ["weight", "bias"]);
    assert_eq!(names::<f64>(&Conv2d::new(1, 2, (3, 3), (1, 1), (0, 0))), ["weight", "bias"]);
    assert_eq!(names::<f64>(&LayerNorm::new(4)), ["weight", "bias"]);
    assert_eq!(names::<f64>(&Embedding::new(5, 2)), ["weight"]);
    let att = names::<f64>(&MultiHeadAttention::new(4, 2, true));
    let want = ["query", "key", "value", "out"].iter().flat_map(|l| [format!("{l}.weight"), format!("{l}.bias")]);
    assert_eq!(att, want.collect::<Vec<_>>());
    let model: Sequential<f64> = seq![
        Embedding::new(10, 4),
        seq![LayerNorm::new(4), MultiHeadAttention::new(4, 1, false)],
        Tanh,
        Linear::new(4, 2, true),
    ];
    let n = names(&model);
    assert_eq!(n[..3], ["layers.0.weight", "layers.1.layers.0.weight", "layers.1.layers.0.bias"]);
    assert_eq!(n[3], "layers.1.layers.1.query.weight");
    assert_eq!(n[n.len() - 2..], ["layers.3.weight", "layers.3.bias"]);
    // the names follow parameters(): same nodes in the same order
    let ids: Vec<u64> = model.named_parameters().iter().map(|(_, p)| p.id()).collect();
    assert_eq!(ids, model.parameters().iter().map(Var::id).collect::<Vec<_>>());
    // a whole transformer-like model round-trips
    let other: Sequential<f64> = seq![
        Embedding::new(10, 4),
        seq![LayerNorm::new(4), MultiHeadAttention::new(4, 1, false)],
        Tanh,
        Linear::new(4, 2, true),
    ];
    load_module_bytes(&other, &module_bytes(&model).unwrap()).unwrap();
    assert!(other.parameters().iter().zip(model.parameters()).all(|(a, b)| a.value() == b.value()));
}

/// Every parameter's value, to check that a failed load changed nothing.
fn values<T: Float>(m: &dyn Module<T>) -> Vec<ArrayD<T>> {
    m.parameters().iter().map(|p| p.value()).collect()
}

#[test]
fn missing_tensor_is_an_error_naming_it() {
    let no_bias = module_bytes(&seq![Linear::<f64>::new(3, 2, false)]).unwrap();
    let m = seq![Linear::<f64>::new(3, 2, true)];
    let before = values(&m);
    let e = load_module_bytes(&m, &no_bias).unwrap_err();
    assert!(matches!(&e, CheckpointError::Missing { name, shape } if name == "layers.0.bias" && shape == &[2]));
    assert_eq!(e.to_string(), "tensor `layers.0.bias` (shape [2]) is missing from the checkpoint");
    assert_eq!(values(&m), before); // the weight, which fits, was not loaded either
}

#[test]
fn extra_tensor_is_an_error_naming_it() {
    let two = module_bytes(&seq![Linear::<f64>::new(3, 3, true), Linear::new(3, 1, true)]).unwrap();
    let m = seq![Linear::<f64>::new(3, 3, true)];
    let before = values(&m);
    let e = load_module_bytes(&m, &two).unwrap_err();
    match &e {
        CheckpointError::Unexpected { name, shape } => {
            assert!(name.starts_with("layers.1."), "{name}");
            assert!(shape == &[1, 3] || shape == &[1]);
        }
        other => panic!("expected an unexpected tensor, got {other:?}"),
    }
    assert!(e.to_string().contains("`layers.1."), "{e}");
    assert_eq!(values(&m), before);
}

#[test]
fn misshaped_tensor_is_an_error_naming_it_and_the_shapes() {
    let bytes = module_bytes(&Conv2d::<f32>::new(1, 4, (3, 3), (1, 1), (0, 0))).unwrap();
    let m = Conv2d::<f32>::new(1, 4, (5, 5), (1, 1), (0, 0));
    let before = values(&m);
    let e = load_module_bytes(&m, &bytes).unwrap_err();
    assert!(matches!(&e, CheckpointError::Shape { name, expected, found }
        if name == "weight" && expected == &[4, 1, 5, 5] && found == &[4, 1, 3, 3]));
    assert_eq!(e.to_string(), "tensor `weight` has shape [4, 1, 3, 3] in the checkpoint, expected [4, 1, 5, 5]");
    assert_eq!(values(&m), before);
}

#[test]
fn wrong_dtype_is_an_error_naming_the_types() {
    let path = temp("dtype");
    save_module(&LayerNorm::<f32>::new(3), &path).unwrap();
    let m = LayerNorm::<f64>::new(3);
    m.weight.update(|w| w.fill(7.0));
    let e = load_module(&m, &path).unwrap_err();
    std::fs::remove_file(&path).ok();
    assert!(matches!(&e, CheckpointError::Dtype { name, expected, found }
        if name == "weight" && expected == "f64" && found == "f32"));
    assert_eq!(e.to_string(), "tensor `weight` holds f32 values in the checkpoint, expected f64");
    assert_eq!(m.weight.value(), ArrayD::from_elem(IxDyn(&[3]), 7.0));
    // the error is a std::error::Error
    let _: &dyn std::error::Error = &e;
}

#[test]
fn not_a_checkpoint_is_an_error() {
    let e = load_module_bytes(&Linear::<f64>::new(1, 1, true), b"not a safetensors file").unwrap_err();
    assert!(matches!(e, CheckpointError::Format { .. }));
    assert!(e.to_string().starts_with("not a safetensors checkpoint: "), "{e}");
    let path = temp("no-such-file");
    let e = load_module(&Linear::<f64>::new(1, 1, true), &path).unwrap_err();
    assert!(matches!(&e, CheckpointError::Io { path: p, .. } if p == &path));
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn optimizer_state_errors() {
    let m = model::<f64>(1);
    let mut adam = Adam::new(m.parameters(), 0.01);
    train(&m, &mut adam, 2);
    let bytes = optimizer_bytes(&adam).unwrap();
    // another kind of optimiser
    let mut sgd = SGD::new(m.parameters(), 0.1).momentum(0.9);
    let e = load_optimizer_bytes(&mut sgd, &bytes).unwrap_err();
    assert_eq!(e.to_string(), "the checkpoint's `optimizer` is `Adam`, expected `SGD`");
    // another number of parameters
    let mut fewer = Adam::new(m.layers[0].parameters(), 0.01);
    let e = load_optimizer_bytes(&mut fewer, &bytes).unwrap_err();
    assert_eq!(e.to_string(), "the checkpoint's `parameters` is `4`, expected `2`");
    // the same number of parameters, other shapes: the first buffer's shape is named
    let other = seq![Linear::<f64>::new(5, 8, true), Tanh, Linear::new(8, 3, true)];
    let mut misfit = Adam::new(other.parameters(), 0.01);
    let before = misfit.state_dict();
    let e = load_optimizer_bytes(&mut misfit, &bytes).unwrap_err();
    assert_eq!(e.to_string(), "tensor `exp_avg.0` has shape [8, 4] in the checkpoint, expected [8, 5]");
    assert_eq!(misfit.state_dict(), before);
    // f32 state into an f64 optimiser
    let m32 = model::<f32>(1);
    let mut adam32 = Adam::new(m32.parameters(), 0.01);
    train(&m32, &mut adam32, 1);
    let e = load_optimizer_bytes(&mut Adam::new(m.parameters(), 0.01), &optimizer_bytes(&adam32).unwrap()).unwrap_err();
    assert!(matches!(&e, CheckpointError::Dtype { expected, found, .. } if expected == "f64" && found == "f32"));
    // a module's file is not an optimiser's
    let e = load_optimizer_bytes(&mut adam, &module_bytes(&m).unwrap()).unwrap_err();
    assert_eq!(e.to_string(), "the checkpoint's `optimizer` is `nothing`, expected `the optimiser's name`");
}

/// The saved state is the optimiser's: momentum buffers after two SGD steps on a quadratic,
/// computed by hand, and Adam's step count.
#[test]
fn optimizer_state_holds_the_buffers() {
    let w = Var::new(ndarray::array![1.0f64, -2.0].into_dyn());
    let mut opt = SGD::new(vec![w.clone()], 0.1).momentum(0.5);
    for _ in 0..2 {
        opt.zero_grad();
        (&w * &w).sum().backward(); // gradient 2w
        opt.step();
    }
    // v1 = 2·(1, −2) = (2, −4); w1 = (0.8, −1.6); v2 = 0.5·v1 + 2·w1 = (2.6, −5.2)
    let state = opt.state_dict();
    assert_eq!(state.step, 2);
    let (name, v) = &state.buffers[0];
    assert_eq!(name, "momentum_buffer.0");
    assert!((v[0] - 2.6).abs() < 1e-12 && (v[1] + 5.2).abs() < 1e-12, "{v}");
    // through a file and back
    let path = temp("sgd-state");
    save_optimizer(&opt, &path).unwrap();
    let mut other = SGD::new(vec![Var::new(ndarray::array![0.0, 0.0].into_dyn())], 0.1).momentum(0.5);
    load_optimizer(&mut other, &path).unwrap();
    std::fs::remove_file(&path).ok();
    assert_eq!(other.state_dict(), state);
}
