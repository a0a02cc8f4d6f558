//! The runtime-parsed [`einsum()`] and its relatives on `Var`s ([`ext_einsum`], [`run_equation`],
//! [`run_ext`]) and on arrays ([`einsum_array`], [`ext_einsum_array`], and [`einsum_reference`],
//! the reference executor): plans cached per thread by pattern and operand shapes, the
//! interpreter's kernels ([`Interpreted`], and the steps of a cached plan, which keep their
//! gradients' equations), and [`explain`].

use crate::exec::{execute, execute_reference};
use crate::tape::{apply_kernel, Kernel};
use crate::{Float, Var};
use ndarray::{ArrayD, ArrayViewD, Dimension, IxDyn};
use slowgrad_core::{EinsumError, Equation, Explanation, ExtEinsum, Plan};
use std::cell::OnceCell;
use std::rc::Rc;

/// The interpreter's kernel for an extended einsum.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{apply_kernel, ExtEinsum, Interpreted, Var};
/// use std::rc::Rc;
/// let k = Interpreted(Rc::new(ExtEinsum::from_letters("ij", "j").unwrap()));
/// let x = Var::new(array![[1.0, 2.0], [3.0, 4.0]]).as_dyn();
/// let y = apply_kernel(Box::new(k), &[x.clone()], None).unwrap();
/// assert_eq!(y.value(), array![4.0, 6.0].into_dyn());
/// ```
#[derive(Debug, Clone)]
pub struct Interpreted(pub Rc<ExtEinsum>);

impl<T: Float> Kernel<T> for Interpreted {
    fn forward(&self, inputs: &[ArrayViewD<'_, T>], out_shape: Option<&[usize]>) -> Result<ArrayD<T>, EinsumError> {
        execute(&self.0, inputs, out_shape)
    }

    fn gradient(&self, k: usize) -> Box<dyn Kernel<T>> {
        Box::new(Interpreted(Rc::new(self.0.gradient(k))))
    }
}

/// An interpreted kernel and, computed on first use and kept, the kernels of its gradients: the
/// steps of a cached plan, so a repeated backward pass does not rebuild their equations.
#[derive(Debug)]
struct SpecNode {
    kernel: Interpreted,
    grads: Vec<OnceCell<Rc<SpecNode>>>,
}

impl SpecNode {
    fn new(spec: ExtEinsum) -> Rc<SpecNode> {
        let grads = (0..spec.inputs.len()).map(|_| OnceCell::new()).collect();
        Rc::new(SpecNode { kernel: Interpreted(Rc::new(spec)), grads })
    }

    /// The equation.
    fn spec(&self) -> &ExtEinsum {
        &self.kernel.0
    }

    fn gradient(&self, k: usize) -> Rc<SpecNode> {
        match self.grads.get(k) {
            Some(cell) => cell.get_or_init(|| SpecNode::new(self.spec().gradient(k))).clone(),
            None => SpecNode::new(self.spec().gradient(k)),
        }
    }
}

/// The kernel of a step of a cached plan: it runs as its [`Interpreted`] kernel does, and its
/// gradients are the plan's kept ones ([`SpecNode::gradient`]) rather than built anew.
#[derive(Debug, Clone)]
struct CachedKernel(Rc<SpecNode>);

impl<T: Float> Kernel<T> for CachedKernel {
    fn forward(&self, inputs: &[ArrayViewD<'_, T>], out_shape: Option<&[usize]>) -> Result<ArrayD<T>, EinsumError> {
        Kernel::<T>::forward(&self.0.kernel, inputs, out_shape)
    }

    fn gradient(&self, k: usize) -> Box<dyn Kernel<T>> {
        Box::new(CachedKernel(self.0.gradient(k)))
    }
}

/// A resolved equation planned for given operand shapes.
#[derive(Debug)]
struct Compiled {
    out_shape: Vec<usize>,
    /// Slots read by each step (as in [`Plan`]) and its kernel.
    steps: Vec<(Vec<usize>, Rc<SpecNode>)>,
}

impl Compiled {
    fn new(ext: &ExtEinsum, shapes: &[&[usize]]) -> Result<Compiled, EinsumError> {
        let sizes = ext.label_sizes(shapes, None)?;
        let out_shape = ext.output_shape(&sizes)?;
        let plan = Plan::new(ext, Some(&sizes));
        let steps = plan.steps.into_iter().map(|s| (s.operands, SpecNode::new(s.spec))).collect();
        Ok(Compiled { out_shape, steps })
    }
}

/// Plans of the runtime `einsum()`, cached per thread by pattern and operand shapes.
mod plan_cache {
    use super::Compiled;
    use crate::ring::Ring;
    use std::cell::RefCell;
    use std::rc::Rc;

    /// Entries kept per thread; the oldest is replaced when full.
    const CAPACITY: usize = 64;

    struct Entry {
        pattern: String,
        /// Rank, then dimensions, of every operand.
        shapes: Vec<usize>,
        compiled: Rc<Compiled>,
    }

    thread_local! {
        static CACHE: RefCell<Ring<Entry, CAPACITY>> = RefCell::new(Ring::default());
    }

    fn flat<'a>(shapes: impl Iterator<Item = &'a [usize]> + 'a) -> impl Iterator<Item = usize> + 'a {
        shapes.flat_map(|s| std::iter::once(s.len()).chain(s.iter().copied()))
    }

    /// The cached plan of `pattern` for operands of these shapes.
    pub(super) fn lookup<'a>(
        pattern: &str,
        shapes: impl Iterator<Item = &'a [usize]> + Clone + 'a,
    ) -> Option<Rc<Compiled>> {
        CACHE.with(|c| {
            c.borrow()
                .find(|e| e.pattern == pattern && e.shapes.iter().copied().eq(flat(shapes.clone())))
                .map(|e| e.compiled.clone())
        })
    }

    /// Caches a plan.
    pub(super) fn insert<'a>(pattern: &str, shapes: impl Iterator<Item = &'a [usize]> + 'a, compiled: Rc<Compiled>) {
        let entry = Entry { pattern: pattern.to_string(), shapes: flat(shapes).collect(), compiled };
        CACHE.with(|c| c.borrow_mut().insert(entry));
    }
}

/// The plan of `pattern` for operands of these shapes, from the cache or parsed and planned.
fn compiled(pattern: &str, shapes: &[&[usize]]) -> Result<Rc<Compiled>, EinsumError> {
    if let Some(c) = plan_cache::lookup(pattern, shapes.iter().copied()) {
        return Ok(c);
    }
    let eq = Equation::parse(pattern)?;
    let ranks: Vec<usize> = shapes.iter().map(|s| s.len()).collect();
    let ext = ExtEinsum::resolve(&eq, &ranks)?;
    let c = Rc::new(Compiled::new(&ext, shapes)?);
    plan_cache::insert(pattern, shapes.iter().copied(), c.clone());
    Ok(c)
}

/// Runs a compiled plan on `Var`s, recording each step.
fn run_compiled<T: Float>(c: &Compiled, vars: &[Var<T, IxDyn>]) -> Result<Var<T, IxDyn>, EinsumError> {
    let mut slots: Vec<Var<T, IxDyn>> = Vec::with_capacity(vars.len() + c.steps.len());
    slots.extend_from_slice(vars);
    for (operands, node) in &c.steps {
        let args: Vec<Var<T, IxDyn>> = operands.iter().map(|&s| slots[s].clone()).collect();
        let result = apply_kernel(Box::new(CachedKernel(node.clone())), &args, None)?;
        slots.push(result);
    }
    let out = slots.pop().expect("a plan has at least one step");
    debug_assert_eq!(out.shape(), c.out_shape);
    Ok(out)
}

/// Runs the extended einsum `spec` on `inputs` as one tape op (see [`ExtEinsum`]).
///
/// **Errors** if the shapes do not fit `spec`.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{ext_einsum, ExtEinsum, Var};
/// // scatter onto a diagonal: the gradient equation of a trace
/// let spec = ExtEinsum::from_letters("", "ii").unwrap();
/// let s = Var::new(ndarray::arr0(5.0)).as_dyn();
/// let d = ext_einsum(spec, &[s], Some(&[2, 2])).unwrap();
/// assert_eq!(d.value(), array![[5.0, 0.0], [0.0, 5.0]].into_dyn());
/// ```
pub fn ext_einsum<T: Float>(
    spec: ExtEinsum,
    inputs: &[Var<T, IxDyn>],
    out_shape: Option<&[usize]>,
) -> Result<Var<T, IxDyn>, EinsumError> {
    apply_kernel(Box::new(Interpreted(Rc::new(spec))), inputs, out_shape)
}

/// Anything `einsum` accepts as an operand: a `Var` of any dimension.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum, Operand, Var};
/// let (m, v) = (Var::new(array![[1.0, 2.0]]), Var::new(array![3.0, 4.0]));
/// // operands of different dimension types in one call
/// let y = einsum("ij,j->i", &[&m as &dyn Operand<f64>, &v]).unwrap();
/// assert_eq!(y.value(), array![11.0].into_dyn());
/// assert_eq!(v.to_var().id(), v.id());
/// ```
pub trait Operand<T: Float> {
    /// The operand as a dynamic-dimension `Var` (the same node).
    fn to_var(&self) -> Var<T, IxDyn>;
}

impl<T: Float, D: Dimension> Operand<T> for Var<T, D> {
    fn to_var(&self) -> Var<T, IxDyn> {
        self.as_dyn()
    }
}

/// Einstein summation on `Var`s, parsed at run time, with its backward recorded on the tape.
///
/// The pattern language is numpy's and torch's (implicit output, `...` broadcasting, repeated
/// labels for diagonals, size-1 broadcasting of labels, scalar operands) plus named labels
/// (`"batch inp, out inp -> batch out"`); see [the pattern language](crate#the-pattern-language)
/// for the grammar.
/// Operands may have different ranks and dimension types.
///
/// **Errors** if the pattern is malformed or the operands do not fit it; the error names the
/// label, term, operand and sizes at fault.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum, Var};
/// let x = Var::new(array![[1.0, 2.0], [3.0, 4.0]]);
/// let v = Var::new(array![1.0, -1.0]);
/// let y = einsum("ij,j->i", &[&x, &v]).unwrap();
/// assert_eq!(y.value(), array![-1.0, -1.0].into_dyn());
/// y.backward_with(array![1.0, 1.0]);
/// assert_eq!(v.grad().unwrap(), array![4.0, 6.0]);
/// let err = einsum("ij,jk->ik", &[&x, &v]).unwrap_err();
/// assert_eq!(err.to_string(), "operand 1 has rank 1 but its term `jk` has 2 labels");
/// ```
pub fn einsum<T: Float>(pattern: &str, operands: &[&dyn Operand<T>]) -> Result<Var<T, IxDyn>, EinsumError> {
    let vars: Vec<Var<T, IxDyn>> = operands.iter().map(|o| o.to_var()).collect();
    let c = {
        let guards: Vec<std::cell::Ref<'_, ArrayD<T>>> = vars.iter().map(|v| v.borrow_value()).collect();
        let shapes: Vec<&[usize]> = guards.iter().map(|g| g.shape()).collect();
        compiled(pattern, &shapes)?
    };
    run_compiled(&c, &vars)
}

/// [`einsum`] on a parsed equation.
///
/// **Errors** if the operands do not fit the equation.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{run_equation, Equation, Var};
/// let eq = Equation::parse("...i,i->...").unwrap(); // parsed once, run on operands of any rank
/// let w = Var::new(array![1.0, -1.0]).as_dyn();
/// let a = Var::new(array![[1.0, 2.0], [5.0, 3.0]]).as_dyn();
/// assert_eq!(run_equation(&eq, &[a, w.clone()]).unwrap().value(), array![-1.0, 2.0].into_dyn());
/// let b = Var::new(array![4.0, 1.0]).as_dyn();
/// assert_eq!(run_equation(&eq, &[b, w]).unwrap().item(), 3.0);
/// ```
pub fn run_equation<T: Float>(eq: &Equation, vars: &[Var<T, IxDyn>]) -> Result<Var<T, IxDyn>, EinsumError> {
    let ranks: Vec<usize> = vars.iter().map(|v| v.ndim()).collect();
    let ext = ExtEinsum::resolve(eq, &ranks)?;
    run_ext(&ext, vars)
}

/// Runs a resolved equation on `Var`s: checks the shapes, plans pairwise steps and records each.
///
/// **Errors** if the shapes do not fit.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{run_ext, ExtEinsum, Var};
/// let ext = ExtEinsum::parse("ij,jk->ik", &[2, 2]).unwrap();
/// let x = Var::new(array![[1.0, 2.0]]).as_dyn();
/// let w = Var::new(array![[3.0], [4.0]]).as_dyn();
/// assert_eq!(run_ext(&ext, &[x, w]).unwrap().value(), array![[11.0]].into_dyn());
/// ```
pub fn run_ext<T: Float>(ext: &ExtEinsum, vars: &[Var<T, IxDyn>]) -> Result<Var<T, IxDyn>, EinsumError> {
    let shapes: Vec<Vec<usize>> = vars.iter().map(|v| v.shape()).collect();
    let shape_refs: Vec<&[usize]> = shapes.iter().map(|s| &s[..]).collect();
    run_compiled(&Compiled::new(ext, &shape_refs)?, vars)
}

/// Einstein summation on plain arrays, parsed at run time (no tape).
///
/// **Errors** as [`einsum`].
///
/// ```
/// use ndarray::array;
/// let a = array![[1.0, 2.0], [3.0, 4.0]];
/// let t = slowgrad::einsum_array("ii->", &[a.view().into_dyn()]).unwrap();
/// assert_eq!(t.into_iter().next(), Some(5.0));
/// ```
pub fn einsum_array<T: Float>(pattern: &str, operands: &[ArrayViewD<'_, T>]) -> Result<ArrayD<T>, EinsumError> {
    let shapes: Vec<&[usize]> = operands.iter().map(|o| o.shape()).collect();
    let c = compiled(pattern, &shapes)?;
    let n = operands.len();
    let mut slots: Vec<ArrayD<T>> = Vec::with_capacity(c.steps.len());
    for (ops, node) in &c.steps {
        let views: Vec<ArrayViewD<'_, T>> =
            ops.iter().map(|&s| if s < n { operands[s].view() } else { slots[s - n].view() }).collect();
        let r = execute(node.spec(), &views, None)?;
        slots.push(r);
    }
    Ok(slots.pop().expect("a plan has at least one step"))
}

/// Runs the extended einsum `ext` on plain arrays (no tape), with the executor that every
/// interpreted kernel runs on.
///
/// `out_shape` gives the output shape; it is required when an output label appears in no
/// input, and may hold 1 where a label of larger size is to be summed to size 1. With `None`
/// every output label takes its full size.
///
/// **Errors** if the shapes do not fit `ext` (see [`EinsumError`]).
///
/// ```
/// use ndarray::array;
/// use slowgrad::{ext_einsum_array, ExtEinsum};
/// let spec = ExtEinsum::from_letters("ik,jk", "ij").unwrap();
/// let a = array![[1.0, 2.0], [3.0, 4.0]];
/// let out = ext_einsum_array(&spec, &[a.view().into_dyn(), a.view().into_dyn()], None).unwrap();
/// assert_eq!(out, a.dot(&a.t()).into_dyn());
/// // a label only in the output takes its size from `out_shape`
/// let spec = ExtEinsum::from_letters("i", "ij").unwrap();
/// let v = array![1.0, 2.0];
/// let out = ext_einsum_array(&spec, &[v.view().into_dyn()], Some(&[2, 3])).unwrap();
/// assert_eq!(out, array![[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]].into_dyn());
/// ```
pub fn ext_einsum_array<T: Float>(
    ext: &ExtEinsum,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
) -> Result<ArrayD<T>, EinsumError> {
    execute(ext, inputs, out_shape)
}

/// The slow, obviously correct executor: every output element as a sum over all label values,
/// in one plain loop nest over every label with one multiply-add per term and no choice of
/// kernel. For checking: it takes the arguments of [`ext_einsum_array`] and gives the same
/// results, up to rounding.
///
/// **Errors** as [`ext_einsum_array`].
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum_reference, ext_einsum_array, ExtEinsum};
/// // a diagonal gathered and scaled: out_i = a_ii · v_i
/// let spec = ExtEinsum::from_letters("ii,i", "i").unwrap();
/// let (a, v) = (array![[1.0, 2.0], [3.0, 4.0]], array![10.0, 100.0]);
/// let inputs = [a.view().into_dyn(), v.view().into_dyn()];
/// let out = einsum_reference(&spec, &inputs, None).unwrap();
/// assert_eq!(out, array![10.0, 400.0].into_dyn());
/// assert_eq!(ext_einsum_array(&spec, &inputs, None).unwrap(), out);
/// ```
pub fn einsum_reference<T: Float>(
    ext: &ExtEinsum,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
) -> Result<ArrayD<T>, EinsumError> {
    execute_reference(ext, inputs, out_shape)
}

/// What a pattern runs as: the forward plan (steps, kernel classes, loop orders) and, for each
/// step, the gradient equation of each of its operands, as the backward pass runs them.
/// `einsum!` generates one kernel for each of these equations. An ellipsis is taken to cover no
/// dimension; see [`explain_for`] to give the operands' ranks.
///
/// A named label that appears once in the inputs and not in the output is summed away, which
/// is more often a typo than intended; the text ends with a hint naming each such label
/// ([`Equation::summed_once_named_labels`]). The pattern still runs, as in numpy.
///
/// **Errors** if the pattern is malformed.
///
/// ```
/// let text = slowgrad::explain("ij,jk->ik").unwrap();
/// assert!(text.starts_with("forward: ij,jk->ik"));
/// assert!(text.contains("d#0 from d#2: ik,jk->ij"));
/// let typo = slowgrad::explain("batch inp, out inpt -> batch out").unwrap();
/// assert!(typo.contains("hint: label `inpt` appears once and is summed away: a typo?"));
/// ```
pub fn explain(pattern: &str) -> Result<String, EinsumError> {
    let eq = Equation::parse(pattern)?;
    let ranks: Vec<usize> = eq.inputs.iter().map(|t| t.label_count()).collect();
    explain_equation(&eq, &ExtEinsum::resolve(&eq, &ranks)?)
}

/// [`explain`] for operands of the given ranks (which matter when the pattern has `...`).
///
/// **Errors** if the pattern is malformed or the ranks do not fit it.
///
/// ```
/// let text = slowgrad::explain_for("...ij,jk->...ik", &[3, 2]).unwrap();
/// assert!(text.starts_with("forward: 0ij,jk->0ik"));
/// ```
pub fn explain_for(pattern: &str, ranks: &[usize]) -> Result<String, EinsumError> {
    let eq = Equation::parse(pattern)?;
    explain_equation(&eq, &ExtEinsum::resolve(&eq, ranks)?)
}

fn explain_equation(eq: &Equation, ext: &ExtEinsum) -> Result<String, EinsumError> {
    let mut text = Explanation::new(ext).to_string();
    for label in eq.summed_once_named_labels() {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!("hint: label `{label}` appears once and is summed away: a typo?\n"));
    }
    Ok(text)
}
