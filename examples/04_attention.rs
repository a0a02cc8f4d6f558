//! A tiny character-level transformer trained on eleven of Shakespeare's sonnets
//! (`data/sonnets.txt`, public domain): token and position embeddings, one pre-norm block of
//! causal multi-head self-attention (every product an einsum) and a GELU MLP, layer norms, and a
//! linear head. Prints the loss falling and a sample of generated text.
//!
//! Run: `cargo run --release --example attention`

use ndarray::{Array2, ArrayD, IxDyn};
use slowgrad::loss::cross_entropy;
use slowgrad::nn::{Embedding, LayerNorm, Linear, Module, MultiHeadAttention, GELU};
use slowgrad::optim::{AdamW, CosineLR, LrSchedule, Optimizer};
use slowgrad::{no_grad, seq, Rng, Var};
use std::time::Instant;

const CONTEXT: usize = 32;
const DIM: usize = 48;
const HEADS: usize = 4;

struct Block {
    ln1: LayerNorm<f32>,
    attn: MultiHeadAttention<f32>,
    ln2: LayerNorm<f32>,
    mlp: slowgrad::nn::Sequential<f32>,
}

impl Block {
    fn new(rng: &mut Rng) -> Block {
        Block {
            ln1: LayerNorm::new(DIM),
            attn: MultiHeadAttention::with_rng(DIM, HEADS, true, rng),
            ln2: LayerNorm::new(DIM),
            mlp: seq![Linear::with_rng(DIM, 4 * DIM, true, rng), GELU, Linear::with_rng(4 * DIM, DIM, true, rng)],
        }
    }
}

impl Module<f32> for Block {
    fn forward(&self, x: &Var<f32>) -> Var<f32> {
        let x = x + &self.attn.forward(&self.ln1.forward(x));
        &x + &self.mlp.forward(&self.ln2.forward(&x))
    }
    fn parameters(&self) -> Vec<Var<f32>> {
        [self.ln1.parameters(), self.attn.parameters(), self.ln2.parameters(), self.mlp.parameters()].concat()
    }
}

struct CharTransformer {
    tokens: Embedding<f32>,
    positions: Embedding<f32>,
    block: Block,
    ln: LayerNorm<f32>,
    head: Linear<f32>,
}

impl CharTransformer {
    fn new(vocab: usize, rng: &mut Rng) -> CharTransformer {
        let small = |e: Embedding<f32>| {
            e.weight.update(|w| w.mapv_inplace(|v| v * 0.1));
            e
        };
        CharTransformer {
            tokens: small(Embedding::with_rng(vocab, DIM, rng)),
            positions: small(Embedding::with_rng(CONTEXT, DIM, rng)),
            block: Block::new(rng),
            ln: LayerNorm::new(DIM),
            head: Linear::with_rng(DIM, vocab, true, rng),
        }
    }

    /// Logits `(batch, time, vocab)` for ids `(batch, time)`.
    fn logits(&self, ids: &ArrayD<usize>) -> Var<f32> {
        let t = ids.shape()[1];
        let pos = ArrayD::from_shape_vec(IxDyn(&[t]), (0..t).collect()).expect("t positions");
        let x = &self.tokens.lookup(ids) + &self.positions.lookup(&pos);
        self.head.forward(&self.ln.forward(&self.block.forward(&x)))
    }

    fn parameters(&self) -> Vec<Var<f32>> {
        [
            self.tokens.parameters(),
            self.positions.parameters(),
            self.block.parameters(),
            self.ln.parameters(),
            self.head.parameters(),
        ]
        .concat()
    }
}

fn main() {
    let start = Instant::now();
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/sonnets.txt")).expect("data/sonnets.txt");
    let mut vocab: Vec<char> = text.chars().collect();
    vocab.sort_unstable();
    vocab.dedup();
    let encode = |c: char| vocab.binary_search(&c).expect("in vocabulary");
    let ids: Vec<usize> = text.chars().map(encode).collect();
    println!("text: {} characters, vocabulary of {}", ids.len(), vocab.len());

    let mut rng = Rng::new(0);
    let model = CharTransformer::new(vocab.len(), &mut rng);
    let params = model.parameters();
    println!(
        "model: embedding {DIM}, 1 block of {HEADS}-head causal attention + GELU MLP, context {CONTEXT}; {} parameters",
        params.iter().map(|p| p.shape().iter().product::<usize>()).sum::<usize>()
    );

    let (steps, batch, lr) = (600, 16, 3e-3);
    let mut opt = AdamW::new(params, lr).weight_decay(0.01);
    let schedule = CosineLR { base: lr, min: lr * 0.1, total: steps };
    let mut running = 0.0;
    for step in 0..steps {
        let mut x = Array2::<usize>::zeros((batch, CONTEXT));
        let mut y = Vec::with_capacity(batch * CONTEXT);
        for b in 0..batch {
            let s = rng.below(ids.len() - CONTEXT - 1);
            for t in 0..CONTEXT {
                x[[b, t]] = ids[s + t];
                y.push(ids[s + t + 1]);
            }
        }
        let logits = model.logits(&x.into_dyn()).reshape(&[batch * CONTEXT, vocab.len()]);
        let loss = cross_entropy(&logits, &y);
        opt.set_lr(schedule.lr(step));
        opt.zero_grad();
        loss.backward();
        opt.step();
        running += loss.item();
        if (step + 1) % 50 == 0 {
            println!("step {:4}: mean training loss {:.3}", step + 1, running / 50.0);
            running = 0.0;
        }
    }

    // sample 300 characters after a prompt, temperature 0.8
    let mut context: Vec<usize> = "Shall I ".chars().map(encode).collect();
    let mut out = String::from("Shall I ");
    for _ in 0..300 {
        let window = &context[context.len().saturating_sub(CONTEXT)..];
        let ids = ArrayD::from_shape_vec(IxDyn(&[1, window.len()]), window.to_vec()).expect("1 × t");
        let logits = no_grad(|| model.logits(&ids)).value();
        let last: Vec<f32> = (0..vocab.len()).map(|v| logits[[0, window.len() - 1, v]] / 0.8).collect();
        let m = last.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let w: Vec<f64> = last.iter().map(|&l| ((l - m) as f64).exp()).collect();
        let mut u = rng.next_f64() * w.iter().sum::<f64>();
        let next = w.iter().position(|&p| {
            u -= p;
            u < 0.0
        });
        let next = next.unwrap_or(vocab.len() - 1);
        context.push(next);
        out.push(vocab[next]);
    }
    println!("--- sample ---\n{out}\n--------------");
    println!("wall time: {:.2} s", start.elapsed().as_secs_f64());
}
