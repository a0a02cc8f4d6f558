//! Stage 3a: the loop nest of one kernel, written out.
//!
//! For a kernel (an extended einsum of one or two inputs with a loop order), [`forward`] writes
//! the body of its `Spec::forward`: the item `run`, a nest of `for` loops in the kernel's loop
//! order in which each loop advances only the operands its label indexes, and the call of the
//! runtime's shared `__private::forward`, which checks the sizes, hands large work to the
//! executor, allocates the output, computes each operand's stride per loop from the kernel's
//! constant data ([`data_fields`]) and calls `run`. The innermost one or two loops call a
//! microkernel of the runtime's `__private::micro` (one shared copy per element type and operand
//! count), chosen here from the labels' roles ([`Inner`]).

use crate::analyse::KernelPlan;
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};
use slowgrad_core::{classify, role, ExtEinsum, KernelKind, Role};

/// How the innermost loops of a kernel run, decided from its equation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inner {
    /// No labels: one product.
    Scalar,
    /// The innermost label is summed: a reduction (`micro::dot`).
    Dot,
    /// The output moves along the innermost label (`micro::axpy`).
    Axpy,
    /// One of the two innermost labels runs along the output and the other is summed
    /// (`micro::rows`): `row` is the loop level along the output's row, `sum` the summed one, and
    /// `rows` the level outside them whose rows are computed in pairs, if the output moves
    /// along it.
    Rows {
        /// Level along the output's row.
        row: usize,
        /// Summed level.
        sum: usize,
        /// Level of the rows, if any.
        rows: Option<usize>,
    },
}

/// The shape of a kernel's nest: which participant (0 the output, `k + 1` input `k`) each loop
/// level moves, and how the innermost loops run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NestShape {
    /// `moves[p][level]`: participant `p` carries the level's label.
    pub moves: Vec<Vec<bool>>,
    /// The innermost loops.
    pub inner: Inner,
    /// Loop levels written as plain `for` loops (outermost first).
    pub outer: usize,
}

impl NestShape {
    /// The nest of `k`, a kernel of one or two inputs (the planner makes no others), else
    /// `None`: such a kernel would run in the executor.
    pub fn of(k: &KernelPlan) -> Option<NestShape> {
        (1..=2).contains(&k.local.inputs.len()).then(|| NestShape::new(k))
    }

    /// The nest of `k`.
    pub fn new(k: &KernelPlan) -> NestShape {
        let e = &k.local;
        let terms: Vec<&Vec<usize>> = std::iter::once(&e.output).chain(&e.inputs).collect();
        let moves: Vec<Vec<bool>> = terms.iter().map(|t| k.order.iter().map(|l| t.contains(l)).collect()).collect();
        let d = k.order.len();
        let out = &moves[0];
        let (inner, outer) = match d {
            0 => (Inner::Scalar, 0),
            1 => (if out[0] { Inner::Axpy } else { Inner::Dot }, 0),
            _ => {
                let (a, b) = (d - 1, d - 2);
                let block = match (out[a], out[b]) {
                    (true, false) => Some((a, b)),
                    (false, true) => Some((b, a)),
                    _ => None,
                };
                // blocked rows read their inputs with unit stride along the row, copying an input
                // stored otherwise first; an input that every loop moves would be copied whole
                // for a single use, so when the innermost loop is the sum, which reads such an
                // input with unit stride, it runs alone (dot products) instead
                let block = block.filter(|&(row, sum)| {
                    let row = k.order[row];
                    sum != a
                        || !e.inputs.iter().any(|t| {
                            t.contains(&row) && t.last() != Some(&row) && k.order.iter().all(|l| t.contains(l))
                        })
                });
                match block {
                    Some((row, sum)) => {
                        let rows = (d >= 3 && out[d - 3]).then(|| d - 3);
                        let outer = rows.unwrap_or(d - 2);
                        (Inner::Rows { row, sum, rows }, outer)
                    }
                    None => (if out[a] { Inner::Axpy } else { Inner::Dot }, d - 1),
                }
            }
        };
        NestShape { moves, inner, outer }
    }
}

fn lit(i: usize) -> Literal {
    Literal::usize_unsuffixed(i)
}

/// The fields of a kernel's `KernelData` that the shared `__private::forward` reads to run its
/// nest: `level` (the loop level of each label), `batch` (the batch labels of a batched
/// matrix-matrix product, whose large work is recognised by the size of one product), `pack`
/// (the row level of blocked rows, along which operands are copied first if their stride is
/// neither 0 nor 1), `merge` (whether an axpy or dot nest joins its two innermost levels when
/// every operand walks them as one) and `overwrite` (an axpy nest whose labels are each on one
/// output axis: it writes every output element once, into an output not zeroed first), for
/// kernel `k` whose nest is `shape` ([`NestShape::of`]).
pub fn data_fields(k: &KernelPlan, shape: Option<&NestShape>) -> TokenStream {
    let e = &k.local;
    let mut level = vec![0; k.order.len()];
    for (j, &l) in k.order.iter().enumerate() {
        level[l] = j;
    }
    let level = level.into_iter().map(lit);
    let batch = option(batch_labels(e).map(|batch| {
        let batch = batch.into_iter().map(lit);
        quote!(&[#(#batch),*])
    }));
    let (pack, merge, overwrite) = match shape {
        Some(shape) => {
            let pack = match shape.inner {
                Inner::Rows { row, .. } if shape.moves[1..].iter().any(|m| m[row]) => Some(lit(row)),
                _ => None,
            };
            // every label on exactly one output axis: no sum, no diagonal written
            let once = (0..e.names.len()).all(|l| e.output.iter().filter(|&&m| m == l).count() == 1);
            (
                pack,
                k.order.len() >= 2 && matches!(shape.inner, Inner::Axpy | Inner::Dot),
                shape.inner == Inner::Axpy && once,
            )
        }
        None => (None, false, false),
    };
    let pack = option(pack.map(|row| quote!(#row)));
    quote! {
        level: &[#(#level),*],
        batch: #batch,
        pack: #pack,
        merge: #merge,
        overwrite: #overwrite,
    }
}

/// `Some(x)` or `None` as tokens.
fn option(x: Option<TokenStream>) -> TokenStream {
    match x {
        Some(x) => quote!(::core::option::Option::Some(#x)),
        None => quote!(::core::option::Option::None),
    }
}

/// The body of the generated `Spec::forward` of kernel `k`, whose nest is `shape`
/// ([`NestShape::of`]): its nest `run` and the call of the shared `forward`, which computes the
/// sizes and strides and calls `run`; `p` is the path of `__private`.
pub fn forward(k: &KernelPlan, shape: Option<&NestShape>, p: &TokenStream) -> TokenStream {
    let Some(shape) = shape else {
        // never produced by the planner (steps take one or two operands): the executor runs it
        return quote!(#p::large::<T>(Self::DATA, inputs, out_shape));
    };
    let (d, n_in) = (k.order.len(), k.local.inputs.len());
    let nest = nest_fn(shape, d, n_in, p);
    let (depth, n_in) = (lit(d), lit(n_in));
    quote! {
        #nest
        // SAFETY: `run` is this kernel's nest: it moves each operand only along the levels of
        // its labels, by the strides that `forward` computes for them, below the sizes it checks.
        unsafe { #p::forward::<T, #depth, #n_in>(Self::DATA, inputs, out_shape, run::<T>) }
    }
}

/// The batch labels (in both operands and the output) of a batched matrix-matrix product (a
/// two-operand matrix-product kernel with batch, left-free, right-free and contracted labels),
/// else `None`. Batched matrix-vector products (no label free on one side) are left to the
/// rule of all other kernels: the executor runs them faster from 12³ multiply-adds in all.
fn batch_labels(e: &ExtEinsum) -> Option<Vec<usize>> {
    if e.inputs.len() != 2 || classify(e) != KernelKind::BatchedGemm {
        return None;
    }
    let roles: Vec<Role> = (0..e.names.len()).map(|l| role(e, l)).collect();
    let has = |r: Role| roles.contains(&r);
    if !(has(Role::LeftFree) && has(Role::RightFree) && has(Role::Contracted)) {
        return None;
    }
    let batch: Vec<usize> = (0..roles.len()).filter(|&l| roles[l] == Role::Batch).collect();
    (!batch.is_empty()).then_some(batch)
}

/// The item `run`: the loops, with the microkernels' AVX2+FMA copies where the processor has
/// them (`fma`, read once per call).
fn nest_fn(shape: &NestShape, d: usize, n_in: usize, p: &TokenStream) -> TokenStream {
    let depth = lit(d);
    let n = lit(n_in);
    let names: Vec<syn::Ident> = ["a", "b"].iter().take(n_in).map(|s| format_ident!("{}", s)).collect();
    let body = loops(shape, 0, &names, p);
    quote! {
        #[inline(never)]
        unsafe fn run<T: #p::Float>(
            n: &[usize; #depth],
            so: &[isize; #depth],
            si: &[[isize; #depth]; #n],
            po: *mut T,
            ptr: [*const T; #n],
            store: bool,
        ) {
            let fma = #p::kernels_use_fma();
            let [#(#names),*] = ptr;
            let o = po;
            // SAFETY: the caller guarantees every offset formed from `n`, `so` and `si`.
            unsafe { #body }
        }
    }
}

/// The loops from `level` inward.
fn loops(shape: &NestShape, level: usize, names: &[syn::Ident], p: &TokenStream) -> TokenStream {
    let n_in = names.len();
    let nl = lit(n_in);
    // the stride of input k at level l as the microkernels take it: 0 (written as such) where
    // the equation says the input does not move
    let s_in = |l: usize| -> Vec<TokenStream> {
        (0..n_in)
            .map(|k| {
                if shape.moves[k + 1][l] {
                    let (k, l) = (lit(k), lit(l));
                    quote!(si[#k][#l])
                } else {
                    quote!(0)
                }
            })
            .collect()
    };
    let s_out = |l: usize| -> TokenStream {
        if shape.moves[0][l] {
            let l = lit(l);
            quote!(so[#l])
        } else {
            quote!(0)
        }
    };
    if level < shape.outer {
        let i = format_ident!("i{}", level);
        let l = lit(level);
        let mut advance = Vec::new();
        if shape.moves[0][level] {
            advance.push(quote!(let o = o.offset(#i as isize * so[#l]);));
        }
        for (k, name) in names.iter().enumerate() {
            if shape.moves[k + 1][level] {
                let kk = lit(k);
                advance.push(quote!(let #name = #name.offset(#i as isize * si[#kk][#l]);));
            }
        }
        let inner = loops(shape, level + 1, names, p);
        return quote! {
            for #i in 0..n[#l] {
                #(#advance)*
                #inner
            }
        };
    }
    match shape.inner {
        Inner::Scalar => quote!(#p::micro::scalar::<T, #nl>(o, [#(#names),*]);),
        Inner::Dot | Inner::Axpy => {
            let l = level;
            let s = s_in(l);
            let ll = lit(l);
            if shape.inner == Inner::Dot {
                quote!(#p::micro::dot_call::<T, #nl>(fma, o, [#(#names),*], [#(#s),*], n[#ll]);)
            } else {
                let so = s_out(l);
                quote!(#p::micro::axpy_call::<T, #nl>(fma, o, #so, [#(#names),*], [#(#s),*], n[#ll], store);)
            }
        }
        Inner::Rows { row, sum, rows } => {
            let hoist = (0..n_in).filter(|&k| !shape.moves[k + 1][row]).fold(0u32, |m, k| m | 1 << k);
            let hoist = Literal::u32_unsuffixed(hoist);
            let (s, m) = (s_in(row), s_in(sum));
            let (so_row, n_row, n_sum) = (s_out(row), lit(row), lit(sum));
            let (ro, ri) = match rows {
                Some(r) => (s_out(r), s_in(r)),
                None => (quote!(0), vec![quote!(0); n_in]),
            };
            let call = |r: usize| {
                let r = lit(r);
                quote!(#p::micro::rows_call::<T, #nl, #hoist, #r>(fma, o, [#(#names),*], g);)
            };
            let (one, two) = (call(1), call(2));
            let run = match rows {
                // the rows two at a time (two chains of additions), the last alone
                Some(r) => {
                    let l = lit(r);
                    let i = format_ident!("i{}", r);
                    let mut advance = vec![quote!(let o = o.offset(#i as isize * so[#l]);)];
                    for (k, name) in names.iter().enumerate() {
                        if shape.moves[k + 1][r] {
                            let kk = lit(k);
                            advance.push(quote!(let #name = #name.offset(#i as isize * si[#kk][#l]);));
                        }
                    }
                    quote! {
                        for #i in (0..n[#l]).step_by(2) {
                            #(#advance)*
                            if #i + 1 < n[#l] {
                                #two
                            } else {
                                #one
                            }
                        }
                    }
                }
                None => one,
            };
            quote! {
                let g = #p::micro::Rows {
                    ro: #ro,
                    so: #so_row,
                    ri: [#(#ri),*],
                    s: [#(#s),*],
                    m: [#(#m),*],
                    n_sum: n[#n_sum],
                    n: n[#n_row],
                };
                #run
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{analyse, Compiled, Invocation};

    /// The nest shape of every kernel of `pattern`, by equation.
    fn shapes(pattern: &str, n: usize) -> Vec<(String, NestShape)> {
        let operands = (0..n).map(|i| syn::parse_str(&format!("&x{i}")).expect("an expression")).collect();
        let lit = syn::LitStr::new(pattern, proc_macro2::Span::call_site());
        let inv = Invocation { krate: quote!(crate), pattern: lit, operands };
        match analyse(inv).expect("valid").compiled {
            Compiled::Static(p) => p.kernels.iter().map(|k| (k.spec.to_string(), NestShape::new(k))).collect(),
            Compiled::Ellipsis => panic!("static pattern expected"),
        }
    }

    /// A matrix product and its gradients run as register-blocked rows, in pairs of rows along
    /// the outer free label; the operand a label does not index is hoisted.
    #[test]
    fn matmul_family_runs_blocked_rows() {
        let s = shapes("ij,jk->ik", 2);
        // ij,jk->ik: loops i, j, k; the row is k (level 2), the sum j (level 1), rows i
        let (eq, fwd) = &s[0];
        assert_eq!(eq, "ij,jk->ik");
        assert_eq!(fwd.inner, Inner::Rows { row: 2, sum: 1, rows: Some(0) });
        assert_eq!(fwd.outer, 0);
        assert_eq!(fwd.moves, vec![vec![true, false, true], vec![true, true, false], vec![false, true, true]]);
        // ik,jk->ij: loops i, j, k; the output runs along j, k is summed
        let (eq, g) = &s[1];
        assert_eq!(eq, "ik,jk->ij");
        assert_eq!(g.inner, Inner::Rows { row: 1, sum: 2, rows: Some(0) });
        for (eq, k) in &s {
            assert!(matches!(k.inner, Inner::Rows { .. }), "{eq}: {k:?}");
        }
    }

    /// A sum over the innermost label is a dot product; a broadcast or elementwise kernel is an
    /// axpy along the output; a diagonal read walks one loop over both axes.
    #[test]
    fn reductions_broadcasts_and_diagonals() {
        // a row sum: one loop along the output next to the summed one, blocked rows
        let s = shapes("ij->i", 1);
        assert!(matches!(s[0].1.inner, Inner::Rows { rows: None, .. }), "{:?}", s[0].1);
        // a batched matrix-vector product's gradient bij,bj->bi: its first input is read across
        // its rows and moved by every loop, so dot products rather than a copy
        let s = shapes("bi,bj->bij", 2);
        assert_eq!(s[1].0, "bij,bj->bi");
        assert_eq!((s[1].1.inner, s[1].1.outer), (Inner::Dot, 2));
        // a full sum over the innermost label is a dot product
        let s = shapes("ij->", 1);
        assert_eq!((s[0].1.inner, s[0].1.outer), (Inner::Dot, 1));
        let s = shapes("ij->i", 1);
        // its gradient i->ij broadcasts along j: an axpy whose input does not move
        assert_eq!(s[1].0, "i->ij");
        assert_eq!(s[1].1.inner, Inner::Axpy);
        assert_eq!(s[1].1.moves[1], vec![true, false]);
        let s = shapes("ij,ij->ij", 2);
        assert_eq!(s[0].1.inner, Inner::Axpy);
        let s = shapes("ii->i", 1);
        assert_eq!((s[0].1.inner, s[0].1.moves.clone()), (Inner::Axpy, vec![vec![true], vec![true]]));
        let s = shapes("i->", 1);
        assert_eq!(s[0].1.inner, Inner::Dot);
        assert_eq!(s[1].1.inner, Inner::Axpy);
        let s = shapes(",->", 2);
        assert_eq!(s[0].1.inner, Inner::Scalar);
    }
}
