//! A small thread-local cache of prepared steps, keyed by the equation, the element type, the
//! inputs' shapes and strides and the requested output shape: a repeated step (every training
//! iteration, every gradient) skips validation and planning and allocates only its output.

use super::Ready;
use crate::ring::Ring;
use crate::Float;
use ndarray::ArrayViewD;
use slowgrad_core::ExtEinsum;
use std::any::TypeId;
use std::cell::RefCell;
use std::rc::Rc;

/// Entries kept per thread; the oldest is replaced when full.
const CAPACITY: usize = 64;

struct Entry {
    hash: u64,
    ty: TypeId,
    spec: ExtEinsum,
    key: Vec<isize>,
    ready: Rc<Ready>,
}

thread_local! {
    static CACHE: RefCell<Ring<Entry, CAPACITY>> = RefCell::new(Ring::default());
}

/// Shapes and strides of the inputs and the requested output shape, as one sequence.
fn key<'a, T: Float>(
    inputs: &'a [ArrayViewD<'_, T>],
    out_shape: Option<&'a [usize]>,
) -> impl Iterator<Item = isize> + 'a {
    inputs
        .iter()
        .flat_map(|a| {
            std::iter::once(a.ndim() as isize)
                .chain(a.shape().iter().map(|&d| d as isize))
                .chain(a.strides().iter().copied())
        })
        .chain(std::iter::once(out_shape.map_or(-1, |s| s.len() as isize)))
        .chain(out_shape.unwrap_or(&[]).iter().map(|&d| d as isize))
}

fn mix(h: u64, x: u64) -> u64 {
    (h.rotate_left(5) ^ x).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95)
}

fn hash<T: Float>(spec: &ExtEinsum, inputs: &[ArrayViewD<'_, T>], out_shape: Option<&[usize]>) -> u64 {
    let mut h = 0;
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
    for x in key(inputs, out_shape) {
        h = mix(h, x as u64);
    }
    h
}

/// The prepared step for these arguments, if cached.
pub(super) fn lookup<T: Float>(
    spec: &ExtEinsum,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
) -> Option<Rc<Ready>> {
    let h = hash(spec, inputs, out_shape);
    let ty = TypeId::of::<T>();
    CACHE.with(|c| {
        c.borrow()
            .find(|e| e.hash == h && e.ty == ty && e.spec == *spec && e.key.iter().copied().eq(key(inputs, out_shape)))
            .map(|e| e.ready.clone())
    })
}

/// Caches the prepared step for these arguments and returns it.
pub(super) fn insert<T: Float>(
    spec: &ExtEinsum,
    inputs: &[ArrayViewD<'_, T>],
    out_shape: Option<&[usize]>,
    ready: Ready,
) -> Rc<Ready> {
    let ready = Rc::new(ready);
    let entry = Entry {
        hash: hash(spec, inputs, out_shape),
        ty: TypeId::of::<T>(),
        spec: spec.clone(),
        key: key(inputs, out_shape).collect(),
        ready: ready.clone(),
    };
    CACHE.with(|c| c.borrow_mut().insert(entry));
    ready
}
