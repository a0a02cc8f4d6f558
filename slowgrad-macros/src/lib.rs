//! Procedural macros of slowgrad (the `einsum!` macro lands here).
