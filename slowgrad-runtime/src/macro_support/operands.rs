//! The operand tuples `einsum!` accepts, and the compile-time rank checks of its operands.

use super::plan::{run_arrays, run_vars, PlanSpec};
use crate::{Float, Var};
use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn};
use slowgrad_core::EinsumError;

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
