//! Test-only crate: see `tests/` and `build.rs`.
