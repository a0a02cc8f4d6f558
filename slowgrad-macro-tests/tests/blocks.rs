//! `einsum!` kernels whose loops run in blocks of eight lanes (sizes of 8 and more, below the
//! size from which a step goes to the runtime's executor), against the runtime-parsed `einsum()`:
//! products in every storage order of the gradients, dot products, sums, broadcasts and
//! elementwise products, with remainders after the blocks. The random equations and the oracle
//! cases use smaller sizes, so their loops run mostly in the remainders.

mod common;

use common::*;
use ndarray::{ArrayD, IxDyn};
use slowgrad::{einsum, Operand, Var};

macro_rules! case {
    ($seed:expr, $pat:literal, $($shape:expr),+) => {{
        let mut seed = $seed * 10;
        let vars: Vec<Var<f64, IxDyn>> = vec![$({
            seed += 1;
            Var::new(values::<IxDyn>(&$shape, seed))
        }),+];
        let arrays: Vec<ArrayD<f64>> = vars.iter().map(|v| v.value()).collect();
        let ops: Vec<&dyn Operand<f64>> = vars.iter().map(|v| v as &dyn Operand<f64>).collect();
        let mut k = 0..;
        let m = einsum!($pat, $(&vars[{ let _ = $shape; k.next().unwrap() }]),+).as_dyn();
        let mut k = 0..;
        let a = einsum!($pat, $(&arrays[{ let _ = $shape; k.next().unwrap() }]),+).into_dyn();
        compare($pat, &m, &a, &ops, $seed);
    }};
}

#[test]
fn blocked_kernels_match_the_runtime() {
    // W1's product and its two gradients (G·Wᵀ reads W across its rows, Xᵀ·G down them)
    case!(1, "ij,jk->ik", [8, 8], [8, 8]);
    case!(2, "ij,jk->ik", [9, 11], [11, 13]);
    case!(3, "ik,jk->ij", [10, 9], [17, 9]);
    case!(4, "ik,ij->jk", [9, 12], [9, 10]);
    case!(5, "ji,jk->ik", [8, 16], [8, 9]);
    case!(6, "bij,bjk->bik", [3, 8, 5], [3, 5, 9]);
    // dot products and sums along a contiguous axis, with and without a remainder
    case!(7, "i,i->", [16], [16]);
    case!(8, "i,i->", [21], [21]);
    case!(9, "ij,ij->i", [5, 19], [5, 19]);
    case!(10, "ij->i", [6, 27]);
    case!(11, "ij->j", [27, 6]);
    // broadcasts and elementwise products into a contiguous output
    case!(12, "ij,j->ij", [7, 18], [18]);
    case!(13, "ij,ij->ij", [4, 25], [4, 25]);
    case!(14, "i,j->ij", [9], [24]);
    case!(15, "ii->i", [20, 20]);
    case!(16, "ij,jk,kl->il", [8, 9], [9, 10], [10, 8]);
}

#[test]
fn blocked_kernels_pass_with_the_baseline_kernels() {
    rerun_with_baseline_kernels(2);
}
