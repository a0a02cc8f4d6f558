//! Parse, analysis and code generation of slowgrad's `einsum!` macro, on `proc_macro2`, so that
//! every stage is unit-testable; `slowgrad-macros` is a thin shell around [`expand`].
//!
//! Layout: [`parse`](mod@parse) holds the syn grammar of an invocation,
//! [`analyse`](mod@analyse) checks the pattern with `slowgrad_core` (the runtime's own parser)
//! and builds the plan and the closed family of kernels, [`emit`](mod@emit) writes the tokens.
//! A new compile-time diagnostic goes in `analyse` (or `parse` for syntax), with a
//! `tests/ui/<kebab-case>.rs` + `.stderr` pair in the facade.
#![warn(missing_docs)]

pub mod analyse;
pub mod emit;
pub mod nest;
pub mod parse;

pub use analyse::{analyse, Analysis, Compiled, KernelPlan, StaticPlan};
pub use emit::{emit, Mode};
pub use parse::Invocation;

use proc_macro2::TokenStream;

/// Expands an `einsum!` (or, with [`Mode::Try`], `try_einsum!`) invocation; errors become a
/// `compile_error!` pointing at the fault, valid in expression position.
pub fn expand(input: TokenStream, mode: Mode) -> TokenStream {
    syn::parse2::<Invocation>(input)
        .and_then(analyse)
        .map(|a| emit(&a, mode))
        .unwrap_or_else(syn::Error::into_compile_error)
}

/// What a pattern without `...` compiles to: the forward plan (as `slowgrad_runtime::explain`
/// prints it) and every generated kernel with its loop order and gradient kernels.
///
/// **Errors** with the message `einsum!` would report.
///
/// ```
/// let text = slowgrad_codegen::describe("ij,jk->ik", 2).unwrap();
/// assert!(text.contains("K0 = ij,jk->ik | loops i,j,k | grads K1,K2"));
/// ```
pub fn describe(pattern: &str, operands: usize) -> Result<String, String> {
    let lit = syn::LitStr::new(pattern, proc_macro2::Span::call_site());
    let operands = (0..operands).map(|i| syn::parse_str(&format!("&x{i}")).expect("an expression")).collect();
    match analyse(Invocation { krate: quote::quote!(::slowgrad), pattern: lit, operands })
        .map_err(|e| e.to_string())?
        .compiled
    {
        Compiled::Static(p) => Ok(p.to_string()),
        Compiled::Ellipsis => Ok(format!("{pattern}\n  (has `...`: runs through the runtime interpreter)\n")),
    }
}
