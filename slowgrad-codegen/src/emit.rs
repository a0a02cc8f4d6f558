//! Stage 3: the expansion.
//!
//! An invocation expands to one block expression holding
//!
//! - one zero-sized type per kernel (`__SlowgradK{i}`) implementing `__private::Spec`: the
//!   kernel's equation and loop order as constant data, and the types of its gradient kernels;
//! - one zero-sized type `__SlowgradPlan` implementing `__private::PlanSpec`: the result's
//!   dimension type, the steps' kernels (a cons list) and the data of the up-front shape check;
//! - a `match` binding the operands, a compile-time rank check per operand (spanned at the
//!   operand, so a mismatch points there), and the call of `__private::run`.
//!
//! The loops themselves are generic helpers of `__private`, instantiated per element type and
//! loop depth, so each pattern adds only constant data and a few small trait impls.

use crate::analyse::{Analysis, Compiled, KernelPlan, StaticPlan};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use slowgrad_core::ExtEinsum;
use syn::spanned::Spanned;

/// Whether the expansion returns the `Result` (`try_einsum!`) or unwraps it (`einsum!`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `einsum!`: panics with the error's message.
    Panic,
    /// `try_einsum!`: `Result<_, EinsumError>`.
    Try,
}

fn kernel_ident(i: usize) -> syn::Ident {
    format_ident!("__SlowgradK{}", i)
}

fn ids(t: &[usize]) -> TokenStream {
    let t = t.iter().map(|&i| proc_macro2::Literal::usize_unsuffixed(i));
    quote!(&[#(#t),*])
}

fn labels(e: &ExtEinsum) -> TokenStream {
    let inputs = e.inputs.iter().map(|t| ids(t));
    let output = ids(&e.output);
    let names = &e.names;
    quote! {
        ::slowgrad::__private::Labels { inputs: &[#(#inputs),*], output: #output, names: &[#(#names),*] }
    }
}

/// The kernel type of `kernels[i]`.
pub fn emit_kernel(i: usize, k: &KernelPlan) -> TokenStream {
    let ident = kernel_ident(i);
    let name = k.spec.to_string();
    let labels = labels(&k.local);
    let order = ids(&k.order);
    let g0 = kernel_ident(k.grads[0]);
    let g1 = kernel_ident(*k.grads.get(1).unwrap_or(&k.grads[0]));
    quote! {
        struct #ident;
        impl ::slowgrad::__private::Spec for #ident {
            const DATA: &'static ::slowgrad::__private::KernelData = &::slowgrad::__private::KernelData {
                name: #name,
                labels: #labels,
                order: #order,
            };
            type G0 = #g0;
            type G1 = #g1;
        }
    }
}

fn dim(rank: Option<usize>) -> TokenStream {
    match rank {
        Some(r) if r <= 6 => {
            let ix = format_ident!("Ix{}", r);
            quote!(::slowgrad::__private::#ix)
        }
        _ => quote!(::slowgrad::__private::IxD),
    }
}

/// The plan type and the kernels of a static pattern.
pub fn emit_static(a: &Analysis, p: &StaticPlan) -> TokenStream {
    let kernels = p.kernels.iter().enumerate().map(|(i, k)| emit_kernel(i, k));
    let out = dim(Some(p.ext.output.len()));
    let steps = p.step_kernels.iter().rev().fold(quote!(()), |rest, &k| {
        let k = kernel_ident(k);
        quote!((#k, #rest))
    });
    let terms = a.equation.inputs.iter().map(|t| &t.text);
    let labels = labels(&p.ext);
    let slots = p.plan.steps.iter().map(|s| ids(&s.operands));
    quote! {
        #(#kernels)*
        struct __SlowgradPlan;
        impl ::slowgrad::__private::PlanSpec for __SlowgradPlan {
            type Out = #out;
            type Steps = #steps;
            const COMPILED: &'static ::slowgrad::__private::Compiled = &::slowgrad::__private::Compiled::Static {
                terms: &[#(#terms),*],
                labels: #labels,
                steps: &[#(#slots),*],
            };
        }
    }
}

fn emit_ellipsis(a: &Analysis) -> TokenStream {
    let pattern = a.pattern.value();
    quote! {
        struct __SlowgradPlan;
        impl ::slowgrad::__private::PlanSpec for __SlowgradPlan {
            type Out = ::slowgrad::__private::IxD;
            type Steps = ();
            const COMPILED: &'static ::slowgrad::__private::Compiled =
                &::slowgrad::__private::Compiled::Ellipsis { pattern: #pattern };
        }
    }
}

/// The whole expansion: a block expression.
pub fn emit(a: &Analysis, mode: Mode) -> TokenStream {
    let items = match &a.compiled {
        Compiled::Static(p) => emit_static(a, p),
        Compiled::Ellipsis => emit_ellipsis(a),
    };
    let names: Vec<syn::Ident> = (0..a.operands.len()).map(|i| format_ident!("__slowgrad_o{}", i)).collect();
    let exprs = &a.operands;
    let checks = a.operands.iter().zip(&names).zip(a.equation.inputs.iter().zip(&a.labels)).map(|((e, n), (t, &l))| {
        // every token spanned at the operand (the rank literal and the binding included), so a
        // static rank mismatch is reported there rather than at the whole invocation
        let span = e.span();
        let mut l = proc_macro2::Literal::usize_unsuffixed(l);
        l.set_span(span);
        let n = syn::Ident::new(&n.to_string(), span);
        if t.has_ellipsis() {
            quote_spanned!(span=> ::slowgrad::__private::rank_at_least::<#l, _>(&#n);)
        } else {
            quote_spanned!(span=> ::slowgrad::__private::rank_is::<#l, _>(&#n);)
        }
    });
    let call = quote!(::slowgrad::__private::run::<__SlowgradPlan, _>((#(#names,)*)));
    let call = match mode {
        Mode::Panic => quote!(::slowgrad::__private::unwrap(#call)),
        Mode::Try => call,
    };
    quote! {
        {
            #items
            match (#(#exprs,)*) {
                (#(#names,)*) => {
                    #(#checks)*
                    #call
                }
            }
        }
    }
}
