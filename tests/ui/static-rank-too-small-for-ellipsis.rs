use ndarray::Array1;
use slowgrad::einsum;

fn main() {
    let v = Array1::<f64>::zeros(3);
    let _y = einsum!("...ij->...ji", &v);
}
