use super::*;

fn naive_rows(out: &mut [f64], ins: [&[f64]; 2], g: Rows<2>, n_rows: usize) {
    for r in 0..n_rows as isize {
        for j in 0..g.n_sum as isize {
            for c in 0..g.n as isize {
                let mut p = 1.0;
                for k in 0..2 {
                    p *= ins[k][(r * g.ri[k] + j * g.m[k] + c * g.s[k]) as usize];
                }
                out[(r * g.ro + c * g.so) as usize] += p;
            }
        }
    }
}

/// `n_rows` rows, two at a time as generated code runs them.
///
/// # Safety
/// The offsets of `g` stay inside the buffers.
unsafe fn run_rows(fma: bool, out: &mut [f64], ins: [&[f64]; 2], g: Rows<2>, n_rows: usize) {
    let mut r = 0;
    let p = [ins[0].as_ptr(), ins[1].as_ptr()];
    while r < n_rows {
        let o = out.as_mut_ptr().wrapping_offset(r as isize * g.ro);
        let i = std::array::from_fn(|k| p[k].wrapping_offset(r as isize * g.ri[k]));
        // SAFETY: as the caller guarantees.
        unsafe {
            match (fma, r + 1 < n_rows) {
                (true, true) => rows::<f64, 2, true, 0b01, 2>(o, i, g),
                (true, false) => rows::<f64, 2, true, 0b01, 1>(o, i, g),
                (false, true) => rows::<f64, 2, false, 0b01, 2>(o, i, g),
                (false, false) => rows::<f64, 2, false, 0b01, 1>(o, i, g),
            }
        }
        r += 2;
    }
}

/// The blocked rows of a matrix product (`ij,jk->ik`: the row label `k`, the sum `j`, rows
/// `i`), for sizes around the block width, equal the plain loops exactly (small integers).
#[test]
fn blocked_rows_equal_plain_loops() {
    for (ni, nj, nk) in [(1, 1, 1), (3, 5, 7), (2, 3, 8), (5, 9, 17), (4, 2, 24)] {
        let a: Vec<f64> = (0..ni * nj).map(|x| (x % 7) as f64 - 3.0).collect();
        let b: Vec<f64> = (0..nj * nk).map(|x| (x % 5) as f64 - 2.0).collect();
        let g = Rows { ro: nk as isize, so: 1, ri: [nj as isize, 0], s: [0, 1], m: [1, nk as isize], n_sum: nj, n: nk };
        let mut want = vec![0.0; ni * nk];
        naive_rows(&mut want, [&a, &b], g, ni);
        for fma in [false, true] {
            let mut got = vec![0.0; ni * nk];
            // SAFETY: offsets inside the buffers by construction.
            unsafe { run_rows(fma, &mut got, [&a, &b], g, ni) };
            assert_eq!(got, want, "{ni}x{nj}x{nk}");
        }
        // a non-contiguous output runs the plain loops
        let g2 = Rows { so: 2, ro: 2 * nk as isize, ..g };
        let mut want = vec![0.0; 2 * ni * nk];
        naive_rows(&mut want, [&a, &b], g2, ni);
        let mut got = vec![0.0; 2 * ni * nk];
        // SAFETY: as above.
        unsafe { run_rows(false, &mut got, [&a, &b], g2, ni) };
        assert_eq!(got, want);
    }
}

/// A transposed operand is copied with unit stride along the row level, the others after.
#[test]
fn pack_lays_out_the_row_level_first() {
    // b[j, k] read at loops (i, j, k) with the row level j: strides (0, 3, 1) for a 2×3 b
    let b = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
    let sizes = [4usize, 2, 3];
    let mut strides = [0isize, 3, 1];
    let mut buf = pack_buf::<f64>();
    // SAFETY: every offset below the sizes is inside b.
    let p = unsafe { pack(b.as_ptr(), &sizes, &mut strides, 1, &mut buf) };
    assert_eq!(strides, [0, 1, 2]);
    // SAFETY: the copy holds six elements.
    let copy: Vec<f64> = (0..6).map(|i| unsafe { *p.add(i) }).collect();
    assert_eq!(copy, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    // unit stride along the level: nothing to copy
    let mut unit = [0isize, 3, 1];
    // SAFETY: as above.
    let q = unsafe { pack(b.as_ptr(), &sizes, &mut unit, 2, &mut buf) };
    assert_eq!((q, unit), (b.as_ptr(), [0, 3, 1]));
}

/// The two innermost levels join only where every participant walks them as one.
#[test]
fn merge_inner_joins_only_contiguous_levels() {
    use crate::__private::merge_inner;
    // a contiguous elementwise kernel over 4×8: one run of 32
    let (mut n, mut so, mut si) = ([4, 8], [8, 1], [[8, 1], [8, 1]]);
    merge_inner(&mut n, &mut so, &mut si);
    assert_eq!((n, so, si), ([1, 32], [0, 1], [[0, 1], [0, 1]]));
    // a sum over both trailing levels (the output does not move): one dot product of 32
    let (mut n, mut so, mut si) = ([3, 4, 8], [1, 0, 0], [[32, 8, 1]]);
    merge_inner(&mut n, &mut so, &mut si);
    assert_eq!((n, so, si), ([3, 1, 32], [1, 0, 0], [[32, 0, 1]]));
    // a row broadcast (ij,j->ij), a transposed output, a padded row: unchanged
    for (so, si) in [([8, 1], [[8, 1], [0, 1]]), ([1, 4], [[8, 1], [8, 1]]), ([8, 1], [[10, 1], [8, 1]])] {
        let (mut n2, mut so2, mut si2) = ([4, 8], so, si);
        merge_inner(&mut n2, &mut so2, &mut si2);
        assert_eq!((n2, so2, si2), ([4, 8], so, si));
    }
    // one level: nothing to join
    let (mut n, mut so, mut si) = ([5], [1], [[1]]);
    merge_inner(&mut n, &mut so, &mut si);
    assert_eq!((n, so, si), ([5], [1], [[1]]));
}
