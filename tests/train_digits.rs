//! Trains the main example's model (`examples/02_train_mlp.rs`, code shared through
//! `examples/shared/digits.rs`) for a fixed seed and checks the held-out accuracy it reaches.

#[path = "../examples/shared/digits.rs"]
mod digits;

use slowgrad::Rng;

#[test]
fn digits_mlp_reaches_held_out_accuracy() {
    let data = digits::load_digits();
    assert_eq!(data.len(), 1797);
    let (train, test) = digits::split(&data, 0.2, 0);
    let model = digits::mlp(&mut Rng::new(0));
    let before = digits::accuracy(&model, &test);
    let cfg = digits::Config { epochs: 10, ..digits::Config::default() };
    let losses = digits::train(&model, &train, &cfg, |_, _| {});
    let after = digits::accuracy(&model, &test);
    eprintln!("held-out accuracy {before:.4} before training, {after:.4} after {} steps", losses.len());
    assert!(before < 0.3, "an untrained model is near chance, got {before}");
    assert!(losses[losses.len() - 1] < losses[0] / 10.0);
    assert!(after >= 0.96, "held-out accuracy {after}");
}
