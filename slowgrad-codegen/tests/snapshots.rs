//! Snapshots of the generated code, formatted with prettyplease: the loop nests written for a
//! matrix product (blocked rows), a diagonal and a broadcast, and their gradients. They show what
//! a pattern expands to and make changes to the expansion visible in review; they prove nothing
//! about the numbers, which `slowgrad-macro-tests` checks (the PyTorch oracle, random equations
//! and strided operands against the runtime and the reference executor) for every pattern here
//! and many more.

use proc_macro2::TokenStream;
use quote::quote;
use slowgrad_codegen::{expand, Mode};

fn pretty(tokens: TokenStream) -> String {
    let file: syn::File = syn::parse2(quote!(fn expansion() { let _ = #tokens; })).expect("the expansion parses");
    prettyplease::unparse(&file)
}

#[test]
fn matmul() {
    insta::assert_snapshot!(pretty(expand(quote!("ij,jk->ik", &x, &w), Mode::Panic)));
}

#[test]
fn batched_matmul() {
    insta::assert_snapshot!(pretty(expand(quote!("bij,bjk->bik", &x, &y), Mode::Panic)));
}

#[test]
fn diagonal() {
    insta::assert_snapshot!(pretty(expand(quote!("ii->i", &a), Mode::Panic)));
}

#[test]
fn broadcast() {
    insta::assert_snapshot!(pretty(expand(quote!("ij,j->ij", &x, &b), Mode::Panic)));
}

#[test]
fn chain_of_three_try() {
    insta::assert_snapshot!(pretty(expand(quote!("ij,jk,kl->il", &a, &b, &c), Mode::Try)));
}

#[test]
fn ellipsis_runs_at_run_time() {
    insta::assert_snapshot!(pretty(expand(quote!("...ij,jk->...ik", &a, &b), Mode::Panic)));
}

#[test]
fn error_is_one_compile_error() {
    insta::assert_snapshot!(pretty(expand(quote!("ij,jk->il", &x, &w), Mode::Panic)));
}

#[test]
fn printed_plan_of_bilinear() {
    insta::assert_snapshot!(slowgrad_codegen::describe("bi,oij,bj->bo", 3).expect("valid"));
}
