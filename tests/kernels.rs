//! Every kernel class of the executor against the plain loop-nest interpreter, on random shapes:
//! transposed, strided and reversed views, size-1 broadcasting, empty dimensions, output
//! dimensions of 1 that sum, output-only labels of gradient equations, and sizes on both sides of
//! the GEMM and threading thresholds.

mod common;

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Slice};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use slowgrad::{einsum_reference, ext_einsum_array};
use slowgrad::{ExtEinsum, Float};
use slowgrad_core::{classify, KernelKind};

/// How an operand is laid out in memory.
#[derive(Debug, Clone, Copy)]
enum Layout {
    Standard,
    /// Axes stored in another order (a transposed view).
    Permuted,
    /// Every other element along one axis.
    Stepped,
    /// One axis reversed (negative stride).
    Reversed,
}

/// An owned array and a view of it with the wanted shape and layout.
struct Operand<T> {
    base: ArrayD<T>,
    layout: Layout,
    perm: Vec<usize>,
    axis: usize,
}

impl<T: Float> Operand<T> {
    fn new(shape: &[usize], layout: Layout, rng: &mut StdRng) -> Operand<T> {
        let r = shape.len();
        let mut perm: Vec<usize> = (0..r).collect();
        let axis = if r > 0 { rng.random_range(0..r) } else { 0 };
        let stored: Vec<usize> = match layout {
            Layout::Permuted => {
                for i in (1..r).rev() {
                    perm.swap(i, rng.random_range(0..=i));
                }
                perm.iter().map(|&p| shape[p]).collect()
            }
            Layout::Stepped if r > 0 => {
                let mut s = shape.to_vec();
                s[axis] *= 2;
                s
            }
            _ => shape.to_vec(),
        };
        let n: usize = stored.iter().product();
        let data: Vec<T> = (0..n).map(|_| T::cast(rng.random_range(-1.0..1.0))).collect();
        let base = ArrayD::from_shape_vec(IxDyn(&stored), data).expect("shape fits");
        Operand { base, layout, perm, axis }
    }

    fn view(&self) -> ArrayViewD<'_, T> {
        let v = self.base.view();
        match self.layout {
            Layout::Standard => v,
            Layout::Permuted => {
                // stored axis j holds logical axis perm[j]: invert
                let mut inv = vec![0; self.perm.len()];
                for (j, &p) in self.perm.iter().enumerate() {
                    inv[p] = j;
                }
                v.permuted_axes(IxDyn(&inv))
            }
            Layout::Stepped if v.ndim() > 0 => v.slice_axis_move(Axis(self.axis), Slice::new(0, None, 2)),
            Layout::Reversed if v.ndim() > 0 => v.slice_axis_move(Axis(self.axis), Slice::new(0, None, -1)),
            _ => v,
        }
    }
}

fn rel_err<T: Float>(a: &ArrayD<T>, b: &ArrayD<T>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    let scale = b.iter().fold(1.0f64, |m, x| m.max(x.as_f64().abs()));
    common::max_diff(a.iter().zip(b).map(|(x, y)| (x.as_f64(), y.as_f64()))) / scale
}

/// Runs `inputs->output` on random shapes built from `sizes` (letter → size), with a random
/// layout per operand and, with probability `p1`, an operand's dimension set to 1 (broadcast).
/// `out_ones`: output positions given as 1 in the output shape (summed to size 1).
fn check_case<T: Float>(
    inputs: &str,
    output: &str,
    sizes: &dyn Fn(char) -> usize,
    p1: f64,
    out_ones: &[usize],
    rng: &mut StdRng,
    tol: f64,
) -> KernelKind {
    let spec = ExtEinsum::from_letters(inputs, output).unwrap();
    let layouts = [Layout::Standard, Layout::Permuted, Layout::Stepped, Layout::Reversed];
    let ops: Vec<Operand<T>> = inputs
        .split(',')
        .map(|t| {
            let mut shape: Vec<usize> = t.chars().map(sizes).collect();
            for (i, c) in t.chars().enumerate() {
                // a repeated label keeps its size (diagonals need equal sizes)
                if rng.random_bool(p1) && t.chars().filter(|&d| d == c).count() == 1 {
                    shape[i] = 1;
                }
            }
            Operand::new(&shape, layouts[rng.random_range(0..layouts.len())], rng)
        })
        .collect();
    let views: Vec<ArrayViewD<'_, T>> = ops.iter().map(|o| o.view()).collect();
    let needs_shape = output.chars().any(|c| !inputs.contains(c)) || !out_ones.is_empty();
    let out_shape: Option<Vec<usize>> = needs_shape
        .then(|| output.chars().enumerate().map(|(i, c)| if out_ones.contains(&i) { 1 } else { sizes(c) }).collect());
    let want = einsum_reference(&spec, &views, out_shape.as_deref());
    let got = ext_einsum_array(&spec, &views, out_shape.as_deref());
    match (want, got) {
        (Ok(w), Ok(g)) => {
            let e = rel_err(&g, &w);
            assert!(
                e <= tol,
                "{inputs}->{output} {:?}: error {e:e}",
                views.iter().map(|v| v.shape()).collect::<Vec<_>>()
            );
            // the same shapes and strides again, with other values: a cached plan
            let other: Vec<Operand<T>> = ops
                .iter()
                .map(|o| Operand {
                    base: o.base.mapv(|x| x * T::cast(2.0) - T::one()),
                    layout: o.layout,
                    perm: o.perm.clone(),
                    axis: o.axis,
                })
                .collect();
            let views2: Vec<ArrayViewD<'_, T>> = other.iter().map(|o| o.view()).collect();
            let strides = |v: &[ArrayViewD<'_, T>]| v.iter().map(|a| a.strides().to_vec()).collect::<Vec<_>>();
            assert_eq!(strides(&views2), strides(&views));
            let w2 = einsum_reference(&spec, &views2, out_shape.as_deref()).unwrap();
            let g2 = ext_einsum_array(&spec, &views2, out_shape.as_deref()).unwrap();
            let e = rel_err(&g2, &w2);
            assert!(e <= tol, "{inputs}->{output} (cached plan): error {e:e}");
        }
        (Err(w), Err(g)) => assert_eq!(w, g),
        (w, g) => panic!("{inputs}->{output}: reference {w:?}, executor {g:?}"),
    }
    classify(&spec)
}

/// Patterns covering every kernel class, as (inputs, output, output positions that may be 1).
const CASES: &[(&str, &str, &[usize])] = &[
    // copy / permute
    ("ij", "ij", &[]),
    ("ij", "ji", &[]),
    ("ijk", "kij", &[]),
    // reductions
    ("ij", "i", &[]),
    ("ij", "j", &[]),
    ("ijk", "j", &[]),
    ("ij", "", &[]),
    ("ij", "ij", &[1]),
    // diagonals
    ("ii", "i", &[]),
    ("ii", "", &[]),
    ("iij", "ij", &[]),
    ("iji", "j", &[]),
    // scatter: diagonal writes and output-only (broadcast) labels
    ("i", "ii", &[]),
    ("", "ii", &[]),
    ("ij", "bij", &[]),
    ("ij", "ijb", &[0]),
    ("ik,jk", "bij", &[]),
    // elementwise with broadcasting
    ("ij,ij", "ij", &[0]),
    ("ij,j", "ij", &[]),
    ("i,j", "ij", &[]),
    ("ijk,ik", "ijk", &[]),
    ("ab,", "ab", &[]),
    // (batched) matrix products, forward and gradient equations
    ("ij,jk", "ik", &[]),
    ("ik,jk", "ij", &[]),
    ("ik,ij", "jk", &[]),
    ("ki,kj", "ij", &[]),
    ("ij,jk", "ki", &[]),
    ("bij,bjk", "bik", &[]),
    ("bhqd,bhkd", "bhqk", &[]),
    ("bhqk,bhkd", "bhqd", &[]),
    ("bi,oi", "bo", &[]),
    ("abc,bcd", "ad", &[]),
    ("abc,cbd", "da", &[]),
    ("ij,j", "i", &[]),
    ("i,ij", "j", &[]),
    ("i,i", "", &[]),
    ("ab,ab", "", &[]),
    ("bij,jk", "bik", &[]),
    ("ij,jk", "ik", &[1]),
    ("bi,oij", "boj", &[]),
    // general loop nests
    ("ijx,jk", "ik", &[]),
    ("ij,jk,kl", "il", &[]),
    ("ii,ij", "ij", &[]),
];

fn run_cases<T: Float>(tol: f64, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut seen = std::collections::HashSet::new();
    for round in 0..12 {
        for &(ins, out, ones) in CASES {
            // small sizes, then sizes past the GEMM threshold, then past the threading threshold
            let pool: &[usize] = match round % 3 {
                0 => &[1, 2, 3, 4, 5],
                1 => &[7, 9, 16, 23, 31],
                _ => &[33, 48, 64, 70],
            };
            let letters: Vec<char> = ('a'..='z').collect();
            let mut table: Vec<usize> = letters.iter().map(|_| pool[rng.random_range(0..pool.len())]).collect();
            // keep big cases affordable: at most four labels at full size
            let used: Vec<char> = ins.chars().chain(out.chars()).filter(|c| *c != ',').collect();
            let mut distinct: Vec<char> = used.clone();
            distinct.sort();
            distinct.dedup();
            if round % 3 == 2 && distinct.len() > 3 {
                for c in &distinct[3..] {
                    table[(*c as u8 - b'a') as usize] = 4;
                }
            }
            if round == 11 {
                // an empty dimension
                let c = distinct.first().copied().unwrap_or('a');
                table[(c as u8 - b'a') as usize] = 0;
            }
            let sizes = |c: char| table[(c as u8 - b'a') as usize];
            let p1 = if round % 2 == 1 { 0.25 } else { 0.0 };
            let ones: Vec<usize> = if rng.random_bool(0.5) { ones.to_vec() } else { Vec::new() };
            seen.insert(check_case::<T>(ins, out, &sizes, p1, &ones, &mut rng, tol));
        }
    }
    assert_eq!(seen.len(), 7, "every kernel class exercised: {seen:?}");
}

#[test]
fn kernels_match_reference_f64() {
    run_cases::<f64>(1e-12, 1);
    run_cases::<f64>(1e-12, 2);
}

#[test]
fn kernels_match_reference_f32() {
    run_cases::<f32>(2e-5, 3);
}

#[test]
fn large_loop_nests_match_reference() {
    // past NEST_PAR_MIN_WORK: the loop nest is split across threads along an output dimension
    let mut rng = StdRng::seed_from_u64(5);
    let big = |c: char| if c == 'b' { 3 } else { 2048 + 7 };
    for _ in 0..3 {
        check_case::<f32>("ij", "j", &big, 0.0, &[], &mut rng, 2e-5);
        check_case::<f32>("ij", "i", &big, 0.0, &[], &mut rng, 2e-5);
        check_case::<f64>("ij,j", "ij", &big, 0.0, &[], &mut rng, 1e-12);
        check_case::<f64>("ij", "ji", &big, 0.0, &[], &mut rng, 1e-12);
        check_case::<f64>("ij", "bij", &big, 0.0, &[], &mut rng, 1e-12);
    }
}

#[test]
fn gemm_sized_gradients_match_reference() {
    // the gradient equations of W4 and W5, at full size
    let mut rng = StdRng::seed_from_u64(4);
    let w4 = |c: char| match c {
        'b' | 'h' => 8,
        'q' | 'k' => 64,
        _ => 32,
    };
    check_case::<f32>("bhqk,bhkd", "bhqd", &w4, 0.0, &[], &mut rng, 2e-5);
    check_case::<f32>("bhqk,bhqd", "bhkd", &w4, 0.0, &[], &mut rng, 2e-5);
    let w5 = |c: char| match c {
        'b' => 64,
        'i' => 784,
        _ => 256,
    };
    check_case::<f64>("bo,oi", "bi", &w5, 0.0, &[], &mut rng, 1e-12);
    check_case::<f64>("bo,bi", "oi", &w5, 0.0, &[], &mut rng, 1e-12);
}

#[test]
fn large_products_in_every_storage_order_match_reference() {
    // GEMM-sized products with every combination of row- and column-major operands, for both
    // orders of the output (`ik` and `ki`): the strides go to the GEMM as they are
    let mut rng = StdRng::seed_from_u64(6);
    let (m, k, n) = (260, 141, 270);
    let a = Operand::<f64>::new(&[m, k], Layout::Standard, &mut rng);
    let b = Operand::<f64>::new(&[k, n], Layout::Standard, &mut rng);
    let at = a.base.t().as_standard_layout().into_owned();
    let bt = b.base.t().as_standard_layout().into_owned();
    for out in ["ik", "ki"] {
        for (x, y, tx, ty) in [
            (a.base.view(), b.base.view(), "ij", "jk"),
            (at.t(), b.base.view(), "ij", "jk"),
            (a.base.view(), bt.t(), "ij", "jk"),
            (at.t(), bt.t(), "ij", "jk"),
            (at.view(), bt.view(), "ji", "kj"),
        ] {
            let spec = ExtEinsum::from_letters(&format!("{tx},{ty}"), out).unwrap();
            let views = [x.clone(), y.clone()];
            let want = einsum_reference(&spec, &views, None).unwrap();
            let got = ext_einsum_array(&spec, &views, None).unwrap();
            let e = rel_err(&got, &want);
            assert!(e <= 1e-12, "{tx},{ty}->{out} strides {:?} {:?}: error {e:e}", x.strides(), y.strides());
        }
    }
}
