//! Random extended-feature einsum equations with fitting shapes, for property tests.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A generated equation and operand shapes that fit it.
#[derive(Debug, Clone)]
pub struct Generated {
    pub pattern: String,
    pub shapes: Vec<Vec<usize>>,
    pub features: Vec<&'static str>,
}

/// Builds a random pattern from `seed`: 1 to 4 operands, diagonals, labels private to one
/// operand, size-1 broadcasting, `...`, scalars, upper-case letters, implicit outputs and named
/// labels all occur.
pub fn generate(seed: u64) -> Generated {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut features = Vec::new();
    let n_ops = match rng.random_range(0..10) {
        0..=2 => 1,
        3..=6 => 2,
        7..=8 => 3,
        _ => 4,
    };
    let mut pool: Vec<char> = "ijkabAB".chars().collect();
    let n_labels = rng.random_range(1..=5);
    let labels: Vec<char> = (0..n_labels).map(|_| pool.remove(rng.random_range(0..pool.len()))).collect();
    let sizes: Vec<usize> = labels.iter().map(|_| rng.random_range(1..=3)).collect();
    let use_ellipsis = rng.random_bool(0.2);
    let ell_sizes: Vec<usize> = (0..rng.random_range(1..=2)).map(|_| rng.random_range(1..=3)).collect();
    let mut terms: Vec<Vec<usize>> = Vec::new(); // label indices
    let mut term_ell: Vec<Option<usize>> = Vec::new(); // ellipsis position and dims
    let mut shapes = Vec::new();
    for _ in 0..n_ops {
        let len = rng.random_range(0..=3);
        let t: Vec<usize> = (0..len).map(|_| rng.random_range(0..labels.len())).collect();
        let mut dims: Vec<usize> = Vec::new();
        let mut own: Vec<(usize, usize)> = Vec::new();
        for &l in &t {
            let d = match own.iter().find(|(m, _)| *m == l) {
                Some((_, d)) => *d,
                None => {
                    let d = if sizes[l] > 1 && rng.random_bool(0.15) { 1 } else { sizes[l] };
                    own.push((l, d));
                    d
                }
            };
            dims.push(d);
        }
        let ell = if use_ellipsis && rng.random_bool(0.7) {
            let e = rng.random_range(0..=ell_sizes.len());
            let pos = rng.random_range(0..=t.len());
            let ed: Vec<usize> = ell_sizes[ell_sizes.len() - e..]
                .iter()
                .map(|&s| if s > 1 && rng.random_bool(0.2) { 1 } else { s })
                .collect();
            dims.splice(pos..pos, ed);
            Some(pos)
        } else {
            None
        };
        if t.is_empty() && ell.is_none() {
            features.push("scalar");
        }
        if t.iter().enumerate().any(|(i, l)| t[..i].contains(l)) {
            features.push("diagonal");
        }
        terms.push(t);
        term_ell.push(ell);
        shapes.push(dims);
    }
    let any_ell = term_ell.iter().any(|e| e.is_some());
    if any_ell {
        features.push("ellipsis");
    }
    let mut present: Vec<usize> = Vec::new();
    for t in &terms {
        for &l in t {
            if !present.contains(&l) {
                present.push(l);
            }
        }
    }
    // an implicit output of one scalar operand would be the empty pattern
    let implicit = rng.random_bool(0.2) && !(n_ops == 1 && terms[0].is_empty() && term_ell[0].is_none());
    let mut out: Vec<usize> = Vec::new();
    for &l in &present {
        if rng.random_bool(0.5) {
            out.push(l);
        }
    }
    // shuffle
    for i in (1..out.len()).rev() {
        let j = rng.random_range(0..=i);
        out.swap(i, j);
    }
    let out_ell = any_ell && rng.random_bool(0.7);
    let named = rng.random_bool(0.15);
    let name = |l: usize| -> String {
        if named {
            format!("x{}", labels[l])
        } else {
            labels[l].to_string()
        }
    };
    let sep = if named { " " } else { "" };
    let render = |t: &[usize], ell: Option<usize>| -> String {
        let mut parts: Vec<String> = t.iter().map(|&l| name(l)).collect();
        if let Some(p) = ell {
            parts.insert(p, "...".to_string());
        }
        parts.join(sep)
    };
    let inputs: Vec<String> = terms.iter().zip(&term_ell).map(|(t, e)| render(t, *e)).collect();
    let mut pattern = inputs.join(if named { ", " } else { "," });
    if implicit {
        features.push("implicit");
    } else {
        let ell = if out_ell { Some(rng.random_range(0..=out.len())) } else { None };
        pattern.push_str(if named { " -> " } else { "->" });
        pattern.push_str(&render(&out, ell));
    }
    if named && terms.iter().any(|t| t.len() > 1) {
        features.push("named");
    } else if named {
        // a named pattern needs one term with two tokens; fall back to letters
        let plain: Vec<String> = terms.iter().zip(&term_ell).map(|(t, e)| render_letters(t, *e, &labels)).collect();
        pattern = plain.join(",");
        if !implicit {
            let out_text = render_letters(&out, if out_ell { Some(0) } else { None }, &labels);
            pattern = format!("{pattern}->{out_text}");
        }
    }
    if labels.iter().any(|c| c.is_ascii_uppercase()) {
        features.push("uppercase");
    }
    if shapes.iter().zip(&terms).any(|(s, t)| t.iter().any(|&l| sizes[l] > 1) && s.contains(&1)) {
        features.push("size1");
    }
    features.push(["", "1op", "2ops", "3ops", "4ops"][n_ops]);
    Generated { pattern, shapes, features }
}

fn render_letters(t: &[usize], ell: Option<usize>, labels: &[char]) -> String {
    let mut s: String = t.iter().map(|&l| labels[l]).collect();
    if let Some(p) = ell {
        s.insert_str(p.min(s.len()), "...");
    }
    s
}
