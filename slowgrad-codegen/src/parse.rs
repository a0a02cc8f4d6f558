//! Stage 1: the syn `Parse` impl of an invocation.
//!
//! # Grammar
//!
//! ```text
//! invocation := ( "[" path "]" )? pattern ( "," operand )* ","?
//! path       := the crate whose `__private` the expansion uses (`$crate` of the `einsum!`
//!               wrapper in `slowgrad_runtime`; `::slowgrad` when absent)
//! pattern    := string literal                 -- parsed by slowgrad_core::Equation
//! operand    := expression                     -- &Var<T, D>, &Array<T, D> or &ArrayView<T, D>
//! ```

use syn::parse::{Parse, ParseStream};
use syn::{Expr, Lit, LitStr, Token};

/// A parsed invocation: the pattern literal and the operand expressions, spans kept for errors.
#[derive(Clone)]
pub struct Invocation {
    /// The path of the crate whose `__private` module the expansion refers to.
    pub krate: proc_macro2::TokenStream,
    /// The pattern.
    pub pattern: LitStr,
    /// The operands, in order.
    pub operands: Vec<Expr>,
}

impl std::fmt::Debug for Invocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invocation")
            .field("pattern", &self.pattern.value())
            .field("operands", &self.operands.len())
            .finish()
    }
}

const USAGE: &str = "einsum! takes a pattern string literal and the operands, e.g. einsum!(\"ij,jk->ik\", &a, &b)";

impl Parse for Invocation {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let krate = if input.peek(syn::token::Bracket) {
            let content;
            syn::bracketed!(content in input);
            content.parse()?
        } else {
            quote::quote!(::slowgrad)
        };
        if input.is_empty() {
            return Err(input.error(USAGE));
        }
        let first: Expr = input.parse()?;
        let pattern = literal(first)?;
        let mut operands = Vec::new();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            operands.push(input.parse::<Expr>()?);
        }
        Ok(Invocation { krate, pattern, operands })
    }
}

/// The pattern must be a string literal (possibly wrapped in an invisible group by `macro_rules!`).
fn literal(expr: Expr) -> syn::Result<LitStr> {
    match expr {
        Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) if s.suffix().is_empty() => Ok(s),
        Expr::Group(g) => literal(*g.expr),
        other => Err(syn::Error::new_spanned(
            other,
            "the einsum! pattern must be a string literal, e.g. einsum!(\"ij,jk->ik\", &a, &b): it is read at compile time (use slowgrad::einsum() for a pattern known only at run time)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn literal_and_operands() {
        let inv: Invocation = syn::parse2(quote!("ij,jk->ik", &x, &w.t(),)).unwrap();
        assert_eq!(inv.pattern.value(), "ij,jk->ik");
        assert_eq!(inv.operands.len(), 2);
        let inv: Invocation = syn::parse2(quote!("i->")).unwrap();
        assert!(inv.operands.is_empty());
        assert_eq!(inv.krate.to_string(), ":: slowgrad");
        let inv: Invocation = syn::parse2(quote!([crate] "i->", &x)).unwrap();
        assert_eq!((inv.krate.to_string().as_str(), inv.operands.len()), ("crate", 1));
    }

    #[test]
    fn not_a_literal() {
        let err = syn::parse2::<Invocation>(quote!(pattern, &x)).unwrap_err();
        assert!(err.to_string().starts_with("the einsum! pattern must be a string literal"));
        assert!(syn::parse2::<Invocation>(quote!()).unwrap_err().to_string().contains("einsum! takes a pattern"));
        assert!(syn::parse2::<Invocation>(quote!(b"ij", &x)).is_err());
    }
}
