//! Stage 3: the expansion.
//!
//! An invocation expands to one block expression holding
//!
//! - one zero-sized type per kernel (`__SlowgradK{i}`) implementing `__private::Spec`: the
//!   kernel's constant data (equation, loop order, class), the types of its gradient kernels, and
//!   its `forward`, whose loop nest is written out by [`crate::nest`];
//! - one zero-sized type `__SlowgradPlan` implementing `__private::PlanSpec`: the result's
//!   dimension type, the steps' kernels (a cons list) and the data of the up-front shape check;
//! - a `match` binding the operands, a compile-time rank check per operand (spanned at the
//!   operand, so a mismatch points there), and the call of `__private::run`.
//!
//! Every path goes through `__private` of the crate the invocation names (`$crate` of the
//! `einsum!` wrapper: `slowgrad_runtime`, which the facade re-exports).

use crate::analyse::{Analysis, Compiled, KernelPlan, StaticPlan};
use crate::nest;
use proc_macro2::{Ident, TokenStream};
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

fn labels(e: &ExtEinsum, p: &TokenStream) -> TokenStream {
    let inputs = e.inputs.iter().map(|t| ids(t));
    let output = ids(&e.output);
    let names = &e.names;
    quote! {
        #p::Labels { inputs: &[#(#inputs),*], output: #output, names: &[#(#names),*] }
    }
}

/// The kernel type of `kernels[i]`; `p` is the path of `__private`.
pub fn emit_kernel(i: usize, k: &KernelPlan, p: &TokenStream) -> TokenStream {
    let ident = kernel_ident(i);
    let name = k.spec.to_string();
    let labels = labels(&k.local, p);
    let order = ids(&k.order);
    let kind = format_ident!("{}", format!("{:?}", slowgrad_core::classify(&k.local)));
    let g0 = kernel_ident(k.grads[0]);
    let g1 = kernel_ident(*k.grads.get(1).unwrap_or(&k.grads[0]));
    let shape = nest::NestShape::of(k);
    let body = nest::forward(k, shape.as_ref(), p);
    let fields = nest::data_fields(k, shape.as_ref());
    quote! {
        struct #ident;
        impl #p::Spec for #ident {
            const DATA: &'static #p::KernelData = &#p::KernelData {
                name: #name,
                labels: #labels,
                order: #order,
                kind: #p::KernelKind::#kind,
                #fields
            };
            type G0 = #g0;
            type G1 = #g1;
            #[allow(unused, clippy::all)]
            fn forward<T: #p::Float>(
                inputs: &[#p::ArrayViewD<'_, T>],
                out_shape: ::core::option::Option<&[usize]>,
            ) -> ::core::result::Result<#p::ArrayD<T>, #p::Error> {
                #body
            }
        }
    }
}

fn dim(rank: Option<usize>, p: &TokenStream) -> TokenStream {
    match rank {
        Some(r) if r <= 6 => {
            let ix = format_ident!("Ix{}", r);
            quote!(#p::#ix)
        }
        _ => quote!(#p::IxD),
    }
}

/// The plan type and the kernels of a static pattern.
pub fn emit_static(a: &Analysis, plan: &StaticPlan, p: &TokenStream) -> TokenStream {
    let kernels = plan.kernels.iter().enumerate().map(|(i, k)| emit_kernel(i, k, p));
    let out = dim(Some(plan.ext.output.len()), p);
    let steps = plan.step_kernels.iter().rev().fold(quote!(()), |rest, &k| {
        let k = kernel_ident(k);
        quote!((#k, #rest))
    });
    let terms = a.equation.inputs.iter().map(|t| &t.text);
    let labels = labels(&plan.ext, p);
    let slots = plan.plan.steps.iter().map(|s| ids(&s.operands));
    quote! {
        #(#kernels)*
        struct __SlowgradPlan;
        impl #p::PlanSpec for __SlowgradPlan {
            type Out = #out;
            type Steps = #steps;
            const COMPILED: &'static #p::Compiled = &#p::Compiled::Static {
                terms: &[#(#terms),*],
                labels: #labels,
                steps: &[#(#slots),*],
            };
        }
    }
}

fn emit_ellipsis(a: &Analysis, p: &TokenStream) -> TokenStream {
    let pattern = a.pattern.value();
    quote! {
        struct __SlowgradPlan;
        impl #p::PlanSpec for __SlowgradPlan {
            type Out = #p::IxD;
            type Steps = ();
            const COMPILED: &'static #p::Compiled =
                &#p::Compiled::Ellipsis { pattern: #pattern };
        }
    }
}

/// A warning at the pattern for each named label that appears once and is not in the output
/// (summed away, as numpy would: often a typo such as `inpt` for `inp`). Stable Rust gives
/// procedural macros no warnings of their own, so the note is the deprecation warning of a
/// local function called at the pattern; `#[allow(deprecated)]` on the call silences it.
fn summed_once_notes(a: &Analysis) -> TokenStream {
    let labels = a.equation.summed_once_named_labels();
    if labels.is_empty() {
        return TokenStream::new();
    }
    let list: Vec<String> = labels.iter().map(|l| format!("`{l}`")).collect();
    let (these, appear) = if labels.len() == 1 { ("label", "appears") } else { ("labels", "appear") };
    let note = format!(
        "einsum! pattern {:?}: {these} {} {appear} once and not in the output, so {} summed away; if this is meant, write `#[allow(deprecated)]` on the statement",
        a.pattern.value(),
        list.join(", "),
        if labels.len() == 1 { "it is" } else { "they are" },
    );
    let span = a.pattern.span();
    quote_spanned! {span=>
        #[deprecated(note = #note)]
        #[allow(non_snake_case)]
        fn named_label_summed_once() {}
        named_label_summed_once();
    }
}

/// The whole expansion: a block expression.
pub fn emit(a: &Analysis, mode: Mode) -> TokenStream {
    let krate = &a.krate;
    let p = &quote!(#krate::__private);
    let items = match &a.compiled {
        Compiled::Static(plan) => emit_static(a, plan, p),
        Compiled::Ellipsis => emit_ellipsis(a, p),
    };
    // The operand bindings, the rank checks and the call are written in the user's syntax
    // context, located at the pattern (at the operand for its rank check), so that type errors
    // point there as they would in hand-written code; they reach `__private` through a `use`
    // item (items are not hygienic, so the alias resolves from that context too).
    let user = a.pattern.span();
    let alias = Ident::new("__slowgrad_private", user);
    let names: Vec<Ident> = (0..a.operands.len()).map(|i| Ident::new(&format!("__slowgrad_o{i}"), user)).collect();
    let exprs = &a.operands;
    let checks = a.operands.iter().zip(&names).zip(a.equation.inputs.iter().zip(&a.labels)).map(|((e, n), (t, &l))| {
        // every token spanned at the operand (the rank literal and the binding included), so a
        // static rank mismatch is reported there rather than at the whole invocation
        let span = e.span();
        let mut l = proc_macro2::Literal::usize_unsuffixed(l);
        l.set_span(span);
        let n = Ident::new(&n.to_string(), span.resolved_at(user));
        let alias = Ident::new("__slowgrad_private", span);
        if t.has_ellipsis() {
            quote_spanned!(span=> #alias::rank_at_least::<#l, _>(&#n);)
        } else {
            quote_spanned!(span=> #alias::rank_is::<#l, _>(&#n);)
        }
    });
    let call = quote_spanned!(user=> #alias::run::<__SlowgradPlan, _>((#(#names,)*)));
    let call = match mode {
        Mode::Panic => quote_spanned!(user=> #alias::unwrap(#call)),
        Mode::Try => call,
    };
    let notes = summed_once_notes(a);
    quote! {
        {
            #[allow(unused_imports)]
            use #p as #alias;
            #notes
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
