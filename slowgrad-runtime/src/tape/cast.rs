//! Casts between element types on the tape. A backward pass goes through the nodes of one
//! element type; at a cast it casts the gradient back to the input's type and defers it
//! ([`CastSource::defer`]) to a pass of that type ([`Deferred`]), which runs after the current
//! one (see [`backward`]).

use super::backward::{backward, Found, Roots};
use super::{BackwardError, BackwardOptions};
use crate::{Float, Var};
use ndarray::IxDyn;
use smallvec::smallvec;
use std::any::Any;

/// The input of a cast to `U`, of another element type.
pub(crate) trait CastSource<U: Float> {
    /// The input's id.
    fn id(&self) -> u64;
    /// The input's element type.
    fn type_name(&self) -> &'static str;
    /// Casts `g` (the gradient of the cast's result) to the input's type and adds it to the
    /// seeds of the pass through the input's graph.
    fn defer(&self, g: &Var<U, IxDyn>, later: &mut Vec<Box<dyn Deferred>>);
}

/// A cast's input of element type `S`.
pub(super) struct Source<S: Float>(pub(super) Var<S, IxDyn>);

impl<S: Float, U: Float> CastSource<U> for Source<S> {
    fn id(&self) -> u64 {
        self.0.node.id
    }

    fn type_name(&self) -> &'static str {
        std::any::type_name::<S>()
    }

    fn defer(&self, g: &Var<U, IxDyn>, later: &mut Vec<Box<dyn Deferred>>) {
        let seed = (self.0.node.clone(), g.cast::<S>());
        match later.iter_mut().find_map(|d| d.as_any_mut().downcast_mut::<Seeds<S>>()) {
            Some(seeds) => seeds.0.push(seed),
            None => later.push(Box::new(Seeds(smallvec![seed]))),
        }
    }
}

/// The seeds of a pass of another element type, run after the current one.
pub(crate) trait Deferred {
    /// The pass as `Any`, to find the one of a given element type.
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// Runs the pass (see [`backward`]).
    fn run(self: Box<Self>, opts: BackwardOptions, targets: Option<&[u64]>) -> Result<Found, BackwardError>;
}

/// Nodes of element type `S` and the gradients flowing into them.
struct Seeds<S: Float>(Roots<S>);

impl<S: Float> Deferred for Seeds<S> {
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn run(self: Box<Self>, opts: BackwardOptions, targets: Option<&[u64]>) -> Result<Found, BackwardError> {
        backward(self.0, opts, targets)
    }
}
