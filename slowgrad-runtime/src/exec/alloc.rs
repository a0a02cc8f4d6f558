//! Fallible allocation of results: a request the system cannot serve is an
//! [`EinsumError::AllocationFailed`] naming the shape and the bytes, not an abort.

use crate::Float;
use ndarray::{ArrayD, IxDyn};
use slowgrad_core::{checked_len, EinsumError};
use std::alloc::Layout;
use std::any::TypeId;
use std::mem::MaybeUninit;

/// Elements up to which [`try_zeros`] fills a plain allocation instead of asking for zeroed
/// memory, as it does for larger arrays (the C allocator serves small blocks from its
/// per-thread cache, which a request for zeroed memory bypasses).
const SMALL_ZEROS: usize = 1 << 12;

fn failed<T>(shape: &[usize], n: usize) -> EinsumError {
    EinsumError::AllocationFailed { shape: shape.to_vec(), bytes: n.saturating_mul(size_of::<T>()) }
}

/// An empty vector with room for the element count of `shape`, and that count: for a caller
/// that writes every element through the vector's pointer, sets its length and makes the array
/// ([`from_vec`]).
///
/// **Errors** with [`EinsumError::TooLarge`] if the element count overflows, and with
/// [`EinsumError::AllocationFailed`] if the memory cannot be allocated.
pub(crate) fn try_room<A>(shape: &[usize]) -> Result<(Vec<A>, usize), EinsumError> {
    let n = checked_len(shape)?;
    Ok((with_room(shape, n)?, n))
}

/// An empty vector with room for the `n` elements of `shape`.
fn with_room<A>(shape: &[usize], n: usize) -> Result<Vec<A>, EinsumError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| failed::<A>(shape, n))?;
    Ok(v)
}

/// An uninitialised standard-layout array of `shape`.
///
/// **Errors** as [`try_room`].
pub(crate) fn try_uninit<T: Float>(shape: &[usize]) -> Result<ArrayD<MaybeUninit<T>>, EinsumError> {
    let (mut v, n) = try_room::<MaybeUninit<T>>(shape)?;
    // SAFETY: the capacity is at least `n`, and `MaybeUninit` needs no initialisation.
    unsafe { v.set_len(n) };
    // SAFETY: the vector holds exactly the shape's element count, in standard layout.
    Ok(unsafe { from_vec(shape, v) })
}

/// A standard-layout array of zeros of `shape` ([`try_zeros_vec`]).
///
/// **Errors** as [`try_room`].
pub(crate) fn try_zeros<T: Float>(shape: &[usize]) -> Result<ArrayD<T>, EinsumError> {
    let v = try_zeros_vec::<T>(shape)?;
    // SAFETY: the vector holds exactly the shape's element count, in standard layout.
    Ok(unsafe { from_vec(shape, v) })
}

/// The zeros of an array of `shape`, as a vector: for small arrays a plain allocation filled
/// with zeros, for large ones (of `f32` or `f64`) zeroed memory, which the system may hand over
/// already zero.
///
/// **Errors** as [`try_room`].
pub(crate) fn try_zeros_vec<T: Float>(shape: &[usize]) -> Result<Vec<T>, EinsumError> {
    let zero_bits = TypeId::of::<T>() == TypeId::of::<f32>() || TypeId::of::<T>() == TypeId::of::<f64>();
    let n = checked_len(shape)?;
    if n > SMALL_ZEROS && zero_bits {
        let layout = Layout::array::<T>(n).map_err(|_| failed::<T>(shape, n))?;
        // SAFETY: the layout has a nonzero size (n > 0 elements of a nonzero-sized type).
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<T>();
        if ptr.is_null() {
            return Err(failed::<T>(shape, n));
        }
        // SAFETY: `ptr` was allocated by the global allocator with the layout of `n` elements
        // of `T`, and all of them are initialised: `T` is `f32` or `f64`, whose all-zero bit
        // pattern is 0.0.
        return Ok(unsafe { Vec::from_raw_parts(ptr, n, n) });
    }
    let mut v = with_room::<T>(shape, n)?;
    v.resize(n, T::zero());
    Ok(v)
}

/// The array of `shape` in standard layout over `v`.
///
/// # Safety
/// `v.len()` must be the product of `shape`.
pub(crate) unsafe fn from_vec<A>(shape: &[usize], v: Vec<A>) -> ArrayD<A> {
    // SAFETY (every arm): as the caller guarantees. Ranks up to 4 are built with a fixed
    // dimension type, whose strides cost a few instructions, and then converted (the dynamic
    // type keeps up to 4 axes inline).
    unsafe {
        match *shape {
            [] => ndarray::Array0::from_shape_vec_unchecked((), v).into_dyn(),
            [a] => ndarray::Array1::from_shape_vec_unchecked(a, v).into_dyn(),
            [a, b] => ndarray::Array2::from_shape_vec_unchecked((a, b), v).into_dyn(),
            [a, b, c] => ndarray::Array3::from_shape_vec_unchecked((a, b, c), v).into_dyn(),
            [a, b, c, d] => ndarray::Array4::from_shape_vec_unchecked((a, b, c, d), v).into_dyn(),
            _ => ArrayD::from_shape_vec_unchecked(IxDyn(shape), v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every rank, small and large: the shape, standard layout and zeros of ndarray's `zeros`.
    #[test]
    fn zeros_match_ndarray() {
        for shape in [&[][..], &[3], &[2, 3], &[2, 1, 3], &[2, 3, 1, 4], &[1, 2, 3, 2, 2], &[300, 300], &[0, 4]] {
            let z = try_zeros::<f64>(shape).unwrap();
            let want = ArrayD::<f64>::zeros(IxDyn(shape));
            assert_eq!(z, want, "{shape:?}");
            assert_eq!(z.strides(), want.strides(), "{shape:?}");
            let (v, n) = try_room::<f32>(shape).unwrap();
            assert!(v.is_empty() && v.capacity() >= n && n == want.len(), "{shape:?}");
            let u = try_uninit::<f32>(shape).unwrap();
            assert_eq!((u.shape(), u.strides()), (want.shape(), want.strides()), "{shape:?}");
        }
    }

    #[test]
    fn impossible_requests_are_errors() {
        // 2^46 elements: 2^49 bytes of f64 (512 TiB) fit in usize but in no address space
        let shape = [1usize << 23, 1 << 23];
        let want = EinsumError::AllocationFailed { shape: shape.to_vec(), bytes: 1 << 49 };
        assert_eq!(try_zeros::<f64>(&shape).unwrap_err(), want);
        assert_eq!(try_uninit::<f64>(&shape).unwrap_err(), want);
        assert_eq!(try_room::<f64>(&shape).unwrap_err(), want);
        let want = EinsumError::AllocationFailed { shape: shape.to_vec(), bytes: 1 << 48 };
        assert_eq!(try_zeros::<f32>(&shape).unwrap_err(), want);
        // an element count beyond isize::MAX is caught before any request
        assert!(matches!(try_zeros::<f64>(&[usize::MAX, 2]), Err(EinsumError::TooLarge { .. })));
    }
}
