//! The per-thread cache of prepared steps: a repeated step (every training iteration, every
//! gradient) skips validation and planning and allocates only its output. It is the one cache
//! of prepared work for every kernel that reaches the executor, interpreted or generated.
//!
//! An entry is keyed by the step's equation, the element type, the inputs' shapes and strides
//! and the requested output shape. A step names its equation ([`StepKey`]) in one of two ways:
//!
//! - by value ([`StepKey::Ext`]), for the interpreter's equations, compared by their terms
//!   (label names, which change nothing in how a step runs, are not compared);
//! - by the address of a generated kernel's constant data ([`StepKey::Static`]). The data is
//!   `'static`, so an address stands for the same data, and so the same equation, for the whole
//!   run (data that the compiler keeps in two copies merely gets an entry per copy). A
//!   generated kernel's large step thus finds its entry without building an [`ExtEinsum`],
//!   which it builds from its data only when the step is prepared. Keying by the address,
//!   rather than keeping an `ExtEinsum` per generated kernel in a table beside this cache,
//!   leaves one table, one bound on its size, and one lookup per step.

use super::Ready;
use crate::ring::Ring;
use crate::Float;
use ndarray::ArrayViewD;
use slowgrad_core::ExtEinsum;
use smallvec::SmallVec;
use std::any::TypeId;
use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

/// Entries kept per thread; the oldest is replaced when full.
const CAPACITY: usize = 64;

/// How a step names its equation in the cache.
#[derive(Clone, Copy)]
pub(crate) enum StepKey<'a> {
    /// An equation given as a value.
    Ext(&'a ExtEinsum),
    /// A generated kernel's equation, named by the address of the kernel's constant data, with
    /// the function that builds it from that data (called only when a step is prepared).
    Static {
        /// The address of the kernel's constant data.
        address: usize,
        /// Builds the equation.
        build: &'a dyn Fn() -> ExtEinsum,
    },
}

impl StepKey<'_> {
    /// The equation, borrowed or built.
    pub(super) fn equation(&self) -> Cow<'_, ExtEinsum> {
        match *self {
            StepKey::Ext(spec) => Cow::Borrowed(spec),
            StepKey::Static { build, .. } => Cow::Owned(build()),
        }
    }
}

/// The equation part of an entry's key, as stored.
enum Named {
    Ext(ExtEinsum),
    Static(usize),
}

impl Named {
    fn new(step: StepKey<'_>) -> Named {
        match step {
            StepKey::Ext(spec) => Named::Ext(spec.clone()),
            StepKey::Static { address, .. } => Named::Static(address),
        }
    }

    fn is(&self, step: StepKey<'_>) -> bool {
        match (self, step) {
            (Named::Ext(e), StepKey::Ext(spec)) => e.inputs == spec.inputs && e.output == spec.output,
            (Named::Static(a), StepKey::Static { address, .. }) => *a == address,
            _ => false,
        }
    }
}

struct Entry {
    hash: u64,
    ty: TypeId,
    equation: Named,
    key: Vec<isize>,
    ready: Rc<Ready>,
}

thread_local! {
    static CACHE: RefCell<Ring<Entry, CAPACITY>> = RefCell::new(Ring::default());
}

/// Shapes and strides of the inputs and the requested output shape, as one sequence (on the
/// stack for the steps of small ranks that make up most lookups).
type Key = SmallVec<[isize; 32]>;

fn key<T: Float>(inputs: &[ArrayViewD<'_, T>], out_shape: Option<&[usize]>) -> Key {
    let mut k = Key::new();
    for a in inputs {
        k.push(a.ndim() as isize);
        k.extend(a.shape().iter().map(|&d| d as isize));
        k.extend_from_slice(a.strides());
    }
    k.push(out_shape.map_or(-1, |s| s.len() as isize));
    k.extend(out_shape.unwrap_or(&[]).iter().map(|&d| d as isize));
    k
}

fn mix(h: u64, x: u64) -> u64 {
    (h.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
}

fn hash(step: StepKey<'_>, key: &[isize]) -> u64 {
    let mut h = 0;
    match step {
        StepKey::Ext(spec) => {
            for t in &spec.inputs {
                h = mix(h, t.len() as u64);
                for &l in t {
                    h = mix(h, l as u64);
                }
            }
            h = mix(h, u64::MAX);
            for &l in &spec.output {
                h = mix(h, l as u64);
            }
        }
        StepKey::Static { address, .. } => h = mix(mix(h, u64::MAX - 1), address as u64),
    }
    for &x in key {
        h = mix(h, x as u64);
    }
    h
}

/// The prepared step for these arguments, if cached.
pub(super) fn lookup<T: Float>(
    step: StepKey<'_>,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
) -> Option<Rc<Ready>> {
    let key = key(inputs, out_shape);
    let h = hash(step, &key);
    let ty = TypeId::of::<T>();
    CACHE.with(|c| {
        c.borrow()
            .find(|e| e.hash == h && e.ty == ty && e.key[..] == key[..] && e.equation.is(step))
            .map(|e| e.ready.clone())
    })
}

/// Caches the prepared step for these arguments and returns it.
pub(super) fn insert<T: Float>(
    step: StepKey<'_>,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
    ready: Ready,
) -> Rc<Ready> {
    let ready = Rc::new(ready);
    let key = key(inputs, out_shape);
    let entry = Entry {
        hash: hash(step, &key),
        ty: TypeId::of::<T>(),
        equation: Named::new(step),
        key: key.to_vec(),
        ready: ready.clone(),
    };
    CACHE.with(|c| c.borrow_mut().insert(entry));
    ready
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::prepared::Prepared;
    use ndarray::{Array2, ShapeBuilder};

    fn ready() -> Ready {
        Ready { shape: vec![2], prepared: Prepared::Zero, overwrite: false }
    }

    fn ext(inputs: Vec<Vec<usize>>, output: Vec<usize>, names: &[&str]) -> ExtEinsum {
        ExtEinsum { inputs, output, names: names.iter().map(|n| n.to_string()).collect() }
    }

    /// An entry is found again by an equation with the same terms under other label names, and
    /// not by other terms, another element type, other strides or another output shape.
    #[test]
    fn entries_are_keyed_by_terms_types_layouts_and_output_shape() {
        let a = Array2::<f64>::zeros((2, 3));
        let at = Array2::<f64>::zeros((2, 3).f());
        let b = Array2::<f32>::zeros((2, 3));
        let ij_i = ext(vec![vec![0, 1]], vec![0], &["i", "j"]);
        let renamed = ext(vec![vec![0, 1]], vec![0], &["row", "col"]);
        let ij_j = ext(vec![vec![0, 1]], vec![1], &["i", "j"]);
        let views = [a.view().into_dyn()];
        insert::<f64>(StepKey::Ext(&ij_i), &views, None, ready());
        assert!(lookup::<f64>(StepKey::Ext(&ij_i), &views, None).is_some());
        assert!(lookup::<f64>(StepKey::Ext(&renamed), &views, None).is_some());
        assert!(lookup::<f64>(StepKey::Ext(&ij_j), &views, None).is_none());
        assert!(lookup::<f64>(StepKey::Ext(&ij_i), &[at.view().into_dyn()], None).is_none());
        assert!(lookup::<f32>(StepKey::Ext(&ij_i), &[b.view().into_dyn()], None).is_none());
        assert!(lookup::<f64>(StepKey::Ext(&ij_i), &views, Some(&[2])).is_none());
        let build = || ij_i.clone();
        let stat = StepKey::Static { address: 8, build: &build };
        assert!(lookup::<f64>(stat, &views, None).is_none());
        insert::<f64>(stat, &views, None, ready());
        assert!(lookup::<f64>(stat, &views, None).is_some());
        assert!(lookup::<f64>(StepKey::Static { address: 16, build: &build }, &views, None).is_none());
    }
}
