//! Stage 2: check the pattern against the operands and build the compile-time plan.
//!
//! The pattern is parsed and resolved by `slowgrad_core` (the runtime's own analysis), and split
//! into steps by `Plan::new(&ext, None)`, which is also what `slowgrad_runtime::explain` prints.
//! Each step becomes a kernel, and so does every gradient of a kernel, to any order: the family is
//! finite, since the gradient of a one-input step `A->C` is `C->A` (whose gradient is `A->C`) and
//! the gradients of a two-input step `A,B->C` are orderings of the three terms `A`, `B`, `C` (at
//! most six kernels). Kernels are deduplicated by equation.

use crate::parse::Invocation;
use slowgrad_core::{loop_order, EinsumError, Equation, ExtEinsum, Plan};
use std::fmt;
use syn::{Expr, LitStr};

/// The most operands one `einsum!` call takes (tuples up to this arity have impls).
pub const MAX_OPERANDS: usize = 8;

/// The analysed invocation.
#[derive(Clone)]
pub struct Analysis {
    /// The path of the crate whose `__private` module the expansion refers to.
    pub krate: proc_macro2::TokenStream,
    /// The pattern literal, for spans.
    pub pattern: LitStr,
    /// The operand expressions.
    pub operands: Vec<Expr>,
    /// The parsed pattern.
    pub equation: Equation,
    /// Number of labels of each input term (without `...`).
    pub labels: Vec<usize>,
    /// How the pattern is executed.
    pub compiled: Compiled,
}

impl fmt::Debug for Analysis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Analysis")
            .field("pattern", &self.pattern.value())
            .field("operands", &self.operands.len())
            .field("compiled", &self.compiled)
            .finish()
    }
}

/// How a pattern is executed.
#[derive(Debug, Clone, PartialEq)]
pub enum Compiled {
    /// No `...`: all ranks known, plan and kernels made at compile time.
    Static(Box<StaticPlan>),
    /// With `...`: ranks known only at run time, so the runtime interpreter runs it.
    Ellipsis,
}

/// The compile-time plan of a pattern without `...`.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticPlan {
    /// The resolved equation (implicit output made explicit).
    pub ext: ExtEinsum,
    /// The forward plan, as `Plan::new(&ext, None)` (and `explain`) makes it.
    pub plan: Plan,
    /// Every kernel: the steps' and, transitively, their gradients'.
    pub kernels: Vec<KernelPlan>,
    /// The kernel of each plan step.
    pub step_kernels: Vec<usize>,
}

/// One generated kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelPlan {
    /// The equation with the pattern's label ids.
    pub spec: ExtEinsum,
    /// The same equation with label ids renumbered from 0 in order of first appearance.
    pub local: ExtEinsum,
    /// Loop order (local ids), outermost first: `slowgrad_core::loop_order` of the equation.
    pub order: Vec<usize>,
    /// The kernel of the gradient with respect to each input.
    pub grads: Vec<usize>,
}

fn error(lit: &LitStr, e: EinsumError) -> syn::Error {
    syn::Error::new(lit.span(), e.to_string())
}

/// Analyses a parsed invocation.
///
/// **Errors** (pointing at the pattern) if the pattern is malformed or the operand count differs
/// from the number of input terms.
pub fn analyse(inv: Invocation) -> syn::Result<Analysis> {
    let Invocation { krate, pattern, operands } = inv;
    let equation = Equation::parse(&pattern.value()).map_err(|e| error(&pattern, e))?;
    if equation.inputs.len() != operands.len() {
        let e = EinsumError::OperandCount { terms: equation.inputs.len(), operands: operands.len() };
        return Err(error(&pattern, e));
    }
    if operands.len() > MAX_OPERANDS {
        return Err(syn::Error::new(
            pattern.span(),
            format!(
                "einsum! takes at most {MAX_OPERANDS} operands, this pattern has {}: use slowgrad::einsum() or split the pattern",
                operands.len()
            ),
        ));
    }
    let labels: Vec<usize> = equation.inputs.iter().map(|t| t.label_count()).collect();
    let ellipsis = equation.inputs.iter().chain(equation.output.iter()).any(|t| t.has_ellipsis());
    let compiled = if ellipsis {
        Compiled::Ellipsis
    } else {
        let ext = ExtEinsum::resolve(&equation, &labels).map_err(|e| error(&pattern, e))?;
        Compiled::Static(Box::new(StaticPlan::new(ext)))
    };
    Ok(Analysis { krate, pattern, operands, equation, labels, compiled })
}

impl StaticPlan {
    /// Plans `ext` and generates the closed family of kernels of its steps.
    pub fn new(ext: ExtEinsum) -> StaticPlan {
        let plan = Plan::new(&ext, None);
        let mut kernels: Vec<KernelPlan> = Vec::new();
        let mut step_kernels = Vec::with_capacity(plan.steps.len());
        for step in &plan.steps {
            step_kernels.push(close(&mut kernels, &step.spec));
        }
        StaticPlan { ext, plan, kernels, step_kernels }
    }
}

/// Adds `spec` and, transitively, its gradients to `kernels`; returns the index of `spec`.
fn close(kernels: &mut Vec<KernelPlan>, spec: &ExtEinsum) -> usize {
    let root = intern(kernels, spec);
    let mut i = root;
    // kernels are only appended, so a forward scan from the root visits every new one
    while i < kernels.len() {
        if kernels[i].grads.is_empty() {
            let spec = kernels[i].spec.clone();
            let grads = (0..spec.inputs.len()).map(|k| intern(kernels, &spec.gradient(k))).collect();
            kernels[i].grads = grads;
        }
        i += 1;
    }
    root
}

fn intern(kernels: &mut Vec<KernelPlan>, spec: &ExtEinsum) -> usize {
    if let Some(i) = kernels.iter().position(|k| k.spec == *spec) {
        return i;
    }
    let (local, map) = localize(spec);
    let order = loop_order(spec).iter().map(|l| map[*l]).collect();
    kernels.push(KernelPlan { spec: spec.clone(), local, order, grads: Vec::new() });
    kernels.len() - 1
}

/// Renumbers the labels of `spec` from 0 in order of first appearance (inputs, then output);
/// returns the new equation and the map from old to new ids (`usize::MAX` for unused labels).
fn localize(spec: &ExtEinsum) -> (ExtEinsum, Vec<usize>) {
    let mut map = vec![usize::MAX; spec.names.len()];
    let mut names = Vec::new();
    for &l in spec.inputs.iter().flatten().chain(&spec.output) {
        if map[l] == usize::MAX {
            map[l] = names.len();
            names.push(spec.names[l].clone());
        }
    }
    let re = |t: &Vec<usize>| t.iter().map(|&l| map[l]).collect::<Vec<usize>>();
    let local = ExtEinsum { inputs: spec.inputs.iter().map(re).collect(), output: re(&spec.output), names };
    (local, map)
}

impl fmt::Display for StaticPlan {
    /// The forward plan (as `explain` prints it) and every kernel with its loops and gradients.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.plan)?;
        let steps: Vec<String> = self.step_kernels.iter().map(|k| format!("K{k}")).collect();
        writeln!(f, "steps run {}", steps.join(", "))?;
        for (i, k) in self.kernels.iter().enumerate() {
            let order: Vec<&str> = k.order.iter().map(|&l| k.local.names[l].as_str()).collect();
            let grads: Vec<String> = k.grads.iter().map(|g| format!("K{g}")).collect();
            writeln!(f, "  K{i} = {} | loops {} | grads {}", k.spec, order.join(","), grads.join(","))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;
    use slowgrad_core::Explanation;

    fn plan(p: &str, n: usize) -> StaticPlan {
        let lit = LitStr::new(p, proc_macro2::Span::call_site());
        let ops = (0..n).map(|_| syn::parse_quote!(&x)).collect();
        match analyse(Invocation { krate: quote!(::slowgrad), pattern: lit, operands: ops }).unwrap().compiled {
            Compiled::Static(s) => *s,
            Compiled::Ellipsis => panic!("static pattern expected"),
        }
    }

    fn err(tokens: proc_macro2::TokenStream) -> String {
        let inv: Invocation = syn::parse2(tokens).unwrap();
        analyse(inv).unwrap_err().to_string()
    }

    #[test]
    fn matmul_family_is_closed() {
        let p = plan("ij,jk->ik", 2);
        assert_eq!(p.step_kernels, vec![0]);
        let eqs: Vec<String> = p.kernels.iter().map(|k| k.spec.to_string()).collect();
        assert_eq!(eqs, ["ij,jk->ik", "ik,jk->ij", "ik,ij->jk", "ij,ik->jk", "jk,ij->ik", "jk,ik->ij"]);
        assert_eq!(p.kernels.len(), 6);
        // gradient of the gradient with respect to the upstream is the forward again
        assert_eq!(p.kernels[p.kernels[0].grads[0]].grads[0], 0);
        for k in &p.kernels {
            assert_eq!(k.grads.len(), 2);
        }
    }

    #[test]
    fn unary_family_has_two_kernels() {
        let p = plan("ii->i", 1);
        let eqs: Vec<String> = p.kernels.iter().map(|k| k.spec.to_string()).collect();
        assert_eq!(eqs, ["ii->i", "i->ii"]);
        assert_eq!(p.kernels[0].grads, [1]);
        assert_eq!(p.kernels[1].grads, [0]);
    }

    #[test]
    fn forward_plan_is_explains() {
        for (pat, n) in [("ij,jk,kl->il", 3), ("ab,bc,cd,de->ae", 4), ("bi,oij,bj->bo", 3), ("ab,cd->ab", 2)] {
            let p = plan(pat, n);
            let e = Explanation::new(&p.ext);
            assert_eq!(p.plan, e.forward, "{pat}");
            assert_eq!(p.step_kernels.len(), p.plan.steps.len());
            for (s, &k) in p.plan.steps.iter().zip(&p.step_kernels) {
                assert_eq!(p.kernels[k].spec, s.spec);
                let order: Vec<usize> = s.loop_order.iter().map(|&l| localize(&s.spec).1[l]).collect();
                assert_eq!(p.kernels[k].order, order);
            }
        }
    }

    #[test]
    fn local_ids_and_loop_order() {
        let p = plan("ab,bc,cd->ad", 3);
        for k in &p.kernels {
            let n = k.local.names.len();
            let mut o = k.order.clone();
            o.sort();
            assert_eq!(o, (0..n).collect::<Vec<_>>(), "{}", k.spec);
            assert_eq!(k.local.to_string(), k.spec.to_string());
        }
    }

    #[test]
    fn printed_plan() {
        let text = plan("ij,jk->ik", 2).to_string();
        assert!(text.starts_with("ij,jk->ik\n  #2 = ij,jk->ik | #0,#1 | BatchedGemm | loops i,j,k\n"), "{text}");
        assert!(text.contains("K1 = ik,jk->ij | loops i,j,k | grads K0,K3"), "{text}");
        assert!(text.contains("K2 = ik,ij->jk | loops j,i,k | grads K4,K5"), "{text}");
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            err(quote!("ij,jk->il", &a, &b)),
            "label `l` is in the output but in no input: every output label must appear in some input term"
        );
        assert_eq!(err(quote!("ij,jk->ik", &a)), "the pattern has 2 input terms but 1 operand was given");
        assert!(err(quote!("ij->ii", &a)).starts_with("label `i` is repeated in the output"));
        assert!(err(quote!("...i...->i", &a)).starts_with("term `...i...` has two ellipses"));
        assert!(err(quote!("i,i,i,i,i,i,i,i,i->", &a, &a, &a, &a, &a, &a, &a, &a, &a)).contains("at most 8 operands"));
    }

    #[test]
    fn ellipsis_runs_at_run_time() {
        let inv: Invocation = syn::parse2(quote!("...ij,...jk->...ik", &a, &b)).unwrap();
        let a = analyse(inv).unwrap();
        assert_eq!(a.compiled, Compiled::Ellipsis);
        assert_eq!(a.labels, [2, 2]);
    }
}
