//! Long `f32` sums are accurate: pairwise or blocked, within 1e-6 relative of the exact sum.
//!
//! Each reference is an `f64` sum of the very `f32` values summed (exact to far below 1e-6 at
//! these lengths), computed with a plain loop here. A sum that adds its terms one after
//! another into one `f32` misses these by 1e-3 to 1e-2.

use ndarray::{s, Array1, Array2, Array3, ArrayViewD};
use slowgrad::{einsum, einsum_array, Var};

/// `|got - want| / |want|`.
fn rel(got: f32, want: f64) -> f64 {
    (got as f64 - want).abs() / want.abs()
}

#[track_caller]
fn assert_close(got: f32, want: f64, what: &str) {
    let r = rel(got, want);
    assert!(r <= 1e-6, "{what}: {got} against {want}, relative error {r:.2e}");
}

/// `n` values around 0.1 that are not all alike: 0.1 plus a small pattern.
fn values(n: usize) -> Vec<f32> {
    (0..n).map(|i| 0.1 + ((i * 7919) % 1000) as f32 * 1e-4).collect()
}

#[test]
fn ten_million_tenths_sum_within_1e6() {
    let n = 10_000_000;
    let want = n as f64 * 0.1f32 as f64;
    let x = Var::new(Array1::from_elem(n, 0.1f32));
    assert_close(x.sum().item(), want, "Var::sum");
    assert_close(einsum("i->", &[&x]).unwrap().item(), want, "einsum i->");
    // the same through a matrix view of the values, and with values that differ
    let m = Var::new(Array2::from_elem((1000, n / 1000), 0.1f32));
    assert_close(m.sum().item(), want, "Var::sum of a matrix");
    let v = values(n);
    let want: f64 = v.iter().map(|&x| x as f64).sum();
    let x = Var::new(Array1::from(v));
    assert_close(x.sum().item(), want, "Var::sum of varied values");
    assert_close(einsum("i->", &[&x]).unwrap().item(), want, "einsum i-> of varied values");
}

#[test]
fn column_sums_over_a_million_rows_within_1e6() {
    let (rows, cols) = (1_000_000, 4);
    for v in [vec![0.1f32; rows * cols], values(rows * cols)] {
        let a = Array2::from_shape_vec((rows, cols), v).unwrap();
        let mut want = [0f64; 4];
        for row in a.rows() {
            for (w, &x) in want.iter_mut().zip(row) {
                *w += x as f64;
            }
        }
        let x = Var::new(a);
        let got = einsum("ij->j", &[&x]).unwrap().value();
        for j in 0..cols {
            assert_close(got[[j]], want[j], &format!("einsum ij->j, column {j}"));
        }
        let got = x.sum_axes(&[0], false).value();
        for j in 0..cols {
            assert_close(got[[j]], want[j], &format!("sum_axes, column {j}"));
        }
    }
}

#[test]
fn bias_gradient_at_batch_a_million_within_1e6() {
    let (rows, cols) = (1_000_000, 4);
    let g = Array2::from_shape_vec((rows, cols), values(rows * cols)).unwrap();
    let mut want = [0f64; 4];
    for row in g.rows() {
        for (w, &x) in want.iter_mut().zip(row) {
            *w += x as f64;
        }
    }
    let x = Var::new(Array2::<f32>::zeros((rows, cols)));
    // the bias as a vector (summed over the leading axis) and as a row (summed to size 1)
    let b = Var::new(Array1::<f32>::zeros(cols));
    (&x + &b).backward_with(g.clone());
    let gb = b.grad().unwrap();
    let row = Var::new(Array2::<f32>::zeros((1, cols)));
    (&x + &row).backward_with(g);
    let grow = row.grad().unwrap();
    for j in 0..cols {
        assert_close(gb[j], want[j], &format!("bias gradient {j}"));
        assert_close(grow[[0, j]], want[j], &format!("row bias gradient {j}"));
    }
}

#[test]
fn strided_and_transposed_views_sum_within_1e6() {
    // every other row of a 4000×3001 matrix, from column 1, transposed: strides (1, 6002), so
    // the axes do not fuse and the sums run both along the unit-stride axis and across it
    let base = Array2::from_shape_vec((4000, 3001), values(4000 * 3001)).unwrap();
    let view = base.slice(s![..;2, 1..]).reversed_axes();
    assert_eq!(view.shape(), [3000, 2000]);
    let total: f64 = view.iter().map(|&x| x as f64).sum();
    let dyn_view: ArrayViewD<'_, f32> = view.into_dyn();
    let got = einsum_array("ij->", std::slice::from_ref(&dyn_view)).unwrap();
    assert_close(got[[]], total, "ij-> over the strided view");
    // per row and per column of the view: sums along the strided axis and across it
    let rows = einsum_array("ij->i", std::slice::from_ref(&dyn_view)).unwrap();
    let cols = einsum_array("ij->j", &[dyn_view]).unwrap();
    for i in [0, 1, 1499, 2999] {
        let want: f64 = view.row(i).iter().map(|&x| x as f64).sum();
        assert_close(rows[[i]], want, &format!("row {i}"));
    }
    for j in [0, 1, 999, 1999] {
        let want: f64 = view.column(j).iter().map(|&x| x as f64).sum();
        assert_close(cols[[j]], want, &format!("column {j}"));
    }
    // every third column as well: the sum runs along a stride of 3
    let sparse = base.slice(s![..;2, ..;3]);
    let want: f64 = sparse.iter().map(|&x| x as f64).sum();
    let got = einsum_array("ij->", &[sparse.into_dyn()]).unwrap();
    assert_close(got[[]], want, "ij-> with strides (6002, 3)");
    // a Var holding a permuted 3-d array: its axes do not fuse into one
    let a = Array3::from_shape_vec((200, 100, 300), values(200 * 100 * 300)).unwrap().permuted_axes([1, 0, 2]);
    let want: f64 = a.iter().map(|&x| x as f64).sum();
    let x = Var::new(a);
    assert_close(x.sum().item(), want, "Var::sum of a permuted array");
    let got = einsum("abc->b", &[&x]).unwrap().value();
    let a = x.value();
    for b in [0, 77, 199] {
        let want: f64 = a.slice(s![.., b, ..]).iter().map(|&x| x as f64).sum();
        assert_close(got[[b]], want, &format!("abc->b, b = {b}"));
    }
}
