//! The seed's "sigmoid chain": four einsum + sigmoid layers, then the weights' gradients,
//! compared with the values PyTorch computed for the same program.
//!
//! Run: `cargo run --example sigmoid_chain`

use ndarray::{ArrayD, IxDyn};
use serde_json::Value;
use slowgrad::{einsum, Var};

fn tensor(v: &Value) -> ArrayD<f64> {
    let shape: Vec<usize> =
        v["shape"].as_array().expect("shape").iter().map(|d| d.as_u64().expect("dim") as usize).collect();
    let data: Vec<f64> = v["data"].as_array().expect("data").iter().map(|x| x.as_f64().expect("number")).collect();
    ArrayD::from_shape_vec(IxDyn(&shape), data).expect("shape fits data")
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/programs.json"))?;
    let json: Value = serde_json::from_str(&text)?;
    let program = json["programs"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "seed001_sigmoid_chain"))
        .ok_or("seed001_sigmoid_chain missing from programs.json")?;
    println!("{}", program["description"].as_str().unwrap_or(""));

    let x = Var::constant(tensor(&program["x"]));
    let patterns: Vec<&str> =
        program["patterns"].as_array().ok_or("patterns")?.iter().filter_map(|p| p.as_str()).collect();
    let weights: Vec<Var<f64>> =
        program["weights"].as_array().ok_or("weights")?.iter().map(|w| Var::new(tensor(w))).collect();

    let mut h = x;
    for (p, w) in patterns.iter().zip(&weights) {
        h = einsum(p, &[&h, w])?.sigmoid();
        println!("  {p:<12} -> shape {:?}", h.shape());
    }
    h.backward();

    let want_out = tensor(&program["output"]);
    println!("output {:.12} (PyTorch {:.12})", h.item(), want_out.iter().next().copied().unwrap_or(f64::NAN));
    let mut worst = (h.item() - want_out.iter().next().copied().unwrap_or(f64::NAN)).abs();
    for (k, (w, want)) in weights.iter().zip(program["weight_grads"].as_array().ok_or("weight_grads")?).enumerate() {
        let g = w.grad().ok_or("no gradient")?;
        let want = tensor(want);
        let err = (&g - &want).iter().fold(0.0f64, |m, e| m.max(e.abs()));
        worst = worst.max(err);
        println!("grad of weight {k} {:?}: max |slowgrad - PyTorch| = {err:.2e}", g.shape());
    }
    if worst > 1e-9 {
        return Err(format!("differs from PyTorch by {worst:e}").into());
    }
    println!("all weight gradients equal PyTorch's to 1e-9");
    Ok(())
}
