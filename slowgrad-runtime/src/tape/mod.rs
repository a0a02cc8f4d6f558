//! The tape: the nodes behind every [`Var`], the ops recorded on them, and the backward pass.
//!
//! Every `Var` is a handle to a node: its value, and for results of recorded ops, the op's
//! inputs and how to compute their gradients. Nodes get increasing ids as they are created, and
//! an op's inputs always exist before its result, so sorting the nodes reachable from the output
//! by decreasing id is a topological order: the backward pass is one loop over it. Nodes hold
//! their inputs (never their results), so there are no reference cycles, and a graph is freed
//! when its last `Var` is dropped. After a backward pass the saved inputs of the graph are
//! released unless [`BackwardOptions::retain_graph`] is set.
//!
//! This file holds the node ([`Node`], [`Origin`]) and the thread's numbering; the rest is
//! split by topic:
//!
//! - `mode.rs`: grad mode ([`no_grad`], [`enable_grad`], [`is_grad_enabled`]);
//! - `record.rs`: recorded ops ([`Op`], [`Backward`]), [`BackwardFn`] and the functions that
//!   record ([`record()`] and the crate's `record_kernel` and `record_cast`);
//! - `kernel.rs`: the [`Kernel`] interface, [`apply_kernel`] and the backward of a kernel;
//! - `backward.rs`: the backward pass, [`BackwardOptions`] and [`gradients`];
//! - `cast.rs`: the passes through the graphs of other element types that casts defer;
//! - `error.rs`: [`BackwardError`].

mod backward;
mod cast;
mod error;
mod kernel;
mod mode;
mod record;

pub(crate) use backward::backward;
pub use backward::{gradients, BackwardOptions};
pub use error::BackwardError;
pub(crate) use kernel::with_views;
pub use kernel::{apply_kernel, Kernel};
pub use mode::{enable_grad, is_grad_enabled, no_grad};
pub use record::{record, BackwardFn};
pub(crate) use record::{record_cast, record_kernel, Backward, Op};

use crate::{Float, Var};
use ndarray::{ArrayD, IxDyn};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

thread_local! {
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

/// Where a node's value came from.
pub(crate) enum Origin<T: Float> {
    /// Created by the user (`Var::new`, `Var::constant`) or under `no_grad`.
    Leaf,
    /// The result of a recorded op.
    Op(Op<T>),
    /// A recorded op whose graph was released by a backward pass.
    Freed(&'static str),
}

/// A value on the tape: what every [`Var`] handle of it shares.
pub(crate) struct Node<T: Float> {
    /// The node's number on its thread (creation order).
    pub(crate) id: u64,
    /// The forward value.
    pub(crate) value: RefCell<ArrayD<T>>,
    /// Whether a gradient flows to the node.
    pub(crate) requires_grad: bool,
    /// The gradient accumulated into a leaf.
    pub(crate) grad: RefCell<Option<Var<T, IxDyn>>>,
    /// Where the value came from.
    pub(crate) origin: RefCell<Origin<T>>,
    /// The number of the last backward pass that reached the node (see [`backward()`]);
    /// `u64::MAX`, which no pass gets, before any did.
    pub(crate) mark: Cell<u64>,
}

impl<T: Float> Node<T> {
    /// A node with the next id of the thread.
    pub(crate) fn new(value: ArrayD<T>, requires_grad: bool, origin: Origin<T>) -> Rc<Node<T>> {
        let id = next_number();
        Rc::new(Node {
            id,
            value: RefCell::new(value),
            requires_grad,
            grad: RefCell::new(None),
            origin: RefCell::new(origin),
            mark: Cell::new(u64::MAX),
        })
    }
}

impl<T: Float> Drop for Node<T> {
    // Long chains (an RNN unrolled over many steps) would otherwise drop recursively.
    fn drop(&mut self) {
        // Only inputs that this drop releases are taken on the stack (the others are merely
        // released), so dropping a node whose inputs live on allocates nothing.
        let mut stack = Vec::new();
        let take = |op: Op<T>, stack: &mut Vec<Rc<Node<T>>>| {
            stack.extend(op.inputs.into_iter().map(|v| v.node).filter(|n| Rc::strong_count(n) == 1));
        };
        if let Origin::Op(op) = std::mem::replace(self.origin.get_mut(), Origin::Leaf) {
            take(op, &mut stack);
        }
        while let Some(rc) = stack.pop() {
            if let Ok(mut node) = Rc::try_unwrap(rc) {
                if let Origin::Op(op) = std::mem::replace(node.origin.get_mut(), Origin::Leaf) {
                    take(op, &mut stack);
                }
            }
        }
    }
}

/// The next number of this thread's sequence, unique on the thread: node ids, and the numbers
/// by which a backward pass marks the nodes it reaches (`Node::mark`) without a set of ids.
pub(crate) fn next_number() -> u64 {
    NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id + 1);
        id
    })
}
