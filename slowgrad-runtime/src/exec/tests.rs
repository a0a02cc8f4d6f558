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
