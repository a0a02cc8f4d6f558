//! Workloads W1–W8 of `benches/PEERS.md`: the runtime-parsed `einsum()` forward and
//! forward+backward (through the tape, gradients of every operand for a random upstream
//! gradient), the tape-free `einsum_array`, ndarray's `dot` (hand-composed where a workload is
//! not one product), the `gemm` crate directly for the plain 2-D products (forward, and for
//! `ij,jk->ik` the three products of forward+backward), and the `ndarray-einsum` crate in f32:
//! its runtime `einsum` (`ndarray-einsum/fwd`) and a contraction path computed once and reused
//! (`ndarray-einsum-path/fwd`), both checked against `einsum_array` before timing. `M1024_f32`:
//! a 1024² product forward through `einsum!`, `einsum_array` and the `gemm` crate.
//!
//! Ids are `<workload>_<type>/<implementation>/<pass>`, e.g. `W2_f32/runtime/fwdbwd`, so another
//! implementation (the `einsum!` macro) is one more column: `W2_f32/macro/fwd`.
//!
//! ```text
//! cargo bench --bench einsum                      # all
//! cargo bench --bench einsum -- 'W4_f32/'         # one workload
//! RAYON_NUM_THREADS=1 cargo bench --bench einsum  # one thread
//! ```

use criterion::{criterion_group, criterion_main, Criterion};
use ndarray::{s, Array, ArrayD, Axis, Dimension, Ix2, Ix3, Ix4};
use rand::rngs::StdRng;
use rand::SeedableRng;
use slowgrad::{einsum, einsum_array, BackwardOptions, Float, Operand, Var};
use std::hint::black_box;
use std::time::Duration;

/// One workload: its id, pattern and operand shapes.
struct Workload {
    id: &'static str,
    pattern: &'static str,
    shapes: Vec<Vec<usize>>,
}

fn workloads() -> Vec<Workload> {
    let w = |id, pattern, shapes: &[&[usize]]| Workload {
        id,
        pattern,
        shapes: shapes.iter().map(|s| s.to_vec()).collect(),
    };
    vec![
        w("W1", "ij,jk->ik", &[&[8, 8], &[8, 8]]),
        w("W2", "ij,jk->ik", &[&[64, 64], &[64, 64]]),
        w("W3", "ij,jk->ik", &[&[512, 512], &[512, 512]]),
        w("W4", "bhqd,bhkd->bhqk", &[&[8, 8, 64, 32], &[8, 8, 64, 32]]),
        w("W5", "bi,oi->bo", &[&[64, 784], &[256, 784]]),
        w("W6a", "ii->", &[&[1024, 1024]]),
        w("W6b", "ij->j", &[&[1024, 1024]]),
        w("W7", "ij,jk,kl->il", &[&[64, 64], &[64, 64], &[64, 64]]),
        w("W8", "bi,oij,bj->bo", &[&[32, 32], &[16, 32, 32], &[32, 32]]),
    ]
}

#[path = "shared/random.rs"]
mod random;
use random::random;

fn fix<T: Float, D: Dimension>(a: &ArrayD<T>) -> Array<T, D> {
    a.clone().into_dimensionality::<D>().expect("rank")
}

/// The runtime `einsum()` and `einsum_array` on one workload.
fn bench_runtime<T: Float>(c: &mut Criterion, w: &Workload, ty: &str, rng: &mut StdRng) {
    let arrays: Vec<ArrayD<T>> = w.shapes.iter().map(|s| random::<T>(s, rng)).collect();
    let vars: Vec<Var<T>> = arrays.iter().map(|a| Var::new(a.clone())).collect();
    let ops: Vec<&dyn Operand<T>> = vars.iter().map(|v| v as &dyn Operand<T>).collect();
    let out_shape = einsum(w.pattern, &ops).expect("workload fits").shape();
    let upstream = Var::constant(random::<T>(&out_shape, rng));
    let mut g = c.benchmark_group(format!("{}_{ty}", w.id));
    g.bench_function("runtime/fwd", |b| b.iter(|| einsum(w.pattern, black_box(&ops)).expect("fits")));
    g.bench_function("runtime/fwdbwd", |b| {
        b.iter(|| {
            for v in &vars {
                v.zero_grad();
            }
            let y = einsum(w.pattern, black_box(&ops)).expect("fits");
            y.try_backward_with_var(&upstream, BackwardOptions::default()).expect("seed fits");
        })
    });
    let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
    g.bench_function("runtime-array/fwd", |b| b.iter(|| einsum_array(w.pattern, black_box(&views)).expect("fits")));
    g.finish();
}

/// The compile-time `einsum!` forward (array operands: no tape) and forward+backward (`Var`
/// operands, through the tape) on one workload; `$pat` must be the workload's pattern.
macro_rules! bench_macro {
    ($c:expr, $w:expr, $ty:expr, $rng:expr, $t:ty, $pat:literal, $($k:tt)+) => {{
        let w: &Workload = $w;
        assert_eq!(w.pattern, $pat);
        let arrays: Vec<ArrayD<$t>> = w.shapes.iter().map(|s| random::<$t>(s, $rng)).collect();
        let vars: Vec<Var<$t>> = arrays.iter().map(|a| Var::new(a.clone())).collect();
        let out_shape = slowgrad::einsum!($pat, $(&arrays[$k]),+).shape().to_vec();
        let upstream = Var::constant(random::<$t>(&out_shape, $rng));
        let mut g = $c.benchmark_group(format!("{}_{}", w.id, $ty));
        g.bench_function("macro/fwd", |b| b.iter(|| slowgrad::einsum!($pat, $(black_box(&arrays[$k])),+)));
        g.bench_function("macro/fwdbwd", |b| {
            b.iter(|| {
                for v in &vars {
                    v.zero_grad();
                }
                let y = slowgrad::einsum!($pat, $(black_box(&vars[$k])),+);
                y.as_dyn().try_backward_with_var(&upstream, BackwardOptions::default()).expect("seed fits");
            })
        });
        g.finish();
    }};
}

/// `einsum!` on one workload (the pattern must be a literal, hence one arm per workload).
fn bench_macro_f32(c: &mut Criterion, w: &Workload, rng: &mut StdRng) {
    match w.id {
        "W1" | "W2" | "W3" => bench_macro!(c, w, "f32", rng, f32, "ij,jk->ik", 0 1),
        "W4" => bench_macro!(c, w, "f32", rng, f32, "bhqd,bhkd->bhqk", 0 1),
        "W5" => bench_macro!(c, w, "f32", rng, f32, "bi,oi->bo", 0 1),
        "W6a" => bench_macro!(c, w, "f32", rng, f32, "ii->", 0),
        "W6b" => bench_macro!(c, w, "f32", rng, f32, "ij->j", 0),
        "W7" => bench_macro!(c, w, "f32", rng, f32, "ij,jk,kl->il", 0 1 2),
        "W8" => bench_macro!(c, w, "f32", rng, f32, "bi,oij,bj->bo", 0 1 2),
        _ => {}
    }
}

/// `einsum!` in f64 on the workloads measured in f64.
fn bench_macro_f64(c: &mut Criterion, w: &Workload, rng: &mut StdRng) {
    match w.id {
        "W2" | "W3" => bench_macro!(c, w, "f64", rng, f64, "ij,jk->ik", 0 1),
        "W5" => bench_macro!(c, w, "f64", rng, f64, "bi,oi->bo", 0 1),
        _ => {}
    }
}

/// ndarray `dot` (and hand-composed ndarray code) on one workload.
fn bench_ndarray<T: Float>(c: &mut Criterion, w: &Workload, ty: &str, rng: &mut StdRng) {
    let a: Vec<ArrayD<T>> = w.shapes.iter().map(|s| random::<T>(s, rng)).collect();
    let mut g = c.benchmark_group(format!("{}_{ty}", w.id));
    match w.id {
        "W1" | "W2" | "W3" => {
            let (x, y) = (fix::<T, Ix2>(&a[0]), fix::<T, Ix2>(&a[1]));
            g.bench_function("ndarray/fwd", |b| b.iter(|| black_box(&x).dot(black_box(&y))));
        }
        "W4" => {
            let (q, k) = (fix::<T, Ix4>(&a[0]), fix::<T, Ix4>(&a[1]));
            g.bench_function("ndarray/fwd", |b| {
                b.iter(|| {
                    let mut out = Array::<T, _>::zeros((8, 8, 64, 64));
                    for i in 0..8 {
                        for h in 0..8 {
                            let qs = q.slice(s![i, h, .., ..]);
                            let ks = k.slice(s![i, h, .., ..]);
                            let mut o = out.slice_mut(s![i, h, .., ..]);
                            ndarray::linalg::general_mat_mul(T::one(), &qs, &ks.t(), T::zero(), &mut o);
                        }
                    }
                    out
                })
            });
        }
        "W5" => {
            let (x, y) = (fix::<T, Ix2>(&a[0]), fix::<T, Ix2>(&a[1]));
            g.bench_function("ndarray/fwd", |b| b.iter(|| black_box(&x).dot(&black_box(&y).t())));
        }
        "W6a" => {
            let x = fix::<T, Ix2>(&a[0]);
            g.bench_function("ndarray/fwd", |b| b.iter(|| black_box(&x).diag().sum()));
        }
        "W6b" => {
            let x = fix::<T, Ix2>(&a[0]);
            g.bench_function("ndarray/fwd", |b| b.iter(|| black_box(&x).sum_axis(Axis(0))));
        }
        "W7" => {
            let (x, y, z) = (fix::<T, Ix2>(&a[0]), fix::<T, Ix2>(&a[1]), fix::<T, Ix2>(&a[2]));
            g.bench_function("ndarray/fwd", |b| b.iter(|| black_box(&x).dot(&y).dot(&z)));
        }
        "W8" => {
            // bo = Σ_ij x_bi W_oij y_bj: per o, (x · W_o) ⊙ y summed over j
            let (x, wt, y) = (fix::<T, Ix2>(&a[0]), fix::<T, Ix3>(&a[1]), fix::<T, Ix2>(&a[2]));
            g.bench_function("ndarray/fwd", |b| {
                b.iter(|| {
                    let mut out = Array::<T, _>::zeros((32, 16));
                    for o in 0..16 {
                        let wo = wt.slice(s![o, .., ..]);
                        let t = black_box(&x).dot(&wo);
                        out.column_mut(o).assign(&(t * &y).sum_axis(Axis(1)));
                    }
                    out
                })
            });
        }
        _ => {}
    }
    g.finish();
}

/// `x · y` by the `gemm` crate into a fresh row-major m×n array (row-major like the inputs: the
/// crate is slower when the orders are mixed; not zeroed: the product overwrites every element),
/// `x` (m×k) and `y` (k×n) read with the given (row, column) strides, on the crate's threads.
///
/// # Safety
/// Every index below (m, k) of `x` and (k, n) of `y` with those strides must address an element.
unsafe fn gemm_product<T: Float>(
    (m, k, n): (usize, usize, usize),
    x: *const T,
    (xrs, xcs): (isize, isize),
    y: *const T,
    (yrs, ycs): (isize, isize),
) -> Array<T, Ix2> {
    let mut out = Array::<T, _>::uninit((m, n));
    let o = out.as_mut_ptr() as *mut T;
    // SAFETY: `out` is m×n standard layout (row stride n, column stride 1) and does not alias
    // the inputs, which the caller guarantees in bounds. With `read_dst` false the product only
    // writes the output, every element of it.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            o,
            1,
            n as isize,
            false,
            x,
            xcs,
            xrs,
            y,
            ycs,
            yrs,
            T::zero(),
            T::one(),
            false,
            false,
            false,
            gemm::Parallelism::Rayon(0),
        );
        out.assume_init()
    }
}

/// The `gemm` crate directly on the plain 2-D products (W1–W3, W5): the forward, and for
/// `ij,jk->ik` the three products of forward+backward (`x·y`, `g·yᵀ`, `xᵀ·g`, operands read in
/// place through strides, as the library's executor reads them): the floor for `einsum!`'s
/// forward+backward on that machine.
fn bench_gemm<T: Float>(c: &mut Criterion, w: &Workload, ty: &str, rng: &mut StdRng) {
    let (m, k, n, transposed) = match w.id {
        "W1" => (8, 8, 8, false),
        "W2" => (64, 64, 64, false),
        "W3" => (512, 512, 512, false),
        "W5" => (64, 784, 256, true),
        _ => return,
    };
    let (ki, ni) = (k as isize, n as isize);
    let x = random::<T>(&[m, k], rng);
    let y = if transposed { random::<T>(&[n, k], rng) } else { random::<T>(&[k, n], rng) };
    let y_strides = if transposed { (1, ki) } else { (ni, 1) };
    let mut g = c.benchmark_group(format!("{}_{ty}", w.id));
    // SAFETY: `x` is m×k and `y` k×n (or n×k read transposed) standard layout, so the strides
    // address their elements.
    let product =
        |x: &ArrayD<T>, y: &ArrayD<T>| unsafe { gemm_product((m, k, n), x.as_ptr(), (ki, 1), y.as_ptr(), y_strides) };
    let check = |what: &str, got: Array<T, Ix2>, want: ArrayD<T>| {
        let e = rel_err(&got.into_dyn(), &want);
        assert!(e <= T::cast(1e-4), "{}: the gemm {what} differs from einsum_array (relative error {e:?})", w.id);
    };
    check("forward", product(&x, &y), einsum_array(w.pattern, &[x.view(), y.view()]).expect("workload fits"));
    g.bench_function("gemm/fwd", |b| b.iter(|| product(black_box(&x), black_box(&y))));
    if !transposed {
        let up = random::<T>(&[m, n], rng);
        // SAFETY: `up` is m×n standard layout, `y` (k×n) is read as yᵀ (n×k) through strides
        // (1, n) and `x` (m×k) as xᵀ (k×m) through (1, k).
        let three = |x: &ArrayD<T>, y: &ArrayD<T>, up: &ArrayD<T>| unsafe {
            let out = product(x, y);
            let dx = gemm_product((m, n, k), up.as_ptr(), (ni, 1), y.as_ptr(), (1, ni));
            let dy = gemm_product((k, m, n), x.as_ptr(), (1, ki), up.as_ptr(), (ni, 1));
            (out, dx, dy)
        };
        let (_, dx, dy) = three(&x, &y, &up);
        check("gradient of x", dx, einsum_array("ik,jk->ij", &[up.view(), y.view()]).expect("fits"));
        check("gradient of y", dy, einsum_array("ij,ik->jk", &[x.view(), up.view()]).expect("fits"));
        g.bench_function("gemm/fwdbwd", |b| b.iter(|| three(black_box(&x), black_box(&y), black_box(&up))));
    }
    g.finish();
}

/// `max |got − want| / max |want|`.
fn rel_err<T: Float>(got: &ArrayD<T>, want: &ArrayD<T>) -> T {
    assert_eq!(got.shape(), want.shape(), "shapes differ");
    let diff = got.iter().zip(want).map(|(&a, &b)| (a - b).abs()).fold(T::zero(), |m, d| {
        if d.is_nan() {
            T::infinity()
        } else {
            m.max(d)
        }
    });
    let scale = want.iter().fold(T::zero(), |m, b| m.max(b.abs()));
    diff / scale.max(T::min_positive_value())
}

/// The `ndarray-einsum` crate on one workload (f32): its runtime-parsed `einsum`, and an
/// `EinsumPath` (operands contracted in the given order) prepared once and reused.
fn bench_ndarray_einsum(c: &mut Criterion, w: &Workload, rng: &mut StdRng) {
    let arrays: Vec<ArrayD<f32>> = w.shapes.iter().map(|s| random::<f32>(s, rng)).collect();
    let ops: Vec<&dyn ndarray_einsum::ArrayLike<f32>> =
        arrays.iter().map(|a| a as &dyn ndarray_einsum::ArrayLike<f32>).collect();
    let path = ndarray_einsum::einsum_path(w.pattern, &ops, ndarray_einsum::OptimizationMethod::Naive)
        .expect("ndarray-einsum accepts the workload");
    let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
    let ours = einsum_array(w.pattern, &views).expect("fits");
    let theirs = ndarray_einsum::einsum(w.pattern, &ops).expect("ndarray-einsum accepts the workload");
    for (what, got) in [("einsum", theirs), ("path", path.contract_operands(&ops))] {
        let e = rel_err(&got, &ours);
        assert!(e <= 1e-3, "{}: ndarray-einsum {what} differs from einsum_array (relative error {e:e})", w.id);
    }
    let mut g = c.benchmark_group(format!("{}_f32", w.id));
    g.bench_function("ndarray-einsum/fwd", |b| {
        b.iter(|| ndarray_einsum::einsum(w.pattern, black_box(&ops)).expect("fits"))
    });
    g.bench_function("ndarray-einsum-path/fwd", |b| b.iter(|| path.contract_operands(black_box(&ops))));
    g.finish();
}

/// A 1024² matrix product forward (`M1024_<type>`): `einsum!`, `einsum_array` and the `gemm`
/// crate with the same threads, for the issue's 1024² throughput target (checked first).
fn bench_1024<T: Float>(c: &mut Criterion, ty: &str, rng: &mut StdRng) {
    let n = 1024;
    let (x, y) = (random::<T>(&[n, n], rng), random::<T>(&[n, n], rng));
    let (x2, y2) = (fix::<T, Ix2>(&x), fix::<T, Ix2>(&y));
    let ours = slowgrad::einsum!("ij,jk->ik", &x2, &y2).into_dyn();
    // SAFETY: both are n×n standard layout.
    let product = |x: &ArrayD<T>, y: &ArrayD<T>| unsafe {
        gemm_product((n, n, n), x.as_ptr(), (n as isize, 1), y.as_ptr(), (n as isize, 1))
    };
    let e = rel_err(&product(&x, &y).into_dyn(), &ours);
    assert!(e <= T::cast(1e-4), "M1024: the gemm product differs from einsum! (relative error {e:?})");
    let mut g = c.benchmark_group(format!("M1024_{ty}"));
    g.bench_function("macro/fwd", |b| b.iter(|| slowgrad::einsum!("ij,jk->ik", black_box(&x2), black_box(&y2))));
    let views = [x.view(), y.view()];
    g.bench_function("runtime-array/fwd", |b| b.iter(|| einsum_array("ij,jk->ik", black_box(&views)).expect("fits")));
    g.bench_function("gemm/fwd", |b| b.iter(|| product(black_box(&x), black_box(&y))));
    g.finish();
}

fn all(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(7);
    bench_1024::<f32>(c, "f32", &mut StdRng::seed_from_u64(9));
    // A stream of its own, so that the other implementations see the same operands as without it.
    let mut peer_rng = StdRng::seed_from_u64(8);
    for w in workloads() {
        bench_runtime::<f32>(c, &w, "f32", &mut rng);
        bench_macro_f32(c, &w, &mut rng);
        bench_ndarray::<f32>(c, &w, "f32", &mut rng);
        bench_gemm::<f32>(c, &w, "f32", &mut rng);
        bench_ndarray_einsum(c, &w, &mut peer_rng);
        if matches!(w.id, "W2" | "W3" | "W5") {
            bench_runtime::<f64>(c, &w, "f64", &mut rng);
            bench_macro_f64(c, &w, &mut rng);
            bench_ndarray::<f64>(c, &w, "f64", &mut rng);
            bench_gemm::<f64>(c, &w, "f64", &mut rng);
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2)).sample_size(20);
    targets = all
}
criterion_main!(benches);
