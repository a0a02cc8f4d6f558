//! Einsum equations for slowgrad: parsing, validation, the extended-einsum algebra of
//! gradients, and contraction planning.
//!
//! This crate has no dependencies. The `einsum!` macro runs it at compile time and the runtime
//! `einsum()` at run time, so both read the same analysis and never disagree about semantics.
//!
//! ```
//! use slowgrad_core::{Equation, ExtEinsum};
//! let eq = Equation::parse("bij,jk->ik").unwrap();
//! let ext = ExtEinsum::resolve(&eq, &[3, 2]).unwrap();
//! // the gradient of operand 0 broadcasts over `b`, which it alone has
//! assert_eq!(ext.gradient(0).to_string(), "ik,jk->bij");
//! ```
#![warn(missing_docs)]

mod error;
mod ext;
mod parse;
mod plan;

pub use error::EinsumError;
pub use ext::{checked_len, ExtEinsum};
pub use parse::{Axis, Equation, Term};
pub use plan::{classify, loop_order, role, Explanation, KernelKind, Plan, Role, Step};
