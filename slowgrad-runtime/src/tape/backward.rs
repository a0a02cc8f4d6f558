//! The backward pass ([`backward`]), its options ([`BackwardOptions`]), and [`gradients`], the
//! pass that returns the gradients of chosen inputs instead of accumulating into the leaves.

use super::cast::Deferred;
use super::mode::GradMode;
use super::{kernel::kernel_backward, next_number, Backward, BackwardError, Node, Origin};
use crate::{Float, Var};
use ndarray::{ArrayD, Dimension, IxDyn};
use smallvec::{smallvec, SmallVec};
use std::any::Any;
use std::rc::Rc;

/// Options of a backward pass.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum, BackwardOptions, Var};
/// let x = Var::new(array![1.0, 2.0]);
/// let y = einsum("i,i->", &[&x, &x]).unwrap();
/// let keep = BackwardOptions { retain_graph: true, ..Default::default() };
/// y.try_backward(keep).unwrap();
/// y.try_backward(BackwardOptions::default()).unwrap(); // the graph was kept for a second pass
/// assert_eq!(x.grad().unwrap(), array![4.0, 8.0]); // 2x, accumulated twice
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackwardOptions {
    /// Keep the graph's saved values so that backward can run through it again.
    pub retain_graph: bool,
    /// Record the backward pass itself, so that gradients can be differentiated again
    /// (implies `retain_graph`). A gradient accumulated this way into a leaf's `grad` refers to
    /// the graph it came from, and so to the leaf itself: call [`Var::zero_grad`] when done with
    /// it to release that graph, or use [`gradients`], which stores nothing in the leaves.
    pub create_graph: bool,
}

/// The gradients of `output` with respect to `inputs`, seeded with `seed` (dL/d`output`),
/// returned instead of accumulated into the leaves (PyTorch's `autograd.grad`). An input that
/// `output` does not depend on gets `None`.
///
/// With `create_graph` the gradients carry their own graph and can be differentiated again.
///
/// **Errors** if the seed's shape differs from the output's or the graph was released.
///
/// ```
/// use ndarray::array;
/// use slowgrad::{einsum, gradients, BackwardOptions, Var};
/// let x = Var::new(array![1.0, 2.0]).as_dyn();
/// let y = einsum("i,i->", &[&x, &x]).unwrap();
/// let g = gradients(&y, &[&x], None, BackwardOptions::default()).unwrap();
/// assert_eq!(g[0].as_ref().unwrap().value(), array![2.0, 4.0].into_dyn());
/// assert!(x.grad().is_none()); // nothing accumulated
/// ```
pub fn gradients<T: Float, D: Dimension>(
    output: &Var<T, D>,
    inputs: &[&Var<T, IxDyn>],
    seed: Option<&Var<T, IxDyn>>,
    opts: BackwardOptions,
) -> Result<Vec<Option<Var<T, IxDyn>>>, BackwardError> {
    let expected = output.shape();
    let seed = match seed {
        Some(s) if s.shape() != expected => return Err(BackwardError::SeedShape { expected, got: s.shape() }),
        Some(s) => s.clone(),
        None if expected.iter().product::<usize>() != 1 => return Err(BackwardError::NotScalar { shape: expected }),
        None => Var::constant(ArrayD::from_elem(IxDyn(&expected), T::one())),
    };
    let ids: Vec<u64> = inputs.iter().map(|v| v.id()).collect();
    let found = backward(smallvec![(output.node.clone(), seed)], opts, Some(&ids))?;
    // a target reached through casts to another type and back may be found by several passes
    let sum = |id: &u64| {
        let mut parts = found.iter().filter(|(f, _)| f == id);
        let first = parts.next().map(|(_, g)| downcast::<T>(g.as_ref()).clone());
        parts.fold(first, |acc, (_, g)| acc.map(|a| &a + downcast::<T>(g.as_ref())))
    };
    Ok(ids.iter().map(sum).collect())
}

/// A found gradient (always of the targets' element type).
fn downcast<T: Float>(g: &dyn Any) -> &Var<T, IxDyn> {
    g.downcast_ref::<Var<T, IxDyn>>().expect("a target's gradient has the target's element type")
}

/// The gradients found for the targets of a pass (see [`gradients`]), each a `Var<T, IxDyn>`
/// of the targets' element type; a target reached by several passes appears once per pass.
pub(super) type Found = Vec<(u64, Box<dyn Any>)>;

/// A node of a backward pass and the gradient flowing into it so far.
type Pending<T> = (Rc<Node<T>>, Option<Var<T, IxDyn>>);

/// The nodes a backward pass starts from, with their seeds (one, but for the passes that
/// casts to another element type start).
pub(super) type Roots<T> = SmallVec<[(Rc<Node<T>>, Var<T, IxDyn>); 1]>;

/// One backward pass from `roots`. Without `targets`, gradients accumulate into the leaves;
/// with them, the gradients of the target nodes are returned (id and gradient) and no leaf is
/// touched.
///
/// A pass goes through the nodes of one element type. Where it meets a cast from another
/// type, the gradient is cast back and kept; when the pass is done, one pass of that type runs
/// from all such casts' inputs (and so on, for casts back). Gradients add up linearly, so
/// running a part of the graph in a later pass gives the same sums.
pub(crate) fn backward<T: Float>(
    roots: Roots<T>,
    opts: BackwardOptions,
    targets: Option<&[u64]>,
) -> Result<Found, BackwardError> {
    let mut found: Found = Vec::new();
    let retain = opts.retain_graph || opts.create_graph;
    // the nodes reachable from the roots that require a gradient, each once: the list is its
    // own work queue, and the pass's mark says whether a node is in it already
    let pass = next_number();
    // each node with the gradient flowing into it so far
    // (inline for small graphs: no allocation)
    let mut nodes: SmallVec<[Pending<T>; 8]> = SmallVec::new();
    for (root, seed) in roots {
        if !root.requires_grad {
            continue;
        }
        if root.mark.replace(pass) != pass {
            nodes.push((root, Some(seed)));
        } else if let Some((_, slot)) = nodes.iter_mut().find(|(n, _)| Rc::ptr_eq(n, &root)) {
            *slot = Some(match slot.take() {
                Some(old) => &old + &seed,
                None => seed,
            });
        }
    }
    let mut next = 0;
    while next < nodes.len() {
        let n = nodes[next].0.clone();
        if let Origin::Op(op) = &*n.origin.borrow() {
            for p in &op.inputs {
                if p.node.requires_grad && p.node.mark.replace(pass) != pass {
                    nodes.push((p.node.clone(), None));
                }
            }
        }
        next += 1;
    }
    // decreasing ids: a topological order
    nodes.sort_unstable_by_key(|(n, _)| std::cmp::Reverse(n.id));
    let _mode = GradMode::set(opts.create_graph);
    // passes of other element types, to run after this one
    let mut later: Vec<Box<dyn Deferred>> = Vec::new();
    for at in 0..nodes.len() {
        let Some(g) = nodes[at].1.take() else { continue };
        let node = nodes[at].0.clone();
        if let Some(t) = targets {
            if t.contains(&node.id) {
                found.push((node.id, Box::new(g.clone())));
            }
        }
        let origin = node.origin.borrow();
        match &*origin {
            Origin::Leaf if targets.is_some() => {}
            Origin::Leaf => {
                let mut slot = node.grad.borrow_mut();
                *slot = Some(match slot.take() {
                    Some(old) => &old + &g,
                    None => g,
                });
            }
            Origin::Freed(op) => return Err(BackwardError::GraphFreed { op }),
            Origin::Op(op) => {
                // adds the gradient of input `i` to what flows into it
                let mut add = |i: usize, gi: Var<T, IxDyn>| -> Result<(), BackwardError> {
                    let inp = &op.inputs[i].node;
                    if !inp.requires_grad {
                        return Ok(());
                    }
                    if !gi.node.value.borrow().shape().eq(inp.value.borrow().shape()) {
                        let expected = inp.value.borrow().shape().to_vec();
                        return Err(BackwardError::GradientShape { op: op.name, expected, got: gi.shape() });
                    }
                    // every input that requires a gradient was collected above, after this node
                    let found = nodes[at + 1..]
                        .binary_search_by_key(&std::cmp::Reverse(inp.id), |(n, _)| std::cmp::Reverse(n.id));
                    if let Ok(j) = found {
                        let slot = &mut nodes[at + 1 + j].1;
                        *slot = Some(match slot.take() {
                            Some(old) => &old + &gi,
                            None => gi,
                        });
                    }
                    Ok(())
                };
                match &op.backward {
                    Backward::Cast(source) => source.defer(&g, &mut later),
                    Backward::Kernel(k) => kernel_backward(k.as_ref(), &g, &op.inputs, add)?,
                    Backward::Fn(f) => {
                        let input_grads = f.backward(&g, &op.inputs, &Var::from_node(node.clone()));
                        if input_grads.len() != op.inputs.len() {
                            return Err(BackwardError::GradientCount {
                                op: op.name,
                                expected: op.inputs.len(),
                                got: input_grads.len(),
                            });
                        }
                        for (i, gi) in input_grads.into_iter().enumerate() {
                            if let Some(gi) = gi {
                                add(i, gi)?;
                            }
                        }
                    }
                }
            }
        }
    }
    // before this pass's graph is released: a later pass may come back through it
    for pass in later {
        found.extend(pass.run(opts, targets)?);
    }
    if !retain {
        for (node, _) in &nodes {
            let mut origin = node.origin.borrow_mut();
            if let Origin::Op(op) = &*origin {
                let name = op.name;
                *origin = Origin::Freed(name);
            }
        }
    }
    Ok(found)
}
