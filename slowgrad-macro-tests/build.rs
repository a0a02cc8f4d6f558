//! Generates the test sources, so that every case compiles its own `einsum!` kernels:
//!
//! - `oracle_cases.rs`: one generic function per case of the PyTorch fixture
//!   (`tests/fixtures/einsum_cases.json`), with the case's literal pattern, run in f64 and f32;
//! - `random_cases.rs`: random equations (fixed seed) covering diagonals, private labels, size-1
//!   broadcasting, scalars, 1–4 operands, upper case, implicit outputs, named labels and `...`,
//!   each compared with the runtime-parsed `slowgrad::einsum()`.

use serde_json::Value;
use slowgrad_core::{Equation, ExtEinsum};
use std::fmt::Write;
use std::path::PathBuf;

/// Number of random equations.
const RANDOM_EQUATIONS: usize = 240;
const SEED: u64 = 0x005E_ED0F_E15A;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    let fixture = manifest.join("../tests/fixtures/einsum_cases.json");
    println!("cargo:rerun-if-changed={}", fixture.display());
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(&fixture).expect("the oracle fixture");
    let json: Value = serde_json::from_str(&text).expect("valid json");
    std::fs::write(out.join("oracle_cases.rs"), oracle(&json)).expect("write");
    std::fs::write(out.join("random_cases.rs"), random()).expect("write");
}

fn ident(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect()
}

/// The ndarray dimension type of an operand: static when the term has no `...`.
fn dim(rank: usize, ellipsis: bool) -> String {
    if ellipsis || rank > 6 {
        "IxDyn".into()
    } else {
        format!("Ix{rank}")
    }
}

fn has_ellipsis(pattern: &str) -> Vec<bool> {
    let eq = Equation::parse(pattern).expect("fixture patterns are valid");
    eq.inputs.iter().map(|t| t.has_ellipsis()).collect()
}

fn oracle(json: &Value) -> String {
    let mut s = String::new();
    for (i, case) in json["cases"].as_array().expect("cases").iter().enumerate() {
        let name = ident(case["name"].as_str().expect("name"));
        let pattern = case["equation"].as_str().expect("equation");
        let ranks: Vec<usize> = case["operands"]
            .as_array()
            .expect("operands")
            .iter()
            .map(|o| o["shape"].as_array().expect("shape").len())
            .collect();
        let ell = has_ellipsis(pattern);
        let mut vars = String::new();
        let mut arrays = String::new();
        let mut refs = Vec::new();
        let mut arefs = Vec::new();
        for (k, (&r, &e)) in ranks.iter().zip(&ell).enumerate() {
            let d = dim(r, e);
            writeln!(vars, "    let o{k}: Var<T, {d}> = Var::new(fixed::<T, {d}>(&case.operands[{k}]));").unwrap();
            writeln!(arrays, "    let a{k}: Array<T, {d}> = fixed::<T, {d}>(&case.operands[{k}]);").unwrap();
            refs.push(format!("&o{k}"));
            // views and owned arrays alternate, so both forms are exercised
            arefs.push(if k % 2 == 0 { format!("&a{k}") } else { format!("&a{k}.view()") });
        }
        let grads: Vec<String> = (0..ranks.len()).map(|k| format!("o{k}.grad().map(|g| g.into_dyn())")).collect();
        write!(
            s,
            r#"
fn case_{name}<T: Float>(case: &Case, tol: f64) -> Result<(), String> {{
{vars}    let out = einsum!({pattern:?}, {refs});
    check(&out.value().into_dyn(), &case.output, tol, "output")?;
    out.backward_with(case.upstream.array::<T>());
    check_grads(&[{grads}], case, tol)?;
{arrays}    let arr = einsum!({pattern:?}, {arefs});
    check(&arr.into_dyn(), &case.output, tol, "array output")
}}

#[test]
fn oracle_{i:02}_{name}_f64() {{
    let case = case({i});
    case_{name}::<f64>(&case, F64_TOL).unwrap_or_else(|e| panic!("{{}} ({{}}): {{e}}", case.name, case.equation));
}}

#[test]
fn oracle_{i:02}_{name}_f32() {{
    let case = case({i});
    case_{name}::<f32>(&case, F32_TOL).unwrap_or_else(|e| panic!("{{}} ({{}}): {{e}}", case.name, case.equation));
}}
"#,
            refs = refs.join(", "),
            arefs = arefs.join(", "),
            grads = grads.join(", "),
        )
        .unwrap();
    }
    writeln!(s, "\nconst ORACLE_CASES: usize = {};", json["cases"].as_array().expect("cases").len()).unwrap();
    s
}

/// SplitMix64: a small, fixed-seed generator (no dependency).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NAMES: &[&str] = &["batch", "row", "col", "head", "x_0", "y1", "feat", "k2", "out", "inp"];

/// One random equation with operand shapes; `None` when the draw is unusable.
struct Drawn {
    pattern: String,
    shapes: Vec<Vec<usize>>,
    ellipsis: Vec<bool>,
}

fn draw(rng: &mut Rng) -> Option<Drawn> {
    let n_ops = [1, 2, 2, 2, 3, 3, 4][rng.below(7)];
    let named = rng.chance(10);
    let ellipsis_eq = rng.chance(10);
    let n_labels = 1 + rng.below(7);
    let mut pool: Vec<String> = Vec::new();
    while pool.len() < n_labels {
        let l = if named {
            NAMES[rng.below(NAMES.len())].to_string()
        } else {
            // mostly lower case, some upper case
            let i = if rng.chance(20) { 26 + rng.below(26) } else { rng.below(26) };
            (LETTERS[i] as char).to_string()
        };
        if !pool.contains(&l) {
            pool.push(l);
        }
    }
    let sizes: Vec<usize> = (0..n_labels).map(|_| 1 + rng.below(3)).collect();
    let mut terms: Vec<Vec<usize>> = Vec::new();
    for _ in 0..n_ops {
        // scalars sometimes; distinct labels, sometimes one repeated (a diagonal)
        let rank = if rng.chance(10) { 0 } else { (1 + rng.below(4)).min(n_labels) };
        let mut free: Vec<usize> = (0..n_labels).collect();
        let mut t: Vec<usize> = (0..rank).map(|_| free.remove(rng.below(free.len()))).collect();
        if rank > 0 && rng.chance(20) {
            // a diagonal: one more axis repeating a label of the term
            let l = t[rng.below(rank)];
            t.insert(rng.below(rank + 1), l);
        }
        terms.push(t);
    }
    // size-1 broadcasting: per (operand, label), sometimes hold the label at size 1
    let mut shapes: Vec<Vec<usize>> = Vec::new();
    for t in &terms {
        let mut ones = vec![false; n_labels];
        for o in ones.iter_mut() {
            *o = rng.chance(15);
        }
        shapes.push(t.iter().map(|&l| if ones[l] { 1 } else { sizes[l] }).collect());
    }
    // `...`: some operands get 0-2 leading broadcast dimensions (right-aligned, sizes 1 or 2)
    let mut ell = vec![false; n_ops];
    let mut ell_dims: Vec<Vec<usize>> = vec![Vec::new(); n_ops];
    if ellipsis_eq {
        let e_sizes: Vec<usize> = (0..2).map(|_| 1 + rng.below(2)).collect();
        for k in 0..n_ops {
            if rng.chance(70) {
                ell[k] = true;
                let e = rng.below(3);
                ell_dims[k] = (2 - e..2).map(|p| if rng.chance(20) { 1 } else { e_sizes[p] }).collect();
            }
        }
        if !ell.iter().any(|&b| b) {
            ell[0] = true;
        }
    }
    let sep = if named { " " } else { "" };
    let term_text = |t: &[usize], e: bool| {
        let mut parts: Vec<String> = t.iter().map(|&l| pool[l].clone()).collect();
        if e {
            let at = parts.len() / 2;
            parts.insert(at, "...".into());
        }
        parts.join(sep)
    };
    let inputs: Vec<String> = terms.iter().zip(&ell).map(|(t, &e)| term_text(t, e)).collect();
    let mut pattern = inputs.join(if named { ", " } else { "," });
    if !rng.chance(20) {
        // explicit output: a random subset of the input labels, in random order
        let mut used: Vec<usize> = Vec::new();
        for &l in terms.iter().flatten() {
            if !used.contains(&l) {
                used.push(l);
            }
        }
        let mut out = Vec::new();
        while !used.is_empty() {
            let l = used.remove(rng.below(used.len()));
            if rng.chance(60) {
                out.push(l);
            }
        }
        let out_e = ellipsis_eq && rng.chance(70);
        pattern.push_str(if named { " -> " } else { "->" });
        pattern.push_str(&term_text(&out, out_e));
    }
    // ellipsis dimensions go where the term's `...` is
    let shapes: Vec<Vec<usize>> = shapes
        .into_iter()
        .zip(&ell_dims)
        .zip(&terms)
        .map(|((s, e), t)| {
            let at = t.len() / 2;
            let mut v = s[..at].to_vec();
            v.extend(e);
            v.extend(&s[at..]);
            v
        })
        .collect();
    let eq = Equation::parse(&pattern).ok()?;
    if named != eq.named {
        return None;
    }
    let ranks: Vec<usize> = shapes.iter().map(|s| s.len()).collect();
    let ext = ExtEinsum::resolve(&eq, &ranks).ok()?;
    let refs: Vec<&[usize]> = shapes.iter().map(|s| &s[..]).collect();
    ext.label_sizes(&refs, None).ok()?;
    Some(Drawn { pattern, shapes, ellipsis: ell })
}

fn random() -> String {
    let mut rng = Rng(SEED);
    let mut s = String::new();
    let mut seen: Vec<String> = Vec::new();
    let mut n = 0;
    while n < RANDOM_EQUATIONS {
        let Some(d) = draw(&mut rng) else { continue };
        if seen.contains(&d.pattern) {
            continue;
        }
        seen.push(d.pattern.clone());
        let mut vars = String::new();
        let mut refs = Vec::new();
        let mut arefs = Vec::new();
        let mut dyns = Vec::new();
        for (k, (shape, &e)) in d.shapes.iter().zip(&d.ellipsis).enumerate() {
            let dm = dim(shape.len(), e);
            writeln!(
                vars,
                "    let a{k} = values::<{dm}>(&{shape:?}, {seed});\n    let o{k} = Var::new(a{k}.clone());",
                seed = n * 8 + k
            )
            .unwrap();
            refs.push(format!("&o{k}"));
            arefs.push(format!("&a{k}"));
            dyns.push(format!("&o{k}"));
        }
        write!(
            s,
            r#"
#[test]
fn random_{n:03}() {{
{vars}    let m = einsum!({p:?}, {refs});
    let a = einsum!({p:?}, {arefs});
    compare({p:?}, &m.as_dyn(), &a.into_dyn(), &[{dyns}], {n});
}}
"#,
            p = d.pattern,
            refs = refs.join(", "),
            arefs = arefs.join(", "),
            dyns = dyns.join(", "),
        )
        .unwrap();
        n += 1;
    }
    writeln!(s, "\nconst RANDOM_EQUATIONS: usize = {RANDOM_EQUATIONS};").unwrap();
    writeln!(s, "const RANDOM_PATTERNS: &[&str] = &{seen:?};").unwrap();
    s
}
