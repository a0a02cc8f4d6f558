//! Support code for the expansion of `einsum!` and `try_einsum!`. Not a public API: generated
//! code refers to these items as `::slowgrad::__private::…`, and they may change in any release.
//!
//! The macro turns a pattern into constant data (label ids of every term, loop orders) attached
//! to zero-sized types, and these generic helpers run it:
//!
//! - [`Spec`]: one kernel of the closed family (a plan step, or a gradient of one, to any
//!   order). [`Gen<S>`] implements the runtime's [`Kernel`] trait for it; its `gradient(k)` is the
//!   `Gen` of another generated spec, so kernels are generated code at every derivative order.
//! - [`PlanSpec`]: the whole pattern: its steps (a cons list of specs), the output dimension type,
//!   and the data for the up-front shape checks whose errors equal the runtime `einsum()`'s.
//! - [`Operands`]: dispatch on the operand tuple: all `&Var` (result recorded on the tape) or all
//!   arrays (forward only). [`RankIs`]/[`RankAtLeast`] check static ranks at compile time.
//!
//! Kernel execution ([`forward`]) reads and checks the label sizes once, allocates the output,
//! computes one stride per (participant, label) — summed over repeated axes for diagonals, 0 for
//! labels a participant lacks or holds at size 1 — and runs a loop nest whose depth and order
//! are the kernel's constants.

use ndarray::{ArrayBase, ArrayD, ArrayViewD, Data, Dimension, IxDyn};
use slowgrad_core::{checked_len, EinsumError, Equation, ExtEinsum};
use slowgrad_runtime::{apply_kernel, einsum_array, exec, run_equation, Float, Kernel, Var};
use std::marker::PhantomData;

pub use ndarray::{Ix0, Ix1, Ix2, Ix3, Ix4, Ix5, Ix6, IxDyn as IxD};
pub use slowgrad_core::EinsumError as Error;

/// Most labels a generated kernel handles in its fixed-size loop state; kernels with more
/// (possible only with long named-label patterns) run through the interpreter.
pub const MAX_LABELS: usize = 16;

/// An extended einsum as constant data: label ids per term (a repeat is a diagonal; an output
/// label absent from the inputs is a broadcast) and the label names, for error messages.
#[derive(Debug)]
pub struct Labels {
    /// Label ids of each input's axes.
    pub inputs: &'static [&'static [usize]],
    /// Label ids of the output's axes.
    pub output: &'static [usize],
    /// Name of each label id.
    pub names: &'static [&'static str],
}

impl Labels {
    fn to_ext(&self) -> ExtEinsum {
        ExtEinsum {
            inputs: self.inputs.iter().map(|t| t.to_vec()).collect(),
            output: self.output.to_vec(),
            names: self.names.iter().map(|n| n.to_string()).collect(),
        }
    }

    /// The size of every label (at most [`MAX_LABELS`]), exactly as `ExtEinsum::label_sizes`
    /// computes and checks it, without allocating when everything fits. On any doubt
    /// `label_sizes` itself decides, so errors are the runtime's.
    fn sizes(&self, shapes: &[&[usize]], out_shape: Option<&[usize]>) -> Result<[usize; MAX_LABELS], EinsumError> {
        match self.fast_sizes(shapes, out_shape) {
            Some(s) => Ok(s),
            None => {
                let v = self.to_ext().label_sizes(shapes, out_shape)?;
                let mut s = [1usize; MAX_LABELS];
                // callers send equations of at most MAX_LABELS labels here
                let n = v.len().min(MAX_LABELS);
                s[..n].copy_from_slice(&v[..n]);
                Ok(s)
            }
        }
    }

    fn fast_sizes(&self, shapes: &[&[usize]], out_shape: Option<&[usize]>) -> Option<[usize; MAX_LABELS]> {
        if self.names.len() > MAX_LABELS || shapes.len() != self.inputs.len() {
            return None;
        }
        let mut seen = [false; MAX_LABELS];
        let mut sizes = [1usize; MAX_LABELS];
        let mut merge = |l: usize, d: usize| -> Option<()> {
            if !seen[l] {
                seen[l] = true;
                sizes[l] = d;
            } else if sizes[l] == d || d == 1 {
            } else if sizes[l] == 1 {
                sizes[l] = d;
            } else {
                return None;
            }
            Some(())
        };
        for (term, shape) in self.inputs.iter().zip(shapes) {
            if term.len() != shape.len() {
                return None;
            }
            for (i, (&l, &d)) in term.iter().zip(shape.iter()).enumerate() {
                if let Some(j) = term[..i].iter().position(|&m| m == l) {
                    if shape[j] != d {
                        return None;
                    }
                }
                merge(l, d)?;
            }
        }
        if let Some(shape) = out_shape {
            if shape.len() != self.output.len() {
                return None;
            }
            for (&l, &d) in self.output.iter().zip(shape) {
                merge(l, d)?;
            }
        }
        if self.output.iter().any(|&l| !seen[l]) {
            return None;
        }
        Some(sizes)
    }
}

/// One generated kernel: its equation (local label ids) and its loop order.
#[derive(Debug)]
pub struct KernelData {
    /// The equation, for the tape's debug output.
    pub name: &'static str,
    /// The equation's terms.
    pub labels: Labels,
    /// Every label of the kernel, outermost loop first.
    pub order: &'static [usize],
}

/// A generated kernel type: its data and the kernels of its gradients.
pub trait Spec: 'static {
    /// The kernel.
    const DATA: &'static KernelData;
    /// The kernel of the gradient with respect to input 0.
    type G0: Spec;
    /// The kernel of the gradient with respect to input 1 (any spec for one-input kernels).
    type G1: Spec;
}

/// The runtime kernel of a generated [`Spec`].
pub struct Gen<S>(PhantomData<S>);

/// The boxed kernel of spec `S`.
pub fn kernel<T: Float, S: Spec>() -> Box<dyn Kernel<T>> {
    Box::new(Gen::<S>(PhantomData))
}

impl<T: Float, S: Spec> Kernel<T> for Gen<S> {
    fn forward(&self, inputs: &[ArrayViewD<'_, T>], out_shape: Option<&[usize]>) -> Result<ArrayD<T>, EinsumError> {
        forward(S::DATA, inputs, out_shape)
    }

    fn gradient(&self, k: usize) -> Box<dyn Kernel<T>> {
        match (k, S::DATA.labels.inputs.len()) {
            (0, _) => kernel::<T, S::G0>(),
            (1, 2) => kernel::<T, S::G1>(),
            (k, n) => panic!("gradient {k} of a kernel with {n} inputs"),
        }
    }

    fn name(&self) -> &'static str {
        S::DATA.name
    }
}

/// Runs a generated kernel: checks the shapes (errors as the interpreter's), then the loop nest.
///
/// **Errors** if the shapes do not fit the kernel's equation.
///
/// Never inlined: one copy per element type serves every kernel of every pattern, which keeps the
/// code a pattern adds small (the loop depth and order come from `data`). The loops prepared for
/// a layout of the operands are kept per thread (`LOOPS`), so a kernel called again on the
/// same shapes and strides (every step of a training loop) starts its loops at once.
#[inline(never)]
pub fn forward<T: Float>(
    data: &'static KernelData,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
) -> Result<ArrayD<T>, EinsumError> {
    let labels = &data.labels;
    let n_labels = labels.names.len();
    if n_labels > MAX_LABELS || inputs.len() != labels.inputs.len() || !(1..=2).contains(&inputs.len()) {
        return exec::execute(&labels.to_ext(), inputs, out_shape);
    }
    let key = Key::new(data, inputs, out_shape);
    let ins = [inputs[0].as_ptr(), inputs.get(1).map_or(std::ptr::null(), |a| a.as_ptr())];
    let run = |loops: &Loops| -> ArrayD<T> {
        let mut out = exec::zeros::<T>(&loops.out_dims[..loops.out_rank]);
        if !loops.empty {
            // SAFETY: every label size was checked against every participant's shape when the
            // loops were prepared, for operands of these very shapes and strides (the key), and
            // a participant's stride for a loop is nonzero only on axes whose length equals
            // that loop's size, so every offset Σ index·stride with index < size lies inside
            // the participant (the views' own strides, or the freshly allocated standard-layout
            // output, whose strides follow from its shape). The output does not alias the
            // inputs: it was just allocated.
            unsafe {
                exec::small::run_nest(&loops.sizes[..loops.depth], &loops.strides, out.as_mut_ptr(), ins, inputs.len())
            };
        }
        out
    };
    // the loops run while the cache is borrowed: they call nothing that uses it
    let hit = key.as_ref().and_then(|k| {
        LOOPS.with(|c| {
            let c = c.borrow();
            let (_, loops) = c.entries.iter().find(|(e, _)| e == k)?;
            Some(if loops.large { None } else { Some(run(loops)) })
        })
    });
    // `Some(None)`: the loops are known and the work is large
    match hit {
        Some(Some(out)) => return Ok(out),
        Some(None) => {}
        None => {
            let loops = Loops::new(data, inputs, out_shape)?;
            let out = (!loops.large).then(|| run(&loops));
            if let Some(k) = key {
                LOOPS.with(|c| c.borrow_mut().insert(k, loops));
            }
            if let Some(out) = out {
                return Ok(out);
            }
        }
    }
    with_ext(data, |ext| exec::execute(ext, inputs, out_shape))
}

/// Most axes of an operand whose layout is remembered with its loops.
const KEY_AXES: usize = 4;

/// The shape and strides of an operand (or the requested output shape), as a cache key.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Layout {
    rank: usize,
    dims: [usize; KEY_AXES],
    strides: [isize; KEY_AXES],
}

impl Layout {
    fn new(dims: &[usize], strides: &[isize]) -> Option<Layout> {
        if dims.len() > KEY_AXES {
            return None;
        }
        Some(Layout {
            rank: dims.len(),
            dims: std::array::from_fn(|i| dims.get(i).copied().unwrap_or(0)),
            strides: std::array::from_fn(|i| strides.get(i).copied().unwrap_or(0)),
        })
    }
}

/// What the loops of a kernel call depend on: the kernel (its data's address) and the layouts
/// of its operands and requested output shape.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Key {
    kernel: usize,
    inputs: [Option<Layout>; 2],
    out: Option<Layout>,
}

impl Key {
    /// The key of a call, if its operands are small enough to be remembered.
    fn new<T>(data: &'static KernelData, inputs: &[ArrayViewD<'_, T>], out_shape: Option<&[usize]>) -> Option<Key> {
        let mut key = Key { kernel: data as *const KernelData as usize, inputs: [None; 2], out: None };
        for (slot, a) in key.inputs.iter_mut().zip(inputs) {
            *slot = Some(Layout::new(a.shape(), a.strides())?);
        }
        if let Some(s) = out_shape {
            key.out = Some(Layout::new(s, &[])?);
        }
        Some(key)
    }
}

/// The prepared loops of a kernel call.
struct Loops {
    /// The work is large: the runtime executor runs it.
    large: bool,
    /// A label has size 0: the output is all zeros.
    empty: bool,
    out_dims: [usize; MAX_LABELS],
    out_rank: usize,
    depth: usize,
    sizes: [usize; MAX_LABELS],
    /// strides[p][depth]: how far participant p (0 = output) moves per step of loop `depth`
    strides: [[isize; MAX_LABELS]; 3],
}

impl Loops {
    /// Checks the shapes against the kernel's equation and prepares its loops.
    ///
    /// **Errors** if the shapes do not fit, as the interpreter's.
    fn new<T>(
        data: &'static KernelData,
        inputs: &[ArrayViewD<'_, T>],
        out_shape: Option<&[usize]>,
    ) -> Result<Loops, EinsumError> {
        let labels = &data.labels;
        let n_labels = labels.names.len();
        let mut shapes: [&[usize]; 2] = [&[], &[]];
        for (s, a) in shapes.iter_mut().zip(inputs) {
            *s = a.shape();
        }
        let sizes = labels.sizes(&shapes[..inputs.len()], out_shape)?;
        let mut l = Loops {
            large: false,
            empty: false,
            out_dims: [0; MAX_LABELS],
            out_rank: 0,
            depth: data.order.len(),
            sizes: [1; MAX_LABELS],
            strides: [[0; MAX_LABELS]; 3],
        };
        // Large work goes to the runtime's kernel classes (GEMM, tuned and threaded loop
        // nests), with the step prepared once per shape in its per-thread cache; small work
        // stays in the generated loop nest, which has no set-up cost.
        let work = sizes[..n_labels].iter().fold(1usize, |w, &n| w.saturating_mul(n));
        if work >= FAST_MIN_WORK {
            l.large = true;
            return Ok(l);
        }
        match out_shape {
            Some(s) => {
                l.out_rank = s.len();
                l.out_dims[..s.len()].copy_from_slice(s);
            }
            None => {
                l.out_rank = labels.output.len();
                for (d, &m) in l.out_dims.iter_mut().zip(labels.output) {
                    *d = sizes[m];
                }
            }
        }
        let out_dims = &l.out_dims[..l.out_rank];
        checked_len(out_dims)?;
        l.empty = sizes[..n_labels].contains(&0);
        let out_strides = IxDyn(out_dims).default_strides();
        let out_strides: [isize; MAX_LABELS] =
            std::array::from_fn(|i| out_strides.slice().get(i).map_or(0, |&s| s as isize));
        for (lvl, &m) in data.order.iter().enumerate() {
            l.sizes[lvl] = sizes[m];
        }
        let mut fill = |p: usize, term: &[usize], dims: &[usize], st: &[isize]| {
            for ((&m, &d), &s) in term.iter().zip(dims).zip(st) {
                if d == sizes[m] && d > 1 {
                    let lvl = data.order.iter().position(|&o| o == m).unwrap_or(0);
                    l.strides[p][lvl] += s;
                }
            }
        };
        fill(0, labels.output, out_dims, &out_strides[..out_dims.len()]);
        for (k, a) in inputs.iter().enumerate() {
            fill(k + 1, labels.inputs[k], a.shape(), a.strides());
        }
        Ok(l)
    }
}

/// Entries kept in each thread's cache of prepared loops.
const LOOPS_KEPT: usize = 16;

/// The prepared loops of recent kernel calls, replaced oldest first.
struct LoopCache {
    entries: Vec<(Key, Loops)>,
    next: usize,
}

impl LoopCache {
    fn insert(&mut self, key: Key, loops: Loops) {
        if self.entries.len() < LOOPS_KEPT {
            self.entries.push((key, loops));
        } else {
            self.entries[self.next] = (key, loops);
            self.next = (self.next + 1) % LOOPS_KEPT;
        }
    }
}

thread_local! {
    /// This thread's prepared loops.
    static LOOPS: std::cell::RefCell<LoopCache> =
        const { std::cell::RefCell::new(LoopCache { entries: Vec::new(), next: 0 }) };
}

/// Multiply-adds (the product of all label sizes) from which a generated kernel hands its step
/// to the runtime executor: the size from which the executor's GEMM beats a loop nest.
pub const FAST_MIN_WORK: usize = exec::GEMM_MIN_WORK;

thread_local! {
    /// The [`ExtEinsum`] of each generated kernel run through the executor on this thread, keyed
    /// by the address of its constant data (kernels with equal data have equal equations).
    static EXTS: std::cell::RefCell<Vec<(usize, std::rc::Rc<ExtEinsum>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Calls `f` with the equation of `data`, built once per kernel and thread.
fn with_ext<R>(data: &'static KernelData, f: impl FnOnce(&ExtEinsum) -> R) -> R {
    let key = data as *const KernelData as usize;
    let ext = EXTS.with(|c| {
        let mut c = c.borrow_mut();
        match c.iter().find(|(k, _)| *k == key) {
            Some((_, e)) => e.clone(),
            None => {
                let e = std::rc::Rc::new(data.labels.to_ext());
                c.push((key, e.clone()));
                e
            }
        }
    });
    f(&ext)
}

pub use slowgrad_runtime::exec::small::kernels_use_fma;

// the generated kernels' loop state is the small nest's
const _: () = assert!(MAX_LABELS == exec::small::MAX_LOOPS);

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
    let sizes = labels.sizes(shapes, None)?;
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

/// The operand list of an `einsum!` call: a tuple of all `&Var<T, D>` or all ndarray arrays.
#[diagnostic::on_unimplemented(
    message = "einsum! operands must be all `&Var<T, D>` or all ndarray arrays (`&Array`, `&ArrayView`), with one element type `f32` or `f64`",
    label = "these operands are `{Self}`",
    note = "`Var` operands record a backward on the tape and give a `Var`; array operands give an `Array` (forward only): convert with `Var::new` or `Var::value` so all operands are of one kind, and with `mapv` so they share one element type"
)]
pub trait Operands<P: PlanSpec> {
    /// `Var<T, P::Out>` or `Array<T, P::Out>`.
    type Output;
    /// Runs the pattern.
    ///
    /// **Errors** if the operands do not fit the pattern.
    fn run(self) -> Result<Self::Output, EinsumError>;
}

fn to_out<T: Float, D: Dimension>(v: Var<T, IxDyn>) -> Var<T, D> {
    match v.into_dimensionality::<D>() {
        Some(v) => v,
        None => unreachable!("the result of a pattern without `...` has the output term's rank"),
    }
}

fn to_out_array<T: Float, D: Dimension>(a: ArrayD<T>) -> ndarray::Array<T, D> {
    match a.into_dimensionality::<D>() {
        Ok(a) => a,
        Err(_) => unreachable!("the result of a pattern without `...` has the output term's rank"),
    }
}

macro_rules! operand_tuples {
    ($(($($o:ident $d:ident $s:ident),+))+) => {$(
        #[diagnostic::do_not_recommend]
        impl<'a, T: Float, P: PlanSpec, $($d: Dimension),+> Operands<P> for ($(&'a Var<T, $d>,)+) {
            type Output = Var<T, P::Out>;
            #[allow(non_snake_case)]
            fn run(self) -> Result<Var<T, P::Out>, EinsumError> {
                let ($($o,)+) = self;
                run_vars::<T, P>(&[$($o.as_dyn()),+]).map(to_out)
            }
        }

        #[diagnostic::do_not_recommend]
        impl<'a, T: Float, P: PlanSpec, $($d: Dimension, $s: Data<Elem = T>),+> Operands<P>
            for ($(&'a ArrayBase<$s, $d>,)+)
        {
            type Output = ndarray::Array<T, P::Out>;
            #[allow(non_snake_case)]
            fn run(self) -> Result<ndarray::Array<T, P::Out>, EinsumError> {
                let ($($o,)+) = self;
                run_arrays::<T, P>(&[$($o.view().into_dyn()),+]).map(to_out_array)
            }
        }
    )+};
}

operand_tuples! {
    (a D0 S0)
    (a D0 S0, b D1 S1)
    (a D0 S0, b D1 S1, c D2 S2)
    (a D0 S0, b D1 S1, c D2 S2, d D3 S3)
    (a D0 S0, b D1 S1, c D2 S2, d D3 S3, e D4 S4)
    (a D0 S0, b D1 S1, c D2 S2, d D3 S3, e D4 S4, f D5 S5)
    (a D0 S0, b D1 S1, c D2 S2, d D3 S3, e D4 S4, f D5 S5, g D6 S6)
    (a D0 S0, b D1 S1, c D2 S2, d D3 S3, e D4 S4, f D5 S5, g D6 S6, h D7 S7)
}

/// The most operands one `einsum!` call takes.
pub const MAX_OPERANDS: usize = 8;

/// Runs the pattern `P` on the operand tuple.
///
/// **Errors** if the operands do not fit the pattern.
pub fn run<P: PlanSpec, O: Operands<P>>(ops: O) -> Result<O::Output, EinsumError> {
    ops.run()
}

/// Unwraps the result of `einsum!`, panicking with the error's message at the user's call.
///
/// **Panics** on `Err`.
#[track_caller]
pub fn unwrap<R>(r: Result<R, EinsumError>) -> R {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{e}"),
    }
}

/// The dimension type of an operand.
pub trait HasDim {
    /// Its dimension.
    type Dim: Dimension;
}

impl<T: Float, D: Dimension> HasDim for &Var<T, D> {
    type Dim = D;
}

impl<S: Data, D: Dimension> HasDim for &ArrayBase<S, D> {
    type Dim = D;
}

/// A dimension type whose rank may be `N`: `IxN` itself, and `IxDyn` (checked at run time).
#[diagnostic::on_unimplemented(
    message = "einsum! operand of the wrong rank: its term has {N} labels, but its dimension is `{Self}`",
    label = "this operand's rank differs from its term in the pattern (`IxN` is `Dim<[usize; N]>`)",
    note = "each operand needs one axis per label of its term; an `IxDyn` operand is checked at run time instead"
)]
pub trait RankIs<const N: usize> {}

/// A dimension type whose rank may be at least `N` (a term with `...` and `N` labels).
#[diagnostic::on_unimplemented(
    message = "einsum! operand of too low a rank: its term has {N} labels and `...`, but its dimension is `{Self}`",
    label = "this operand has fewer axes than its term has labels",
    note = "a term with `...` needs at least one axis per label"
)]
pub trait RankAtLeast<const N: usize> {}

impl<const N: usize> RankIs<N> for IxDyn {}
impl<const N: usize> RankAtLeast<N> for IxDyn {}

impl RankIs<0> for ndarray::Ix0 {}
impl RankIs<1> for ndarray::Ix1 {}
impl RankIs<2> for ndarray::Ix2 {}
impl RankIs<3> for ndarray::Ix3 {}
impl RankIs<4> for ndarray::Ix4 {}
impl RankIs<5> for ndarray::Ix5 {}
impl RankIs<6> for ndarray::Ix6 {}
impl RankAtLeast<0> for ndarray::Ix0 {}
impl RankAtLeast<0> for ndarray::Ix1 {}
impl RankAtLeast<1> for ndarray::Ix1 {}
impl RankAtLeast<0> for ndarray::Ix2 {}
impl RankAtLeast<1> for ndarray::Ix2 {}
impl RankAtLeast<2> for ndarray::Ix2 {}
impl RankAtLeast<0> for ndarray::Ix3 {}
impl RankAtLeast<1> for ndarray::Ix3 {}
impl RankAtLeast<2> for ndarray::Ix3 {}
impl RankAtLeast<3> for ndarray::Ix3 {}
impl RankAtLeast<0> for ndarray::Ix4 {}
impl RankAtLeast<1> for ndarray::Ix4 {}
impl RankAtLeast<2> for ndarray::Ix4 {}
impl RankAtLeast<3> for ndarray::Ix4 {}
impl RankAtLeast<4> for ndarray::Ix4 {}
impl RankAtLeast<0> for ndarray::Ix5 {}
impl RankAtLeast<1> for ndarray::Ix5 {}
impl RankAtLeast<2> for ndarray::Ix5 {}
impl RankAtLeast<3> for ndarray::Ix5 {}
impl RankAtLeast<4> for ndarray::Ix5 {}
impl RankAtLeast<5> for ndarray::Ix5 {}
impl RankAtLeast<0> for ndarray::Ix6 {}
impl RankAtLeast<1> for ndarray::Ix6 {}
impl RankAtLeast<2> for ndarray::Ix6 {}
impl RankAtLeast<3> for ndarray::Ix6 {}
impl RankAtLeast<4> for ndarray::Ix6 {}
impl RankAtLeast<5> for ndarray::Ix6 {}
impl RankAtLeast<6> for ndarray::Ix6 {}

/// Compile-time check that operand `o`'s static rank is `N` (nothing at run time).
#[inline(always)]
pub fn rank_is<const N: usize, O: HasDim>(_: &O)
where
    O::Dim: RankIs<N>,
{
}

/// Compile-time check that operand `o`'s static rank is at least `N`.
#[inline(always)]
pub fn rank_at_least<const N: usize, O: HasDim>(_: &O)
where
    O::Dim: RankAtLeast<N>,
{
}
