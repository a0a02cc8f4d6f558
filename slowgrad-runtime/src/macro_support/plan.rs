//! A whole pattern compiled by `einsum!`: its steps' kernels, the up-front shape checks, and
//! running the steps on `Var`s (recorded on the tape) or on arrays (forward only).

use super::{kernel, Labels, Spec};
use crate::{apply_kernel, einsum_array, run_equation, Float, Kernel, Var};
use ndarray::{ArrayD, ArrayViewD, Dimension, IxDyn};
use slowgrad_core::{checked_len, EinsumError, Equation};

/// Most labels whose sizes the up-front check keeps on the stack; longer (named-label)
/// patterns are checked through `ExtEinsum::label_sizes`.
const MAX_LABELS: usize = 16;

/// A cons list of the kernel specs of a plan's steps: `(K0, (K1, ()))`.
pub trait StepList: 'static {
    /// The kernel of step `i`.
    fn get<T: Float>(i: usize) -> Box<dyn Kernel<T>>;
}

impl StepList for () {
    fn get<T: Float>(i: usize) -> Box<dyn Kernel<T>> {
        panic!("no plan step {i}")
    }
}

impl<K: Spec, R: StepList> StepList for (K, R) {
    fn get<T: Float>(i: usize) -> Box<dyn Kernel<T>> {
        if i == 0 {
            kernel::<T, K>()
        } else {
            R::get::<T>(i - 1)
        }
    }
}

/// A pattern compiled by the macro.
#[derive(Debug)]
pub enum Compiled {
    /// A pattern without `...`: every rank is known, the plan was made at compile time.
    Static {
        /// The input terms as written, for rank errors.
        terms: &'static [&'static str],
        /// The whole resolved equation, for the up-front shape check.
        labels: Labels,
        /// Operand slots of each step (`0..n` the operands, `n + i` the result of step `i`).
        steps: &'static [&'static [usize]],
    },
    /// A pattern with `...`: ranks are only known at run time, so it runs through the runtime
    /// interpreter (`run_equation` / `einsum_array`).
    Ellipsis {
        /// The pattern.
        pattern: &'static str,
    },
}

/// A whole pattern: its compiled form, its kernels and its result's dimension type.
pub trait PlanSpec: 'static {
    /// The result's dimension: `IxN` without ellipsis, `IxDyn` with.
    type Out: Dimension;
    /// The kernels of the steps, in order.
    type Steps: StepList;
    /// The compiled pattern.
    const COMPILED: &'static Compiled;
}

/// The up-front checks of a static pattern: ranks (errors as `ExtEinsum::resolve`) and label
/// sizes of the whole equation (errors as `ExtEinsum::label_sizes`, naming the user's operands).
///
/// With `ranks_only`, only the ranks: for a pattern run as one kernel whose own check of the
/// sizes is this one.
fn check_static(terms: &[&str], labels: &Labels, shapes: &[&[usize]], ranks_only: bool) -> Result<(), EinsumError> {
    for (k, (term, shape)) in terms.iter().zip(shapes).enumerate() {
        let n = labels.inputs[k].len();
        if shape.len() != n {
            return Err(EinsumError::RankMismatch {
                operand: k,
                term: term.to_string(),
                labels: n,
                ellipsis: false,
                rank: shape.len(),
            });
        }
    }
    if ranks_only {
        return Ok(());
    }
    if labels.names.len() > MAX_LABELS || labels.output.len() > MAX_LABELS {
        let ext = labels.to_ext();
        let sizes = ext.label_sizes(shapes, None)?;
        ext.output_shape(&sizes)?;
        return Ok(());
    }
    let sizes = labels.sizes::<MAX_LABELS>(shapes, None)?;
    let mut shape = [0usize; MAX_LABELS];
    for (d, &l) in shape.iter_mut().zip(labels.output) {
        *d = sizes[l];
    }
    checked_len(&shape[..labels.output.len()])?;
    Ok(())
}

/// Whether the plan is one kernel on the operands in order: its equation is the pattern's, so
/// its own shape check (the same code as [`check_static`]'s) is the pattern's.
fn one_kernel(steps: &[&[usize]], n: usize) -> bool {
    matches!(steps, [only] if only.len() == n && only.iter().enumerate().all(|(k, &s)| k == s))
}

/// Runs a pattern on `Var`s, one recorded tape op per plan step (as `run_ext` does).
///
/// **Errors** if the operands do not fit the pattern.
pub fn run_vars<T: Float, P: PlanSpec>(vars: &[Var<T, IxDyn>]) -> Result<Var<T, IxDyn>, EinsumError> {
    vars_with(P::COMPILED, P::Steps::get::<T>, vars)
}

/// The body of [`run_vars`], shared by all patterns (generic over `T` only, to keep the code
/// each pattern adds small).
fn vars_with<T: Float>(
    compiled: &Compiled,
    step: fn(usize) -> Box<dyn Kernel<T>>,
    vars: &[Var<T, IxDyn>],
) -> Result<Var<T, IxDyn>, EinsumError> {
    match compiled {
        Compiled::Ellipsis { pattern } => run_equation(&Equation::parse(pattern)?, vars),
        Compiled::Static { terms, labels, steps } => {
            let single = one_kernel(steps, vars.len());
            // one kernel checks the sizes itself: only the ranks are left, read without copying
            // the shapes
            if single && vars.iter().zip(labels.inputs).all(|(v, t)| v.ndim() == t.len()) {
                return apply_kernel(step(0), vars, None);
            }
            if vars.len() > MAX_OPERANDS {
                let shapes: Vec<Vec<usize>> = vars.iter().map(|v| v.shape()).collect();
                let refs: Vec<&[usize]> = shapes.iter().map(|s| &s[..]).collect();
                check_static(terms, labels, &refs, single)?;
            } else {
                // the shapes on the stack (dimensions of up to 4 axes are stored inline)
                let dims: [IxDyn; MAX_OPERANDS] =
                    std::array::from_fn(|k| vars.get(k).map_or_else(|| IxDyn(&[]), |v| v.with_value(|a| a.raw_dim())));
                let refs: [&[usize]; MAX_OPERANDS] = std::array::from_fn(|k| dims[k].slice());
                check_static(terms, labels, &refs[..vars.len()], single)?;
            }
            if single {
                return apply_kernel(step(0), vars, None);
            }
            let mut slots: Vec<Var<T, IxDyn>> = vars.to_vec();
            for (i, ops) in steps.iter().enumerate() {
                let args: Vec<Var<T, IxDyn>> = ops.iter().map(|&s| slots[s].clone()).collect();
                let r = apply_kernel(step(i), &args, None)?;
                slots.push(r);
            }
            slots.pop().ok_or(EinsumError::EmptyPattern)
        }
    }
}

/// Runs a pattern on array views (forward only).
///
/// **Errors** if the operands do not fit the pattern.
pub fn run_arrays<T: Float, P: PlanSpec>(views: &[ArrayViewD<'_, T>]) -> Result<ArrayD<T>, EinsumError> {
    arrays_with(P::COMPILED, P::Steps::get::<T>, views)
}

/// The body of [`run_arrays`], shared by all patterns.
#[inline(never)]
fn arrays_with<T: Float>(
    compiled: &Compiled,
    step: fn(usize) -> Box<dyn Kernel<T>>,
    views: &[ArrayViewD<'_, T>],
) -> Result<ArrayD<T>, EinsumError> {
    match compiled {
        Compiled::Ellipsis { pattern } => einsum_array(pattern, views),
        Compiled::Static { terms, labels, steps } => {
            let single = one_kernel(steps, views.len());
            if single && views.iter().zip(labels.inputs).all(|(v, t)| v.ndim() == t.len()) {
                return step(0).forward(views, None);
            }
            if views.len() > MAX_OPERANDS {
                let shapes: Vec<&[usize]> = views.iter().map(|v| v.shape()).collect();
                check_static(terms, labels, &shapes, single)?;
            } else {
                let shapes: [&[usize]; MAX_OPERANDS] =
                    std::array::from_fn(|k| views.get(k).map_or(&[][..], |v| v.shape()));
                check_static(terms, labels, &shapes[..views.len()], single)?;
            }
            if single {
                return step(0).forward(views, None);
            }
            let n = views.len();
            let mut slots: Vec<ArrayD<T>> = Vec::with_capacity(steps.len());
            for (i, ops) in steps.iter().enumerate() {
                let args: Vec<ArrayViewD<'_, T>> =
                    ops.iter().map(|&s| if s < n { views[s].view() } else { slots[s - n].view() }).collect();
                let r = step(i).forward(&args, None)?;
                slots.push(r);
            }
            slots.pop().ok_or(EinsumError::EmptyPattern)
        }
    }
}

/// The most operands one `einsum!` call takes.
pub const MAX_OPERANDS: usize = 8;
