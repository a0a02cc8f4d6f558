//! Small contractions, where `einsum!`'s generated loop nests run (everything under 12³
//! multiply-adds): forward+backward through the tape, `einsum!` against the runtime-parsed
//! `einsum()` on the same operands and upstream gradient, in f32.
//!
//! - `S0_f32`: W1 (an 8×8 product), plus `hand/fwdbwd`: a hand-written Rust function computing
//!   the same forward and both gradients with plain loops and the same three output
//!   allocations, no tape (checked against `einsum!` first);
//! - `S1_f32` … `S7_f32`: a batched 4×8×8 product, `ij,j->ij`, `ij,ij->ij`, `ii->i`, `ij->j`
//!   at 32×32, and the bilinear form `bi,oij,bj->bo` at b = 8, o = 8, i = j = 16 and at
//!   b = o = i = j = 8.
//!
//! ```text
//! cargo bench --bench small && python3 benches/medians.py S
//! ```

use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::{Array2, ArrayD};
use rand::rngs::StdRng;
use rand::SeedableRng;
use slowgrad::{einsum, BackwardOptions, Operand, Var};
use std::hint::black_box;
use std::time::Duration;

#[path = "shared/random.rs"]
mod random;
use random::random;

/// `einsum!` and `einsum()` forward+backward on one small pattern: group `id`, the pattern
/// literal, the operand shapes.
macro_rules! pair {
    ($c:expr, $rng:expr, $id:literal, $pat:literal, $($shape:expr => $k:tt),+) => {{
        let arrays: Vec<ArrayD<f32>> = vec![$(random(&$shape, $rng)),+];
        let vars: Vec<Var<f32>> = arrays.iter().map(|a| Var::new(a.clone())).collect();
        let ops: Vec<&dyn Operand<f32>> = vars.iter().map(|v| v as &dyn Operand<f32>).collect();
        let out = einsum($pat, &ops).expect("fits");
        let upstream = Var::constant(random(&out.shape(), $rng));
        let check = slowgrad::einsum!($pat, $(&vars[$k]),+).as_dyn().value();
        let diff = (&check - &out.value()).iter().fold(0.0f32, |m, d| m.max(d.abs()));
        assert!(diff <= 1e-4, "{}: einsum! and einsum() differ by {diff}", $pat);
        let mut g = $c.benchmark_group(concat!($id, "_f32"));
        g.bench_function("macro/fwdbwd", |b| {
            b.iter(|| {
                for v in &vars {
                    v.zero_grad();
                }
                let y = slowgrad::einsum!($pat, $(black_box(&vars[$k])),+);
                y.as_dyn().try_backward_with_var(&upstream, BackwardOptions::default()).expect("seed fits");
            })
        });
        g.bench_function("runtime/fwdbwd", |b| {
            b.iter(|| {
                for v in &vars {
                    v.zero_grad();
                }
                let y = einsum($pat, black_box(&ops)).expect("fits");
                y.try_backward_with_var(&upstream, BackwardOptions::default()).expect("seed fits");
            })
        });
        g.finish();
    }};
}

/// `z = x·w`, `dx = g·wᵀ`, `dw = xᵀ·g` for 8×8 matrices, written by hand: three allocations
/// (the outputs), loops with the summed index outside the contiguous one.
fn hand_fwdbwd(x: &Array2<f32>, w: &Array2<f32>, g: &Array2<f32>) -> (Array2<f32>, Array2<f32>, Array2<f32>) {
    const N: usize = 8;
    let (xs, ws, gs) =
        (x.as_slice().expect("standard"), w.as_slice().expect("standard"), g.as_slice().expect("standard"));
    let mut z = vec![0.0f32; N * N];
    let mut dx = vec![0.0f32; N * N];
    let mut dw = vec![0.0f32; N * N];
    for i in 0..N {
        for j in 0..N {
            let a = xs[i * N + j];
            for k in 0..N {
                z[i * N + k] += a * ws[j * N + k];
            }
        }
    }
    for i in 0..N {
        for j in 0..N {
            let mut s = 0.0;
            for k in 0..N {
                s += gs[i * N + k] * ws[j * N + k];
            }
            dx[i * N + j] = s;
        }
    }
    for i in 0..N {
        for j in 0..N {
            let a = xs[i * N + j];
            for k in 0..N {
                dw[j * N + k] += a * gs[i * N + k];
            }
        }
    }
    let shape = (N, N);
    (
        Array2::from_shape_vec(shape, z).expect("8×8"),
        Array2::from_shape_vec(shape, dx).expect("8×8"),
        Array2::from_shape_vec(shape, dw).expect("8×8"),
    )
}

fn w1_hand(c: &mut Criterion, rng: &mut StdRng) {
    let to2 = |a: ArrayD<f32>| a.into_dimensionality::<ndarray::Ix2>().expect("2-D");
    let (x, w, g) = (to2(random(&[8, 8], rng)), to2(random(&[8, 8], rng)), to2(random(&[8, 8], rng)));
    let (vx, vw) = (Var::new(x.clone()), Var::new(w.clone()));
    let z = slowgrad::einsum!("ij,jk->ik", &vx, &vw);
    z.backward_with(g.clone());
    let (hz, hdx, hdw) = hand_fwdbwd(&x, &w, &g);
    for (what, a, b) in
        [("z", hz, z.value()), ("dx", hdx, vx.grad().expect("grad")), ("dw", hdw, vw.grad().expect("grad"))]
    {
        let diff = (&a - &b).iter().fold(0.0f32, |m, d| m.max(d.abs()));
        assert!(diff <= 1e-5, "hand-written {what} differs from einsum! by {diff}");
    }
    let mut grp = c.benchmark_group("S0_f32");
    grp.bench_function("hand/fwdbwd", |b| b.iter(|| hand_fwdbwd(black_box(&x), black_box(&w), black_box(&g))));
    grp.finish();
}

fn all(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(11);
    w1_hand(c, &mut rng);
    pair!(c, &mut rng, "S0", "ij,jk->ik", [8, 8] => 0, [8, 8] => 1);
    pair!(c, &mut rng, "S1", "bij,bjk->bik", [4, 8, 8] => 0, [4, 8, 8] => 1);
    pair!(c, &mut rng, "S2", "ij,j->ij", [32, 32] => 0, [32] => 1);
    pair!(c, &mut rng, "S3", "ij,ij->ij", [32, 32] => 0, [32, 32] => 1);
    pair!(c, &mut rng, "S4", "ii->i", [32, 32] => 0);
    pair!(c, &mut rng, "S5", "ij->j", [32, 32] => 0);
    pair!(c, &mut rng, "S6", "bi,oij,bj->bo", [8, 16] => 0, [8, 16, 16] => 1, [8, 16] => 2);
    pair!(c, &mut rng, "S7", "bi,oij,bj->bo", [8, 8] => 0, [8, 8, 8] => 1, [8, 8] => 2);
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(1)).sample_size(20);
    targets = all
}
criterion_main!(benches);
