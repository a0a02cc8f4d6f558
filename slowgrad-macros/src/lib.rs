//! The `einsum!` and `try_einsum!` procedural macros of slowgrad. Use them through the `slowgrad`
//! facade, whose `__private` module the expansion refers to; the work happens in
//! `slowgrad-codegen`.
#![warn(missing_docs)]

use proc_macro::TokenStream;
use slowgrad_codegen::{expand, Mode};

/// Einstein summation compiled at compile time; see `slowgrad::einsum!`.
#[proc_macro]
pub fn einsum(input: TokenStream) -> TokenStream {
    expand(input.into(), Mode::Panic).into()
}

/// Like `einsum!`, returning `Result<_, EinsumError>` instead of panicking on a shape mismatch.
#[proc_macro]
pub fn try_einsum(input: TokenStream) -> TokenStream {
    expand(input.into(), Mode::Try).into()
}
