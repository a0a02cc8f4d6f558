//! Programs from the PyTorch oracle (`tests/fixtures/programs.json`, float64): an MLP with MSE,
//! a chain of einsums and sigmoids, and cross-entropy. Loss and gradients agree to 1e-9.

mod common;

use common::{programs, rel_err, Tensor};
use serde_json::Value;
use slowgrad::loss::{cross_entropy, MSELoss};
use slowgrad::nn::{Linear, Module, Sequential, Sigmoid};
use slowgrad::{einsum, Var};

fn program(name: &str) -> Value {
    let all = programs();
    all["programs"].as_array().expect("programs").iter().find(|p| p["name"] == name).expect("program present").clone()
}

fn tensor(v: &Value) -> Tensor {
    let shape = v["shape"].as_array().expect("shape").iter().map(|d| d.as_u64().expect("dim") as usize).collect();
    let data = v["data"].as_array().expect("data").iter().map(|x| x.as_f64().expect("number")).collect();
    Tensor { shape, data }
}

fn tensors(v: &Value) -> Vec<Tensor> {
    v.as_array().expect("list").iter().map(tensor).collect()
}

#[track_caller]
fn close(what: &str, got: &ndarray::ArrayD<f64>, want: &Tensor) {
    let e = rel_err(got, want);
    assert!(e <= 1e-9, "{what}: relative error {e:e}");
}

#[test]
fn seed000_mlp_mse() {
    let p = program("seed000_mlp_mse");
    let ps = tensors(&p["params"]);
    let lin = |w: &Tensor, b: &Tensor| {
        Linear::from_parameters(Var::new(w.array::<f64>()), Some(Var::new(b.array::<f64>()))).boxed()
    };
    let model = Sequential::new(vec![
        lin(&ps[0], &ps[1]),
        Sigmoid.boxed(),
        lin(&ps[2], &ps[3]),
        Sigmoid.boxed(),
        lin(&ps[4], &ps[5]),
    ]);
    let x = Var::constant(tensor(&p["x"]).array::<f64>());
    let y = Var::constant(tensor(&p["y"]).array::<f64>());
    let loss = MSELoss.forward(&model.forward(&x), &y);
    close("loss", &loss.value(), &tensor(&p["loss"]));
    loss.backward();
    let want = tensors(&p["param_grads"]);
    let names: Vec<&str> =
        p["param_names"].as_array().expect("names").iter().map(|n| n.as_str().expect("str")).collect();
    let params = model.parameters();
    assert_eq!(params.len(), want.len());
    for ((param, w), name) in params.iter().zip(&want).zip(names) {
        close(name, &param.grad().expect("gradient"), w);
    }
}

#[test]
fn seed001_sigmoid_chain() {
    let p = program("seed001_sigmoid_chain");
    let weights: Vec<Var<f64>> = tensors(&p["weights"]).iter().map(|w| Var::new(w.array::<f64>())).collect();
    let patterns: Vec<&str> =
        p["patterns"].as_array().expect("patterns").iter().map(|s| s.as_str().expect("str")).collect();
    let mut h = Var::constant(tensor(&p["x"]).array::<f64>());
    for (pat, w) in patterns.iter().zip(&weights) {
        h = einsum(pat, &[&h, w]).expect("pattern fits").sigmoid();
    }
    close("output", &h.value(), &tensor(&p["output"]));
    h.backward();
    for (k, (w, want)) in weights.iter().zip(tensors(&p["weight_grads"])).enumerate() {
        close(&format!("weight {k}"), &w.grad().expect("gradient"), &want);
    }
}

#[test]
fn cross_entropy_logits_gradient() {
    let p = program("cross_entropy");
    let logits = Var::new(tensor(&p["logits"]).array::<f64>());
    let target: Vec<usize> =
        p["target"].as_array().expect("target").iter().map(|t| t.as_u64().expect("int") as usize).collect();
    let loss = cross_entropy(&logits, &target);
    close("loss", &loss.value(), &tensor(&p["loss"]));
    loss.backward();
    close("logits grad", &logits.grad().expect("gradient"), &tensor(&p["logits_grad"]));
}
