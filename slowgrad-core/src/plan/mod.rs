//! Contraction plans: how an [`ExtEinsum`] is executed.
//!
//! A [`Plan`] splits an n-ary einsum into steps of at most two operands: first every operand
//! with labels of its own that are summed away (or with a diagonal that is summed) is reduced on
//! its own, then pairs are contracted, cheapest intermediate first, until one operand is left.
//! Each step is itself an [`ExtEinsum`], so its gradient is again one (see
//! [`ExtEinsum::gradient`]). Each step carries the label roles, the kernel class and the loop
//! order chosen for it.

use crate::ext::ExtEinsum;
use std::fmt;

/// The kind of kernel a step needs (see [`classify`]).
///
/// ```
/// use slowgrad_core::{ExtEinsum, KernelKind, Plan};
/// // `cd` is summed away on its own first, then the scalar scales `ab`
/// let plan = Plan::new(&ExtEinsum::parse("ab,cd->ab", &[2, 2]).unwrap(), None);
/// let kinds: Vec<KernelKind> = plan.steps.iter().map(|s| s.kind).collect();
/// assert_eq!(kinds, [KernelKind::Reduce, KernelKind::Elementwise]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KernelKind {
    /// One operand, output a permutation of its labels (possibly the identity).
    Permute,
    /// One operand, some labels summed away.
    Reduce,
    /// One operand with a repeated label (a diagonal read), possibly summed.
    Diagonal,
    /// The output repeats a label (diagonal write) or has labels in no input (broadcast).
    Scatter,
    /// Two operands, nothing summed: a broadcasting elementwise product.
    Elementwise,
    /// Two operands whose labels group into batch, free and contracted labels: a batched
    /// matrix product.
    BatchedGemm,
    /// Anything else: a general strided loop nest.
    LoopNest,
}

/// The role of one label in a step (see [`role`]).
///
/// ```
/// use slowgrad_core::{role, ExtEinsum, Role};
/// // a batched matrix product: `b` batch, `i` and `k` free, `j` contracted
/// let e = ExtEinsum::parse("bij,bjk->bik", &[3, 3]).unwrap();
/// let roles: Vec<Role> = (0..e.num_labels()).map(|l| role(&e, l)).collect();
/// assert_eq!(roles, [Role::Batch, Role::LeftFree, Role::Contracted, Role::RightFree]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// In both operands and the output.
    Batch,
    /// In the first operand and the output only.
    LeftFree,
    /// In the second operand and the output only.
    RightFree,
    /// In both operands, summed.
    Contracted,
    /// In one operand only, summed.
    Private,
    /// In the output only (broadcast).
    Broadcast,
    /// In the (single) operand and the output.
    Kept,
}

/// One executed contraction.
///
/// ```
/// use slowgrad_core::{ExtEinsum, KernelKind, Plan};
/// // sizes i = 2, j = 3, k = 4, l = 100: `ij,jk` is by far the cheapest pair
/// let e = ExtEinsum::parse("ij,jk,kl->il", &[2, 2, 2]).unwrap();
/// let plan = Plan::new(&e, Some(&[2, 3, 4, 100]));
/// let (first, last) = (&plan.steps[0], &plan.steps[1]);
/// assert_eq!((first.operands.clone(), first.spec.to_string()), (vec![0, 1], "ij,jk->ik".to_string()));
/// // slot 3 is the result of step 0 (after the three inputs)
/// assert_eq!((last.operands.clone(), last.spec.to_string()), (vec![3, 2], "ik,kl->il".to_string()));
/// assert_eq!(last.kind, KernelKind::BatchedGemm);
/// assert_eq!(last.loop_order.len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Slots read: `0..n` are the plan's inputs, `n + i` is the result of step `i`.
    pub operands: Vec<usize>,
    /// The step's equation (label ids shared with the whole plan).
    pub spec: ExtEinsum,
    /// The kernel class.
    pub kind: KernelKind,
    /// Label ids in loop order, outermost first, chosen for row-major operands.
    pub loop_order: Vec<usize>,
}

/// The execution plan of an [`ExtEinsum`].
///
/// ```
/// use slowgrad_core::{ExtEinsum, Plan};
/// let plan = Plan::new(&ExtEinsum::parse("ab,bc,cd,de->ae", &[2, 2, 2, 2]).unwrap(), None);
/// // pairwise: three steps for four operands, the last one producing the output
/// assert_eq!(plan.steps.len(), 3);
/// assert!(plan.steps.iter().all(|s| s.operands.len() == 2));
/// assert_eq!(plan.steps[2].spec.output, plan.equation.output);
/// assert!(plan.to_string().starts_with("ab,bc,cd,de->ae\n  #4 = "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The whole equation.
    pub equation: ExtEinsum,
    /// Steps in execution order; the last one produces the output.
    pub steps: Vec<Step>,
}

/// Role of label `l` in a step.
///
/// ```
/// use slowgrad_core::{role, ExtEinsum, Role};
/// // one operand: `j` is summed, `k` broadcast
/// let e = ExtEinsum::from_letters("ij", "ik").unwrap();
/// assert_eq!([role(&e, 0), role(&e, 1), role(&e, 2)], [Role::Kept, Role::Private, Role::Broadcast]);
/// ```
pub fn role(spec: &ExtEinsum, l: usize) -> Role {
    let in_out = spec.output.contains(&l);
    let ins: Vec<bool> = spec.inputs.iter().map(|t| t.contains(&l)).collect();
    let count = ins.iter().filter(|&&b| b).count();
    match (count, in_out) {
        (0, _) => Role::Broadcast,
        (1, false) => Role::Private,
        (_, false) => Role::Contracted,
        (1, true) if spec.inputs.len() == 1 => Role::Kept,
        (1, true) if ins[0] => Role::LeftFree,
        (1, true) => Role::RightFree,
        (_, true) => Role::Batch,
    }
}

fn has_repeat(t: &[usize]) -> bool {
    t.iter().enumerate().any(|(i, l)| t[..i].contains(l))
}

/// The kernel class of a step.
///
/// ```
/// use slowgrad_core::{classify, ExtEinsum, KernelKind};
/// let kind = |p: &str, ranks: &[usize]| classify(&ExtEinsum::parse(p, ranks).unwrap());
/// assert_eq!(kind("ij->ji", &[2]), KernelKind::Permute);
/// assert_eq!(kind("ij->i", &[2]), KernelKind::Reduce);
/// assert_eq!(kind("ii->i", &[2]), KernelKind::Diagonal);
/// assert_eq!(kind("ij,j->ij", &[2, 1]), KernelKind::Elementwise);
/// assert_eq!(kind("bij,bjk->bik", &[3, 3]), KernelKind::BatchedGemm);
/// assert_eq!(kind("ij,k->i", &[2, 1]), KernelKind::LoopNest); // `j` and `k` summed on their own
/// assert_eq!(classify(&ExtEinsum::from_letters("i", "ij").unwrap()), KernelKind::Scatter);
/// ```
pub fn classify(spec: &ExtEinsum) -> KernelKind {
    let out_extended =
        has_repeat(&spec.output) || spec.output.iter().any(|l| !spec.inputs.iter().any(|t| t.contains(l)));
    if out_extended {
        return KernelKind::Scatter;
    }
    let diag = spec.inputs.iter().any(|t| has_repeat(t));
    match spec.inputs.len() {
        1 => {
            let t = &spec.inputs[0];
            if diag {
                KernelKind::Diagonal
            } else if t.len() == spec.output.len() {
                KernelKind::Permute
            } else {
                KernelKind::Reduce
            }
        }
        2 if !diag => {
            let roles: Vec<Role> = spec.used_labels().into_iter().map(|l| role(spec, l)).collect();
            if roles.contains(&Role::Private) {
                KernelKind::LoopNest
            } else if roles.contains(&Role::Contracted) {
                KernelKind::BatchedGemm
            } else {
                KernelKind::Elementwise
            }
        }
        _ => KernelKind::LoopNest,
    }
}

/// Loop order for row-major operands: a label is placed further in the more it indexes the
/// last (fastest) axes of the terms; among labels equally far in, the one that is fastest in
/// more terms goes further in (so that as many participants as possible move contiguously in
/// the innermost loop), and then labels of the output, so the innermost loop writes
/// contiguously. When it does, the summed label furthest in moves right outside it, so that
/// the output's elements stay in registers while that sum runs.
///
/// ```
/// use slowgrad_core::{loop_order, ExtEinsum};
/// let names = |p: &str| {
///     let e = ExtEinsum::parse(p, &[2, 2]).unwrap();
///     loop_order(&e).iter().map(|&l| e.names[l].clone()).collect::<Vec<_>>()
/// };
/// // a matrix product: `k`, fastest in the second operand and the output, is innermost, and
/// // the summed `j` runs right outside it
/// assert_eq!(names("ij,jk->ik"), ["i", "j", "k"]);
/// // a·bᵀ: `k` is the fastest axis of both inputs, so the dot product is innermost
/// assert_eq!(names("ik,jk->ij"), ["i", "j", "k"]);
/// // xᵀ·g: the output row `j` stays in place while the summed `i` runs
/// assert_eq!(names("ik,ij->jk"), ["j", "i", "k"]);
/// ```
pub fn loop_order(spec: &ExtEinsum) -> Vec<usize> {
    let dist = |t: &[usize], l: usize| t.iter().rev().position(|&m| m == l);
    let terms = || spec.inputs.iter().chain(std::iter::once(&spec.output));
    let mut labels = spec.used_labels();
    let key = |l: usize| {
        let inner = terms().filter_map(|t| dist(t, l)).min().unwrap_or(usize::MAX);
        let at_inner = terms().filter(|t| dist(t, l) == Some(inner)).count();
        let out = dist(&spec.output, l).unwrap_or(usize::MAX);
        (inner, std::cmp::Reverse(at_inner), out)
    };
    labels.sort_by_key(|&l| std::cmp::Reverse(key(l)));
    // when the innermost loop writes along the output, a summed label right outside it keeps
    // the output's elements in place (in registers) while the sum runs
    if let Some(&last) = labels.last() {
        if spec.output.contains(&last) {
            let summed = labels.iter().rposition(|l| !spec.output.contains(l));
            if let Some(i) = summed {
                let l = labels.remove(i);
                labels.insert(labels.len() - 1, l);
            }
        }
    }
    labels
}

impl Step {
    fn new(operands: Vec<usize>, spec: ExtEinsum) -> Step {
        let kind = classify(&spec);
        let loop_order = loop_order(&spec);
        Step { operands, spec, kind, loop_order }
    }
}

impl Plan {
    /// Plans `equation`. With label sizes (`sizes[l]`), the next pair is the one whose
    /// contraction costs the fewest multiply-adds (then the one with the smallest result);
    /// without, the one that would be cheapest if all labels had one size: the pair with the
    /// fewest labels, then the result with the fewest.
    ///
    /// **Panics** if `sizes` has fewer entries than the equation has labels.
    ///
    /// ```
    /// use slowgrad_core::{ExtEinsum, Plan, KernelKind};
    /// let e = ExtEinsum::parse("ij,jk,kl->il", &[2, 2, 2]).unwrap();
    /// let plan = Plan::new(&e, Some(&[8, 64, 64, 8]));
    /// assert_eq!(plan.steps.len(), 2);
    /// assert_eq!(plan.steps[0].spec.to_string(), "ij,jk->ik");
    /// assert_eq!(plan.steps[1].kind, KernelKind::BatchedGemm);
    /// ```
    pub fn new(equation: &ExtEinsum, sizes: Option<&[usize]>) -> Plan {
        let n = equation.inputs.len();
        let with =
            |inputs: Vec<Vec<usize>>, output: Vec<usize>| ExtEinsum { inputs, output, names: equation.names.clone() };
        if n <= 1 {
            let spec = with(equation.inputs.clone(), equation.output.clone());
            return Plan { equation: equation.clone(), steps: vec![Step::new((0..n).collect(), spec)] };
        }
        // live operands: (slot, labels)
        let mut live: Vec<(usize, Vec<usize>)> = equation.inputs.iter().cloned().enumerate().collect();
        let mut steps = Vec::new();
        let needed_elsewhere = |live: &[(usize, Vec<usize>)], skip: &[usize], l: usize| {
            equation.output.contains(&l) || live.iter().any(|(s, t)| !skip.contains(s) && t.contains(&l))
        };
        // 1. reduce operands that have labels summed away on their own
        for i in 0..live.len() {
            let (slot, t) = live[i].clone();
            let keep: Vec<usize> = dedup(t.iter().copied().filter(|&l| needed_elsewhere(&live, &[slot], l)));
            if keep.len() < t.len()
                && (has_repeat(&t) || keep.len() < dedup(t.iter().copied()).len())
                && keep.len() < dedup(t.iter().copied()).len()
            {
                let new_slot = n + steps.len();
                steps.push(Step::new(vec![slot], with(vec![t], keep.clone())));
                live[i] = (new_slot, keep);
            }
        }
        // 2. contract pairs until one is left
        while live.len() > 1 {
            let mut best: Option<Candidate> = None;
            for a in 0..live.len() {
                for b in a + 1..live.len() {
                    let skip = [live[a].0, live[b].0];
                    let labels = dedup(
                        live[a].1.iter().chain(&live[b].1).copied().filter(|&l| needed_elsewhere(&live, &skip, l)),
                    );
                    // with sizes: the step's multiply-adds (the product of the sizes of every
                    // label of the pair), then the size of its result; without: the same order
                    // for equal sizes, so the number of the pair's labels, then the result's
                    let union = dedup(live[a].1.iter().chain(&live[b].1).copied());
                    let cost: (u128, u128) = match sizes {
                        Some(s) => {
                            let size =
                                |ls: &[usize]| ls.iter().map(|&l| s[l] as u128).fold(1u128, u128::saturating_mul);
                            (size(&union), size(&labels))
                        }
                        None => (union.len() as u128, labels.len() as u128),
                    };
                    if best.as_ref().is_none_or(|bst| cost < bst.0) {
                        best = Some((cost, a, b, labels));
                    }
                }
            }
            let (_, a, b, labels) = best.expect("at least two live operands");
            let last = live.len() == 2;
            let out = if last { equation.output.clone() } else { labels };
            let new_slot = n + steps.len();
            steps.push(Step::new(
                vec![live[a].0, live[b].0],
                with(vec![live[a].1.clone(), live[b].1.clone()], out.clone()),
            ));
            live.remove(b);
            live[a] = (new_slot, out);
        }
        if steps.last().is_none_or(|s| s.spec.output != equation.output) {
            // only reductions happened (cannot occur for n >= 2, kept for safety)
            let (slot, t) = live.pop().expect("one live operand");
            steps.push(Step::new(vec![slot], with(vec![t], equation.output.clone())));
        }
        Plan { equation: equation.clone(), steps }
    }
}

/// A pair to contract next: (cost, first, second, labels of its result).
type Candidate = ((u128, u128), usize, usize, Vec<usize>);

fn dedup(it: impl Iterator<Item = usize>) -> Vec<usize> {
    let mut v = Vec::new();
    for l in it {
        if !v.contains(&l) {
            v.push(l);
        }
    }
    v
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slots: Vec<String> = self.operands.iter().map(|s| format!("#{s}")).collect();
        let order: Vec<String> = self.loop_order.iter().map(|&l| self.spec.names[l].clone()).collect();
        write!(f, "{} | {} | {:?} | loops {}", self.spec, slots.join(","), self.kind, order.join(","))
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.equation)?;
        let n = self.equation.inputs.len();
        for (i, s) in self.steps.iter().enumerate() {
            writeln!(f, "  #{} = {}", n + i, s)?;
        }
        Ok(())
    }
}

/// What an equation runs as, printed by `explain`: the forward plan, and for every step of it
/// the gradient equation of each of its operands, which the backward pass runs step by step.
///
/// ```
/// use slowgrad_core::{Explanation, ExtEinsum};
/// let ex = Explanation::new(&ExtEinsum::parse("ij,jk->ik", &[2, 2]).unwrap());
/// assert_eq!(ex.forward.steps.len(), 1);
/// let grads: Vec<String> = ex.gradients[0].iter().map(|s| s.spec.to_string()).collect();
/// assert_eq!(grads, ["ik,jk->ij", "ik,ij->jk"]);
/// assert!(ex.to_string().contains("d#1 from d#2: ik,ij->jk"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The forward plan.
    pub forward: Plan,
    /// For each forward step, one gradient step per operand of that step (reading the upstream
    /// gradient and the step's other operands).
    pub gradients: Vec<Vec<Step>>,
}

impl Explanation {
    /// Plans the forward of `equation` (no sizes known) and derives each step's gradients.
    ///
    /// ```
    /// use slowgrad_core::{Explanation, ExtEinsum};
    /// let ex = Explanation::new(&ExtEinsum::parse("i,ij,j->", &[1, 2, 1]).unwrap());
    /// // one list of gradient steps per forward step, one gradient per operand of that step
    /// assert_eq!(ex.gradients.len(), ex.forward.steps.len());
    /// for (step, grads) in ex.forward.steps.iter().zip(&ex.gradients) {
    ///     assert_eq!(grads.len(), step.operands.len());
    ///     for (k, g) in grads.iter().enumerate() {
    ///         assert_eq!(g.spec, step.spec.gradient(k));
    ///         assert_eq!(g.operands, step.operands);
    ///     }
    /// }
    /// ```
    pub fn new(equation: &ExtEinsum) -> Explanation {
        let forward = Plan::new(equation, None);
        let gradients = forward
            .steps
            .iter()
            .map(|s| (0..s.operands.len()).map(|k| Step::new(s.operands.clone(), s.spec.gradient(k))).collect())
            .collect();
        Explanation { forward, gradients }
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "forward: {}", self.forward)?;
        writeln!(f, "backward, per step, the gradient of each operand:")?;
        let n = self.forward.equation.inputs.len();
        for (i, (step, grads)) in self.forward.steps.iter().zip(&self.gradients).enumerate().rev() {
            for (g, slot) in grads.iter().zip(&step.operands) {
                let order: Vec<String> = g.loop_order.iter().map(|&l| g.spec.names[l].clone()).collect();
                writeln!(f, "  d#{slot} from d#{}: {} | {:?} | loops {}", n + i, g.spec, g.kind, order.join(","))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
