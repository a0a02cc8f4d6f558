//! The extended-einsum executor: each step goes to the kernel class that fits it.
//!
//! Every operand and the output ("participants") get one stride per label: the sum of the
//! strides of the axes that carry it, so a repeated label walks the diagonal, and 0 where an axis
//! of size 1 is broadcast against a larger size, so the output sums back to size 1. Labels of
//! size 1 are dropped, and labels that move every participant in step are fused into one
//! dimension (`bhqd` with contiguous `b`, `h` becomes one batch dimension of size `b·h`). The
//! result is a small list of dimensions, each with a size, a stride per participant and the set
//! of participants it indexes (its role). The kernel is chosen from the step's class
//! ([`slowgrad_core::classify`]) and these roles:
//!
//! - labels only in the output (broadcast, diagonal scatter of a scalar): the result is computed
//!   once with those labels at index 0 and then copied along them;
//! - two operands whose dimensions are batch, left-free, right-free or contracted (a batched
//!   matrix product, forward or gradient, such as `ik,jk->ij`) go to the `gemm` crate with the
//!   participants' own strides, no copies: one dimension per role is handed to the GEMM and the
//!   others are looped over (contracted ones accumulating). Small products stay in the loop nest,
//!   which has no set-up cost;
//! - everything else (copy and permute, elementwise with broadcasting, reductions, diagonal
//!   reads) runs in one strided loop nest whose innermost loop works on contiguous slices where
//!   the layout allows, so it vectorises.
//!
//! Large work uses both cores: the GEMM's own threads for one large product (or blocks of its
//! columns or rows on rayon's threads, for the operand layouts whose products the GEMM's own
//! threads do not split well), rayon over the batch for many small ones, and loop nests split
//! along an output dimension; work under
//! [`PAR_MIN_WORK`] (products) or [`NEST_PAR_MIN_WORK`] (loop nests) never touches a thread.
//! [`execute_reference`] is the plain loop nest every kernel is tested against.

pub(crate) mod alloc;
mod cache;
mod gemm;
mod nest;
mod reference;

pub(crate) use reference::execute_reference;

use crate::Float;
use ndarray::{ArrayD, ArrayViewD, Dimension, IxDyn};
use rayon::prelude::*;
use slowgrad_core::{checked_len, classify, EinsumError, ExtEinsum, KernelKind};

/// Multiply-adds from which a matrix-product step goes to the GEMM rather than the loop nest:
/// an 8×8×8 product stays in plain loops, a 16×16×16 one goes to the GEMM, on one thread.
pub(crate) const GEMM_MIN_WORK: usize = 12 * 12 * 12;
/// Multiply-adds from which a matrix-product step may use more than one thread: a 64×64×64
/// product runs on one thread, a 128×128×128 one may use all of them.
pub(crate) const PAR_MIN_WORK: usize = 1 << 20;
/// Iterations from which a loop nest (copies, reductions, elementwise: bound by memory, so
/// threads gain less) is split across threads: summing the rows of a 1024×1024 matrix runs on
/// one thread, of a 4096×4096 one on all of them.
pub(crate) const NEST_PAR_MIN_WORK: usize = 1 << 22;

// The examples of the thresholds' documentation, checked at compile time.
const _: () = {
    assert!(8 * 8 * 8 < GEMM_MIN_WORK && 16 * 16 * 16 >= GEMM_MIN_WORK && 16 * 16 * 16 < PAR_MIN_WORK);
    assert!(64 * 64 * 64 < PAR_MIN_WORK && 128 * 128 * 128 >= PAR_MIN_WORK);
    assert!(1024 * 1024 < NEST_PAR_MIN_WORK && 4096 * 4096 >= NEST_PAR_MIN_WORK);
};

/// Computes the extended einsum `spec` of `inputs`.
///
/// `out_shape` gives the output shape; it is required when an output label appears in no
/// input, and may hold 1 where a label of larger size is to be summed to size 1. With `None`
/// every output label takes its full size.
///
/// **Errors** if the shapes do not fit `spec` (see [`EinsumError`]).
///
/// The public API runs it as [`crate::ext_einsum_array`].
pub(crate) fn execute<T: Float>(
    spec: &ExtEinsum,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
) -> Result<ArrayD<T>, EinsumError> {
    execute_as(spec, None, inputs, out_shape)
}

/// [`execute`], with the kernel class given (a generated kernel's, chosen at compile time)
/// instead of classified when the step is prepared.
pub(crate) fn execute_as<T: Float>(
    spec: &ExtEinsum,
    kind: Option<KernelKind>,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
) -> Result<ArrayD<T>, EinsumError> {
    if inputs.len() >= 64 {
        return execute_reference(spec, inputs, out_shape);
    }
    let ready = match cache::lookup::<T>(spec, inputs, out_shape) {
        Some(hit) => hit,
        None => {
            let (sizes, shape) = check(spec, inputs, out_shape)?;
            let (prepared, overwrite) = if spec.used_labels().iter().any(|&l| sizes[l] == 0) {
                (Prepared::Zero, false)
            } else {
                let strides = IxDyn(&shape).default_strides();
                let out_strides: Vec<isize> = strides.slice().iter().map(|&s| s as isize).collect();
                let dims = Dims::new(spec, &sizes, &shape, &out_strides, inputs);
                // the dimensions reach every output element (not only a diagonal of it)
                let reached =
                    (0..dims.len()).filter(|&d| dims.mask[d] & OUT != 0).map(|d| dims.size[d]).product::<usize>();
                let covers = reached == shape.iter().product::<usize>();
                let kind = kind.unwrap_or_else(|| classify(spec));
                let prepared = Prepared::new::<T>(kind, dims, inputs.len());
                let overwrite = covers && prepared.overwrites();
                (prepared, overwrite)
            };
            cache::insert::<T>(spec, inputs, out_shape, Ready { shape, prepared, overwrite })
        }
    };
    let (shape, prepared) = (&ready.shape, &ready.prepared);
    let ptrs: SmallPtrs<T> = SmallPtrs::new(inputs);
    // SAFETY (both branches): the plan was built from dimensions that give a nonzero stride to
    // a participant only for axes whose dimension equals the label's size, after `check`
    // verified every participant's shape against those sizes (or, on a cache hit, for identical
    // shapes and strides), so every offset Σ index·stride with index < size addresses an
    // element of the participant's view, or of the freshly allocated standard-layout output,
    // which no view aliases and in which distinct output index tuples are distinct elements.
    if ready.overwrite {
        // every element is written before any is read: no zeroing first
        let mut out = alloc::try_uninit::<T>(shape)?;
        debug_assert!(out.is_standard_layout());
        if cfg!(debug_assertions) {
            // NaN in every element, so a test sees any the run fails to write
            out.fill(std::mem::MaybeUninit::new(T::nan()));
        }
        unsafe { prepared.run(out.as_mut_ptr().cast::<T>(), ptrs.get()) };
        // SAFETY: `overwrites` means the run wrote every element of the output.
        Ok(unsafe { out.assume_init() })
    } else {
        let mut out = alloc::try_zeros::<T>(shape)?;
        debug_assert!(out.is_standard_layout());
        unsafe { prepared.run(out.as_mut_ptr(), ptrs.get()) };
        Ok(out)
    }
}

/// The inputs' data pointers, on the stack for up to four operands.
struct SmallPtrs<T> {
    stack: [*const T; 4],
    heap: Vec<*const T>,
    len: usize,
}

impl<T: Float> SmallPtrs<T> {
    fn new(inputs: &[ArrayViewD<'_, T>]) -> SmallPtrs<T> {
        let mut p = SmallPtrs { stack: [std::ptr::null(); 4], heap: Vec::new(), len: inputs.len() };
        if inputs.len() <= 4 {
            for (s, a) in p.stack.iter_mut().zip(inputs) {
                *s = a.as_ptr();
            }
        } else {
            p.heap = inputs.iter().map(|a| a.as_ptr()).collect();
        }
        p
    }

    fn get(&self) -> &[*const T] {
        if self.len <= 4 {
            &self.stack[..self.len]
        } else {
            &self.heap
        }
    }
}

/// Label sizes and the output shape, with every shape checked.
fn check<T: Float>(
    spec: &ExtEinsum,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
) -> Result<(Vec<usize>, Vec<usize>), EinsumError> {
    let shapes: Vec<&[usize]> = inputs.iter().map(|a| a.shape()).collect();
    let sizes = spec.label_sizes(&shapes, out_shape)?;
    let shape = match out_shape {
        Some(s) => {
            checked_len(s)?;
            s.to_vec()
        }
        None => spec.output_shape(&sizes)?,
    };
    for a in inputs {
        checked_len(a.shape())?;
    }
    Ok((sizes, shape))
}

/// The loop dimensions of a step: participant 0 is the output, `1..` the inputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dims {
    /// Size of each dimension (all > 1).
    pub size: Vec<usize>,
    /// Bit `p` set: participant `p` is indexed by the dimension (its role).
    pub mask: Vec<u64>,
    /// `stride[p][d]`: how far participant `p` moves along dimension `d` (0 if not indexed).
    pub stride: Vec<Vec<isize>>,
}

/// Mask bit of the output.
pub(crate) const OUT: u64 = 1;

impl Dims {
    fn new<T: Float>(
        spec: &ExtEinsum,
        sizes: &[usize],
        out_shape: &[usize],
        out_strides: &[isize],
        inputs: &[ArrayViewD<'_, T>],
    ) -> Dims {
        let np = inputs.len() + 1;
        let mut dims = Dims { size: Vec::new(), mask: Vec::new(), stride: vec![Vec::new(); np] };
        for (l, &n) in sizes.iter().enumerate() {
            if n <= 1 {
                continue;
            }
            let mut mask = 0u64;
            for p in 0..np {
                let (term, shape, strides) = match p {
                    0 => (&spec.output, out_shape, out_strides),
                    _ => (&spec.inputs[p - 1], inputs[p - 1].shape(), inputs[p - 1].strides()),
                };
                let mut s = 0isize;
                for ((&m, &d), &st) in term.iter().zip(shape).zip(strides) {
                    if m == l && d == n {
                        s += st;
                        mask |= 1 << p;
                    }
                }
                dims.stride[p].push(s);
            }
            dims.size.push(n);
            dims.mask.push(mask);
        }
        dims.coalesce();
        dims
    }

    /// Number of dimensions.
    pub fn len(&self) -> usize {
        self.size.len()
    }

    /// Fuses pairs of dimensions with the same role that every participant walks in step (the
    /// outer one's stride is the inner one's times its size), so loops get longer and fewer.
    fn coalesce(&mut self) {
        'again: loop {
            for a in 0..self.len() {
                for b in 0..self.len() {
                    let nested = a != b
                        && self.mask[a] == self.mask[b]
                        && self.stride.iter().all(|s| s[b].checked_mul(self.size[b] as isize) == Some(s[a]));
                    if nested {
                        self.size[b] *= self.size[a];
                        self.remove(a);
                        continue 'again;
                    }
                }
            }
            return;
        }
    }

    fn remove(&mut self, d: usize) {
        self.size.remove(d);
        self.mask.remove(d);
        for s in &mut self.stride {
            s.remove(d);
        }
    }

    /// The dimensions `keep` (in that order).
    pub fn select(&self, keep: &[usize]) -> Dims {
        Dims {
            size: keep.iter().map(|&d| self.size[d]).collect(),
            mask: keep.iter().map(|&d| self.mask[d]).collect(),
            stride: self.stride.iter().map(|s| keep.iter().map(|&d| s[d]).collect()).collect(),
        }
    }

    /// Total multiply-adds (saturating).
    pub fn work(&self) -> usize {
        self.size.iter().fold(1usize, |w, &n| w.saturating_mul(n))
    }
}

/// A raw pointer that may cross threads.
#[derive(Clone, Copy)]
pub(crate) struct SyncPtr<T>(pub *mut T);

// SAFETY: the pointer is only dereferenced by tasks that write disjoint elements of the output
// and only read the inputs (see the SAFETY comments where they run).
unsafe impl<T> Send for SyncPtr<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for SyncPtr<T> {}

impl<T> SyncPtr<T> {
    /// The pointer (a method, so closures capture the whole `SyncPtr`).
    pub fn get(self) -> *mut T {
        self.0
    }
}

/// A prepared step: its output shape and how it runs.
#[derive(Debug)]
pub(crate) struct Ready {
    shape: Vec<usize>,
    prepared: Prepared,
    /// The step writes every output element before reading any ([`Prepared::overwrites`], on
    /// dimensions that reach every element), so its output is not zeroed first.
    overwrite: bool,
}

/// How a step runs, prepared once per equation, shapes and strides.
#[derive(Debug)]
pub(crate) enum Prepared {
    /// A dimension has size 0: the output stays zero.
    Zero,
    /// The strided loop nest.
    Nest(nest::NestPlan),
    /// The loop nest split along one output dimension into chunks that run on rayon's threads:
    /// per chunk, the participants' offsets and its nest.
    ParNest(Vec<(Vec<isize>, nest::NestPlan)>),
    /// (Batched) matrix products.
    Gemm(gemm::GemmPlan),
    /// Output-only dimensions: the core once (into its block of the output, zeroed first by the
    /// fill nest when the core adds to what is there), then copies of its block along each of
    /// them (destination offset and copy nest), which assign: every element is written once.
    Broadcast(Box<Prepared>, Option<nest::NestPlan>, Vec<(isize, nest::NestPlan)>),
}

impl Prepared {
    fn new<T: Float>(kind: KernelKind, dims: Dims, n_in: usize) -> Prepared {
        let (bcast, core): (Vec<usize>, Vec<usize>) = (0..dims.len()).partition(|&d| dims.mask[d] == OUT);
        if bcast.is_empty() {
            return Prepared::core::<T>(kind, dims, n_in);
        }
        let first = Prepared::core::<T>(kind, dims.select(&core), n_in);
        // copy the computed block along each broadcast dimension in turn
        let mut block: Vec<usize> = core.into_iter().filter(|&d| dims.mask[d] & OUT != 0).collect();
        // the block filled with zeros (a source of stride 0) before a core that adds into it
        let fill = (!first.overwrites()).then(|| {
            let b = dims.select(&block);
            let n = block.len();
            nest::NestPlan::new(&Dims {
                size: b.size,
                mask: vec![0b11; n],
                stride: vec![b.stride[0].clone(), vec![0; n]],
            })
        });
        let mut copies = Vec::new();
        for d in bcast {
            let b = dims.select(&block);
            let st = dims.stride[0][d];
            let mut copy = Dims { size: b.size, mask: vec![0b11; block.len()], stride: vec![b.stride[0].clone(); 2] };
            copy.size.push(dims.size[d] - 1);
            copy.mask.push(OUT);
            copy.stride[0].push(st);
            copy.stride[1].push(0);
            copies.push((st, nest::NestPlan::new(&copy)));
            block.push(d);
        }
        Prepared::Broadcast(Box::new(first), fill, copies)
    }

    fn core<T: Float>(kind: KernelKind, dims: Dims, n_in: usize) -> Prepared {
        let gemm_like = matches!(kind, KernelKind::BatchedGemm | KernelKind::Scatter | KernelKind::LoopNest);
        if gemm_like && n_in == 2 {
            if let Some(g) = gemm::GemmPlan::new::<T>(&dims) {
                return Prepared::Gemm(g);
            }
        }
        let threads = if dims.work() >= NEST_PAR_MIN_WORK { rayon::current_num_threads() } else { 1 };
        let split = (0..dims.len()).filter(|&d| dims.mask[d] & OUT != 0).max_by_key(|&d| dims.size[d]);
        match split {
            Some(d) if threads > 1 && dims.size[d] >= threads => {
                let n = dims.size[d];
                let chunks = (0..threads)
                    .map(|c| {
                        let (lo, hi) = (n * c / threads, n * (c + 1) / threads);
                        let mut sub = dims.clone();
                        sub.size[d] = hi - lo;
                        (dims.stride.iter().map(|s| s[d] * lo as isize).collect(), nest::NestPlan::new(&sub))
                    })
                    .collect();
                Prepared::ParNest(chunks)
            }
            _ => Prepared::Nest(nest::NestPlan::new(&dims)),
        }
    }

    /// Whether running the step writes every element its dimensions reach before reading any: a
    /// GEMM's first product assigns, and a broadcast assigns its copies (and zeroes its core's
    /// block itself where the core adds). Where the dimensions reach every element of the
    /// output (no repeated output label), the output then needs no zeroing first.
    fn overwrites(&self) -> bool {
        match self {
            Prepared::Zero | Prepared::Nest(_) | Prepared::ParNest(_) => false,
            Prepared::Gemm(g) => g.overwrites(),
            Prepared::Broadcast(..) => true,
        }
    }

    /// Runs the step into `out`: adding into it, which must start zeroed, unless
    /// [`Prepared::overwrites`], when the elements it reaches may hold no values yet.
    ///
    /// # Safety
    /// The plan's sizes and strides must address valid elements of `out` and `ins`, and
    /// distinct index tuples of the output's dimensions must address distinct elements of `out`
    /// (see `execute`).
    unsafe fn run<T: Float>(&self, out: *mut T, ins: &[*const T]) {
        match self {
            Prepared::Zero => {}
            // SAFETY: as the caller guarantees.
            Prepared::Nest(n) => unsafe { n.run(out, ins) },
            // SAFETY: as the caller guarantees.
            Prepared::Gemm(g) => unsafe { g.run(out, ins[0], ins[1]) },
            Prepared::ParNest(chunks) => {
                let out = SyncPtr(out);
                let ins: Vec<SyncPtr<T>> = ins.iter().map(|&p| SyncPtr(p as *mut T)).collect();
                chunks.par_iter().for_each(|(off, plan)| {
                    let ptrs: Vec<*const T> =
                        ins.iter().zip(&off[1..]).map(|(p, &o)| p.get().wrapping_offset(o) as *const T).collect();
                    // SAFETY: chunk `c` covers indices [lo, hi) of one output dimension, so its
                    // offsets and its nest address the same elements as the whole nest does
                    // for those indices (in bounds, as the caller guarantees); distinct chunks
                    // write distinct output elements, since distinct output index tuples are
                    // distinct elements; the inputs are only read.
                    unsafe { plan.run(out.get().offset(off[0]), &ptrs) };
                });
            }
            Prepared::Broadcast(core, fill, copies) => {
                if let Some(fill) = fill {
                    let zero = T::zero();
                    // SAFETY: the fill covers the core's block of the output (in bounds, as the
                    // caller guarantees) and reads only `zero`, with stride 0.
                    unsafe { fill.assign(out, &zero) };
                }
                // SAFETY: the core's dimensions are a subset of the step's, at index 0 of the
                // broadcast ones; its block was zeroed above unless the core overwrites it.
                unsafe { core.run(out, ins) };
                for (st, copy) in copies {
                    // SAFETY: the destination (indices 1.. along the broadcast dimension) and the
                    // source (index 0, written by the core or an earlier copy) are disjoint parts
                    // of the output, since distinct output index tuples are distinct elements;
                    // every index stays in bounds. Each element of the output outside the core's
                    // block is written by exactly one copy: the one of the last broadcast
                    // dimension along which its index is not 0.
                    unsafe { copy.assign(out.offset(*st), out) };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2, Array4};

    fn dims_of(inputs: &str, output: &str, ops: &[ArrayViewD<'_, f64>]) -> Dims {
        let spec = ExtEinsum::from_letters(inputs, output).unwrap();
        let (sizes, shape) = check(&spec, ops, None).unwrap();
        let out = ArrayD::<f64>::zeros(IxDyn(&shape));
        Dims::new(&spec, &sizes, out.shape(), out.strides(), ops)
    }

    #[test]
    fn large_products_choose_how_to_use_threads() {
        use self::gemm::Threads;
        if rayon::current_num_threads() < 2 {
            return; // one thread: every product runs on it
        }
        let x = Array2::<f64>::zeros((256, 512));
        let y = Array2::<f64>::zeros((512, 320));
        let plan = |inputs: &str, output: &str, ops: &[ArrayViewD<'_, f64>]| {
            gemm::GemmPlan::new::<f64>(&dims_of(inputs, output, ops)).expect("a product").threads()
        };
        let yt = y.t().as_standard_layout().into_owned();
        let xt = x.t().as_standard_layout().into_owned();
        let t = rayon::current_num_threads();
        assert_eq!(plan("ij,jk", "ik", &[x.view().into_dyn(), y.view().into_dyn()]), Threads::Gemm(t));
        // `ik,jk->ij`: the right operand has unit stride along the summed label
        assert_eq!(plan("ij,kj", "ik", &[x.view().into_dyn(), yt.view().into_dyn()]), Threads::Columns(t));
        // `ij,ik->jk`: the left operand has unit stride along the output's rows
        assert_eq!(plan("ji,jk", "ik", &[xt.view().into_dyn(), y.view().into_dyn()]), Threads::Rows(t));
        let small = Array2::<f64>::zeros((8, 8));
        assert_eq!(plan("ij,jk", "ik", &[small.view().into_dyn(), small.view().into_dyn()]), Threads::None);
    }

    #[test]
    fn contiguous_batch_labels_fuse() {
        let a = Array4::<f64>::zeros((2, 3, 4, 5));
        let b = Array4::<f64>::zeros((2, 3, 6, 5));
        let d = dims_of("bhqd,bhkd", "bhqk", &[a.view().into_dyn(), b.view().into_dyn()]);
        assert_eq!(d.len(), 4);
        assert!(d.size.contains(&6) && d.mask.contains(&0b111));
        // a transposed operand keeps the labels apart
        let m = Array2::<f64>::zeros((3, 4));
        let d = dims_of("ij", "ij", &[m.t().into_dyn()]);
        assert_eq!(d.len(), 2);
        let d = dims_of("ij", "ij", &[m.view().into_dyn()]);
        assert_eq!(d.size, vec![12]);
    }

    #[test]
    fn matches_reference_on_examples() {
        let a = Array2::from_shape_fn((20, 30), |(i, j)| (i * 7 + j * 3) as f64 % 11.0 - 5.0);
        let b = Array2::from_shape_fn((30, 25), |(i, j)| (i * 5 + j) as f64 % 13.0 - 6.0);
        let spec = ExtEinsum::from_letters("ij,jk", "ik").unwrap();
        let got = execute(&spec, &[a.view().into_dyn(), b.view().into_dyn()], None).unwrap();
        assert_eq!(got, a.dot(&b).into_dyn());
        let spec = ExtEinsum::from_letters("ik,jk", "bij").unwrap();
        let g = array![[1.0, 2.0], [3.0, 4.0]];
        let got = execute(&spec, &[g.view().into_dyn(), g.view().into_dyn()], Some(&[3, 2, 2])).unwrap();
        let want = execute_reference(&spec, &[g.view().into_dyn(), g.view().into_dyn()], Some(&[3, 2, 2])).unwrap();
        assert_eq!(got, want);
    }
}
