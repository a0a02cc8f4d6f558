//! The hand-written ndarray baseline of workload W9 (`benches/shared/w9.rs`, timed by
//! `benches/train_step.rs`) computes the same training steps as the library: losses, gradients
//! and updated parameters agree to a relative error of 1e-4 in f32.

#[path = "../benches/shared/w9.rs"]
mod w9;

#[test]
fn handwritten_w9_steps_match_the_library() {
    w9::assert_matches_library(3);
}
