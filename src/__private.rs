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
/// code a pattern adds small (the loop depth and order come from `data`).
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
    let mut shapes: [&[usize]; 2] = [&[], &[]];
    for (s, a) in shapes.iter_mut().zip(inputs) {
        *s = a.shape();
    }
    let sizes = labels.sizes(&shapes[..inputs.len()], out_shape)?;
    // Large work goes to the runtime's kernel classes (GEMM, tuned and threaded loop nests),
    // with the step prepared once per shape in its per-thread cache; small work stays in the
    // generated loop nest below, which has no set-up cost.
    let work = sizes[..n_labels].iter().fold(1usize, |w, &n| w.saturating_mul(n));
    if work >= FAST_MIN_WORK {
        return with_ext(data, |ext| exec::execute(ext, inputs, out_shape));
    }
    let mut out = match out_shape {
        Some(s) => {
            checked_len(s)?;
            ArrayD::<T>::zeros(IxDyn(s))
        }
        None => {
            let mut shape = [0usize; MAX_LABELS];
            for (d, &l) in shape.iter_mut().zip(labels.output) {
                *d = sizes[l];
            }
            let shape = &shape[..labels.output.len()];
            checked_len(shape)?;
            ArrayD::<T>::zeros(IxDyn(shape))
        }
    };
    if sizes[..n_labels].contains(&0) {
        return Ok(out);
    }
    // strides[p][depth]: how far participant p (0 = output) moves per step of loop `depth`
    let mut strides = [[0isize; MAX_LABELS]; 3];
    let mut loop_sizes = [1usize; MAX_LABELS];
    let depth = data.order.len();
    for (lvl, &l) in data.order.iter().enumerate() {
        loop_sizes[lvl] = sizes[l];
    }
    let mut fill = |p: usize, term: &[usize], dims: &[usize], st: &[isize]| {
        for ((&l, &d), &s) in term.iter().zip(dims).zip(st) {
            if d == sizes[l] && d > 1 {
                let lvl = data.order.iter().position(|&m| m == l).unwrap_or(0);
                strides[p][lvl] += s;
            }
        }
    };
    fill(0, labels.output, out.shape(), out.strides());
    for (k, a) in inputs.iter().enumerate() {
        fill(k + 1, labels.inputs[k], a.shape(), a.strides());
    }
    let o = out.as_mut_ptr();
    let nest = Nest { sizes: &loop_sizes[..depth], strides: &strides };
    // SAFETY: every label size was checked against every participant's shape above, and a
    // participant's stride for a loop is nonzero only on axes whose length equals that loop's
    // size, so every offset Σ index·stride with index < size lies inside the participant (the
    // views' own strides, or the freshly allocated standard-layout output). The output does not
    // alias the inputs: it was just allocated.
    unsafe {
        if inputs.len() == 1 {
            nest.run::<T, 1>(o, [inputs[0].as_ptr()]);
        } else {
            nest.run::<T, 2>(o, [inputs[0].as_ptr(), inputs[1].as_ptr()]);
        }
    }
    Ok(out)
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

/// Whether generated kernels run their AVX2+FMA copy: the processor has both, and the
/// environment variable `SLOWGRAD_BASELINE_KERNELS` is not set (it selects the baseline copy,
/// whose products are rounded before they are added, as on a processor without FMA: for tests
/// of that copy, or results that agree across processors). Read once per process.
pub fn kernels_use_fma() -> bool {
    static FMA: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FMA.get_or_init(|| {
        #[cfg(target_arch = "x86_64")]
        let has = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
        #[cfg(not(target_arch = "x86_64"))]
        let has = false;
        has && std::env::var_os("SLOWGRAD_BASELINE_KERNELS").is_none()
    })
}

struct Nest<'a> {
    sizes: &'a [usize],
    strides: &'a [[isize; MAX_LABELS]; 3],
}

impl Nest<'_> {
    /// Runs the loops, compiled for AVX2 with fused multiply-adds when the processor has them
    /// (detected at run time, so the default build needs no `target-cpu` flag), for the baseline
    /// instruction set otherwise.
    ///
    /// # Safety
    /// As [`Nest::run_with`].
    unsafe fn run<T: Float, const N: usize>(&self, out: *mut T, ins: [*const T; N]) {
        #[cfg(target_arch = "x86_64")]
        if kernels_use_fma() {
            // SAFETY: the processor has the features `run_fma` is compiled for; the rest as
            // the caller guarantees.
            return unsafe { self.run_fma::<T, N>(out, ins) };
        }
        // SAFETY: as the caller guarantees.
        unsafe { self.run_with::<T, N, false>(out, ins) }
    }

    /// [`Nest::run_with`] compiled for AVX2 and FMA.
    ///
    /// # Safety
    /// As [`Nest::run_with`], on a processor with AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn run_fma<T: Float, const N: usize>(&self, out: *mut T, ins: [*const T; N]) {
        // SAFETY: as the caller guarantees.
        unsafe { self.run_with::<T, N, true>(out, ins) }
    }

    /// Runs the loops: the innermost two as plain loops (the innermost in [`inner`]), the rest as
    /// an odometer. With `FMA`, products are added with fused multiply-adds ([`mac`]).
    ///
    /// # Safety
    /// Every offset formed from `sizes` and `strides` must address an element of the output
    /// (`out`) or of the inputs (`ins`), and the output may not alias an input.
    #[inline(always)]
    unsafe fn run_with<T: Float, const N: usize, const FMA: bool>(&self, out: *mut T, ins: [*const T; N]) {
        let Some((&n_inner, outer)) = self.sizes.split_last() else {
            // no labels: a product of single elements
            // SAFETY: every participant holds at least one element (no size is 0).
            unsafe { *out += product(ins, [0; N]) };
            return;
        };
        let last = outer.len();
        let s_out = self.strides[0][last];
        let s_in: [isize; N] = std::array::from_fn(|k| self.strides[k + 1][last]);
        let Some((&n_mid, odometer)) = outer.split_last() else {
            // SAFETY: one loop, below its size, as the caller guarantees.
            unsafe { inner::<T, N, FMA>(out, s_out, ins, s_in, n_inner) };
            return;
        };
        let m_out = self.strides[0][odometer.len()];
        let m_in: [isize; N] = std::array::from_fn(|k| self.strides[k + 1][odometer.len()]);
        // One of the two innermost loops runs contiguously along the output and the other sums
        // a label: keep blocks of outputs in registers while the sum runs.
        let row = m_out == 0 && s_out == 1;
        let col = s_out == 0 && m_out == 1;
        let (s_blk, m_blk, n_sum, n_blk) =
            if row { (s_in, m_in, n_mid, n_inner) } else { (m_in, s_in, n_inner, n_mid) };
        // Two rows of the next loop out at once, when they write disjoint blocks of the output:
        // two independent chains of additions instead of one.
        let pair = (row || col)
            && odometer.last().is_some_and(|&n| n >= 2)
            && self.strides[0][odometer.len() - 1].unsigned_abs() >= n_blk;
        let (odometer, n_rows, r_out, r_in) = match odometer.split_last() {
            Some((&n, rest)) if pair => {
                let lvl = rest.len();
                (rest, n, self.strides[0][lvl], std::array::from_fn(|k| self.strides[k + 1][lvl]))
            }
            _ => (odometer, 1, 0, [0isize; N]),
        };
        let mid = odometer.len();
        let mut idx = [0usize; MAX_LABELS];
        let mut off_out = 0isize;
        let mut off_in = [0isize; N];
        loop {
            let (mut o, mut i) = (off_out, off_in);
            if row || col {
                let mut r = 0;
                while r < n_rows {
                    let at = std::array::from_fn(|k| ins[k].wrapping_offset(i[k]));
                    // SAFETY: the same offsets as the loops below, which the caller guarantees;
                    // two rows are run together only below `n_rows`, on disjoint output blocks.
                    unsafe {
                        if r + 2 <= n_rows {
                            row_sum::<T, N, 2, FMA>(out.offset(o), r_out, at, r_in, s_blk, m_blk, n_sum, n_blk);
                            r += 2;
                            o += 2 * r_out;
                            for k in 0..N {
                                i[k] += 2 * r_in[k];
                            }
                        } else {
                            row_sum::<T, N, 1, FMA>(out.offset(o), 0, at, [0; N], s_blk, m_blk, n_sum, n_blk);
                            r += 1;
                        }
                    }
                }
            } else {
                for _ in 0..n_mid {
                    // SAFETY: offsets index elements, as the caller guarantees; the two inner
                    // loops stay below their labels' sizes.
                    unsafe {
                        inner::<T, N, FMA>(
                            out.offset(o),
                            s_out,
                            std::array::from_fn(|k| ins[k].offset(i[k])),
                            s_in,
                            n_inner,
                        )
                    };
                    o += m_out;
                    for k in 0..N {
                        i[k] += m_in[k];
                    }
                }
            }
            let mut lvl = mid;
            loop {
                if lvl == 0 {
                    return;
                }
                lvl -= 1;
                idx[lvl] += 1;
                off_out += self.strides[0][lvl];
                for (k, o) in off_in.iter_mut().enumerate() {
                    *o += self.strides[k + 1][lvl];
                }
                if idx[lvl] < odometer[lvl] {
                    break;
                }
                let back = odometer[lvl] as isize;
                off_out -= self.strides[0][lvl] * back;
                for (k, o) in off_in.iter_mut().enumerate() {
                    *o -= self.strides[k + 1][lvl] * back;
                }
                idx[lvl] = 0;
            }
        }
    }
}

/// `out[r·ro + c] += Σ_j Π_k ins[k][r·ri[k] + j·m[k] + c·s[k]]` for `r < R`, `c < n`,
/// `j < n_sum`, with `out` contiguous: blocks of [`LANES`] outputs of each of the `R` rows stay in
/// registers while `j` runs (each output gets the same additions, in the same order, as one pass
/// of the loops over `j` outside `c`). Inputs are read in blocks where `s[k]` is 1, broadcast
/// where it is 0 and gathered otherwise.
///
/// # Safety
/// Every offset `r·ri[k] + j·m[k] + c·s[k]` must address an element of `ins[k]`, `out[r·ro + c]`
/// one of the output, the `R` output rows must not overlap, and the output may not alias an
/// input.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn row_sum<T: Float, const N: usize, const R: usize, const FMA: bool>(
    out: *mut T,
    ro: isize,
    ins: [*const T; N],
    ri: [isize; N],
    s: [isize; N],
    m: [isize; N],
    n_sum: usize,
    n: usize,
) {
    let full = n - n % LANES;
    // SAFETY (every access): r < R, c < n and j < n_sum, as the caller guarantees; a block of
    // LANES is read or written as one only along a unit stride, below `full`.
    unsafe {
        for c in (0..full).step_by(LANES) {
            let o: [*mut [T; LANES]; R] = std::array::from_fn(|r| out.offset(r as isize * ro + c as isize) as *mut _);
            let mut acc: [[T; LANES]; R] = std::array::from_fn(|r| std::ptr::read_unaligned(o[r]));
            for j in 0..n_sum as isize {
                for (r, acc) in acc.iter_mut().enumerate() {
                    // the factors of each input, then their product added to the block
                    let vals: [[T; LANES]; N] = std::array::from_fn(|k| {
                        let p = ins[k].offset(r as isize * ri[k] + j * m[k] + c as isize * s[k]);
                        if s[k] == 1 {
                            std::ptr::read_unaligned(p as *const [T; LANES])
                        } else if s[k] == 0 {
                            [*p; LANES]
                        } else {
                            std::array::from_fn(|l| *p.offset(l as isize * s[k]))
                        }
                    });
                    let mut v = vals[0];
                    for f in vals.iter().take(N.saturating_sub(1)).skip(1) {
                        for l in 0..LANES {
                            v[l] *= f[l];
                        }
                    }
                    for l in 0..LANES {
                        acc[l] = if N == 1 { acc[l] + v[l] } else { mac::<T, FMA>(acc[l], v[l], vals[N - 1][l]) };
                    }
                }
            }
            for (o, acc) in o.into_iter().zip(acc) {
                std::ptr::write_unaligned(o, acc);
            }
        }
        for r in 0..R as isize {
            for c in full..n {
                let o = out.offset(r * ro + c as isize);
                let mut acc = *o;
                for j in 0..n_sum as isize {
                    acc += product(ins, std::array::from_fn(|k| r * ri[k] + j * m[k] + c as isize * s[k]));
                }
                *o = acc;
            }
        }
    }
}

/// `acc + a·b`: one fused multiply-add with `FMA` (which only code compiled for a processor with
/// FMA instructions may ask for: elsewhere it would be a slow library call), else a product and
/// a sum.
#[inline(always)]
fn mac<T: Float, const FMA: bool>(acc: T, a: T, b: T) -> T {
    if FMA {
        a.mul_add(b, acc)
    } else {
        acc + a * b
    }
}

/// # Safety
/// `ins[k] + off[k]` must address an element.
#[inline(always)]
unsafe fn product<T: Float, const N: usize>(ins: [*const T; N], off: [isize; N]) -> T {
    let mut p = T::one();
    for k in 0..N {
        // SAFETY: as the caller guarantees.
        p *= unsafe { *ins[k].offset(off[k]) };
    }
    p
}

/// Lanes of the innermost loops: they run in fixed blocks of this many elements, which the
/// compiler turns into vector instructions however short the loop (a loop of unknown length is
/// only vectorised in blocks of several vectors, and 8×8 products would never reach one).
const LANES: usize = 8;
// the dot product below adds its LANES partial sums pairwise, written out for eight
const _: () = assert!(LANES == 8);

/// The innermost loop: `out[i·so] += Π ins[k][i·s[k]]` for `i < n`, accumulated in a register
/// when the output does not move (a summed label or a size-1 output dimension).
///
/// # Safety
/// For every `i < n` the offsets must address elements, and the output may not alias an input.
#[inline(always)]
unsafe fn inner<T: Float, const N: usize, const FMA: bool>(
    out: *mut T,
    so: isize,
    ins: [*const T; N],
    s: [isize; N],
    n: usize,
) {
    // SAFETY (every branch): i < n, the innermost label's size, so each offset is in bounds; a
    // slice is formed only along a unit stride, where it covers exactly the addressed elements.
    unsafe {
        if so == 0 {
            let acc = if s.iter().all(|&x| x == 1) {
                // a dot product: LANES partial sums, added pairwise at the end
                let moving: [&[T]; N] = std::array::from_fn(|k| std::slice::from_raw_parts(ins[k], n));
                let full = n - n % LANES;
                let mut lanes = [T::zero(); LANES];
                for c in (0..full).step_by(LANES) {
                    for (l, lane) in lanes.iter_mut().enumerate() {
                        let mut p = moving[0][c + l];
                        for m in moving.iter().take(N.saturating_sub(1)).skip(1) {
                            p *= m[c + l];
                        }
                        *lane = if N == 1 { *lane + p } else { mac::<T, FMA>(*lane, p, moving[N - 1][c + l]) };
                    }
                }
                let mut acc =
                    ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
                for i in full..n {
                    acc += product(ins, [i as isize; N]);
                }
                acc
            } else {
                let mut acc = T::zero();
                for i in 0..n as isize {
                    acc += product(ins, s.map(|x| x * i));
                }
                acc
            };
            *out += acc;
        } else if so == 1 && s.iter().all(|&x| x == 0 || x == 1) {
            // contiguous output; every input either contiguous or constant along the loop: hoist
            // the constants and run over slices in blocks of LANES
            let o = std::slice::from_raw_parts_mut(out, n);
            let mut c = T::one();
            let mut moving: [&[T]; N] = [&[]; N];
            let mut m = 0;
            for k in 0..N {
                if s[k] == 0 {
                    c *= *ins[k];
                } else {
                    moving[m] = std::slice::from_raw_parts(ins[k], n);
                    m += 1;
                }
            }
            match m {
                0 => o.iter_mut().for_each(|y| *y += c),
                1 => axpy::<T, FMA>(o, c, moving[0]),
                _ => axpy2::<T, FMA>(o, c, moving[0], moving[N - 1]),
            }
        } else {
            for i in 0..n as isize {
                *out.offset(i * so) += product(ins, s.map(|x| x * i));
            }
        }
    }
}

/// `y += c·a` in blocks of [`LANES`]. Each block is loaded into registers before any store, so
/// the compiler needs no proof that the slices do not overlap to use vector instructions.
#[inline(always)]
fn axpy<T: Float, const FMA: bool>(y: &mut [T], c: T, a: &[T]) {
    let mut yc = y.chunks_exact_mut(LANES);
    let mut ac = a.chunks_exact(LANES);
    for (y, a) in (&mut yc).zip(&mut ac) {
        if let (Ok(y), Ok(a)) = (<&mut [T; LANES]>::try_from(y), <&[T; LANES]>::try_from(a)) {
            let (a, mut v) = (*a, *y);
            for l in 0..LANES {
                v[l] = mac::<T, FMA>(v[l], c, a[l]);
            }
            *y = v;
        }
    }
    yc.into_remainder().iter_mut().zip(ac.remainder()).for_each(|(y, &a)| *y += c * a);
}

/// `y += c·a·b` elementwise, as [`axpy`].
#[inline(always)]
fn axpy2<T: Float, const FMA: bool>(y: &mut [T], c: T, a: &[T], b: &[T]) {
    let mut yc = y.chunks_exact_mut(LANES);
    let mut ac = a.chunks_exact(LANES);
    let mut bc = b.chunks_exact(LANES);
    for ((y, a), b) in (&mut yc).zip(&mut ac).zip(&mut bc) {
        if let (Ok(y), Ok(a), Ok(b)) =
            (<&mut [T; LANES]>::try_from(y), <&[T; LANES]>::try_from(a), <&[T; LANES]>::try_from(b))
        {
            let (a, b, mut v) = (*a, *b, *y);
            for l in 0..LANES {
                v[l] = mac::<T, FMA>(v[l], c * a[l], b[l]);
            }
            *y = v;
        }
    }
    yc.into_remainder().iter_mut().zip(ac.remainder()).zip(bc.remainder()).for_each(|((y, &a), &b)| *y += c * a * b);
}

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
