//! Printing a [`Var`]: `Debug` (the node alone), `Display` (the value) and [`Var::graph`] (the
//! graph below a node, bounded).

use crate::tape::{Backward, Node, Op, Origin};
use crate::{Float, Var};
use ndarray::{Dimension, IxDyn};
use std::fmt;
use std::rc::Rc;

impl<T: Float, D: Dimension> fmt::Debug for Var<T, D> {
    /// Prints the node alone: its id, the op that made it and its inputs' ids, its shape and
    /// whether it requires a gradient. It never walks the graph, so it is short and fast on any
    /// graph; [`Var::graph`] prints the graph below a node, up to a number of nodes.
    ///
    /// ```
    /// use slowgrad::Var;
    /// let x = Var::new(ndarray::array![0.5, 1.0]);
    /// let y = x.tanh();
    /// assert_eq!(
    ///     format!("{y:?}"),
    ///     format!("Var {{ id: {}, op: tanh, inputs: [{}], shape: [2], requires_grad: true }}", y.id(), x.id())
    /// );
    /// assert_eq!(format!("{x:?}"), format!("Var {{ id: {}, op: leaf, shape: [2], requires_grad: true }}", x.id()));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = &self.node;
        let mut s = f.debug_struct("Var");
        s.field("id", &n.id);
        match n.origin.try_borrow() {
            Ok(origin) => match &*origin {
                Origin::Leaf => s.field("op", &format_args!("leaf")),
                Origin::Op(Op { backward: Backward::Cast(source), .. }) => {
                    s.field("op", &format_args!("cast from {}", source.type_name())).field("inputs", &[source.id()])
                }
                Origin::Op(op) => s.field("op", &format_args!("{}", op.name)).field("inputs", &Ids(&op.inputs)),
                Origin::Freed(name) => {
                    s.field("op", &format_args!("{name}")).field("inputs", &format_args!("released by backward"))
                }
            },
            Err(_) => s.field("op", &format_args!("(in a backward pass)")),
        };
        match n.value.try_borrow() {
            Ok(v) => s.field("shape", &v.shape()),
            Err(_) => s.field("shape", &format_args!("(value being updated)")),
        };
        s.field("requires_grad", &n.requires_grad).finish()
    }
}

/// The ids of an op's inputs, printed as a list.
struct Ids<'a, T: Float>(&'a [Var<T, IxDyn>]);

impl<T: Float> fmt::Debug for Ids<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|v| v.node.id)).finish()
    }
}

impl<T: Float, D: Dimension> fmt::Display for Var<T, D> {
    /// Prints the value as ndarray does (format options such as a precision apply to the
    /// elements), then its shape and whether it requires a gradient.
    ///
    /// ```
    /// use slowgrad::Var;
    /// let x = Var::new(ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(x.to_string(), "[[1, 2],\n [3, 4]], shape=[2, 2], requires_grad=true");
    /// let c = Var::constant(ndarray::array![0.25f32, 1.0 / 3.0]);
    /// assert_eq!(format!("{c:.2}"), "[0.25, 0.33], shape=[2], requires_grad=false");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.node.value.try_borrow().map_err(|_| fmt::Error)?;
        fmt::Display::fmt(&*v, f)?;
        write!(f, ", shape={:?}, requires_grad={}", v.shape(), self.node.requires_grad)
    }
}

impl<T: Float, D: Dimension> Var<T, D> {
    /// The graph below this value, one node a line, indented by depth (up to 40 levels):
    /// `#id op [shape]`, and
    /// for leaves `#id leaf [shape]` followed by `requires_grad` if they do. A node reached
    /// again is printed once more as `#id (above)` without its inputs. At most `max_nodes`
    /// lines are printed, then a line saying where the listing stopped; the walk keeps its own
    /// stack, so any depth of graph is safe.
    ///
    /// ```
    /// use slowgrad::Var;
    /// let x = Var::new(ndarray::array![1.0, 2.0]);
    /// let y = (&x * &x).tanh();
    /// let (a, b, c) = (y.id(), y.id() - 1, x.id());
    /// assert_eq!(
    ///     y.graph(10),
    ///     format!("#{a} tanh [2]\n  #{b} mul [2]\n    #{c} leaf [2] requires_grad\n    #{c} (above)\n")
    /// );
    /// // a long chain, cut after three nodes
    /// let mut z = x.clone();
    /// for _ in 0..1000 {
    ///     z = z.tanh();
    /// }
    /// assert_eq!(z.graph(3).lines().count(), 4);
    /// assert!(z.graph(3).ends_with("... stopped after 3 nodes\n"));
    /// ```
    pub fn graph(&self, max_nodes: usize) -> String {
        use fmt::Write as _;
        let mut out = String::new();
        let mut seen = std::collections::HashSet::new();
        // (node, depth), the next to print on top
        let mut stack: Vec<(Rc<Node<T>>, usize)> = vec![(self.node.clone(), 0)];
        let mut printed = 0;
        while let Some((n, depth)) = stack.pop() {
            if printed == max_nodes {
                let _ = writeln!(out, "... stopped after {max_nodes} nodes");
                break;
            }
            printed += 1;
            let pad = "  ".repeat(depth.min(40));
            let shape = n.value.try_borrow().map(|v| v.shape().to_vec()).unwrap_or_default();
            if !seen.insert(n.id) {
                let _ = writeln!(out, "{pad}#{} (above)", n.id);
                continue;
            }
            let Ok(origin) = n.origin.try_borrow() else {
                let _ = writeln!(out, "{pad}#{} {shape:?} (in a backward pass)", n.id);
                continue;
            };
            let _ = match &*origin {
                Origin::Leaf => {
                    let rg = if n.requires_grad { " requires_grad" } else { "" };
                    writeln!(out, "{pad}#{} leaf {shape:?}{rg}", n.id)
                }
                Origin::Freed(name) => writeln!(out, "{pad}#{} {name} {shape:?} (graph released)", n.id),
                Origin::Op(Op { backward: Backward::Cast(source), .. }) => {
                    let inner = "  ".repeat((depth + 1).min(40));
                    let (id, ty) = (source.id(), source.type_name());
                    writeln!(out, "{pad}#{} cast {shape:?}\n{inner}#{id} ({ty}: its graph is not listed)", n.id)
                }
                Origin::Op(op) => {
                    // pushed in reverse, so that the inputs print in order
                    stack.extend(op.inputs.iter().rev().map(|p| (p.node.clone(), depth + 1)));
                    writeln!(out, "{pad}#{} {} {shape:?}", n.id, op.name)
                }
            };
        }
        out
    }
}
