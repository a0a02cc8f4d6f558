//! Freezing a parameter: its slot holds a constant copy while the original leaf waits here.

use crate::{Float, Var};
use std::any::Any;
use std::cell::RefCell;
use std::collections::HashMap;

thread_local! {
    /// The original leaf of each frozen parameter, keyed by the id of the constant that
    /// replaced it in its module.
    static FROZEN: RefCell<HashMap<u64, Box<dyn Any>>> = RefCell::new(HashMap::new());
}

/// Replaces a parameter that requires a gradient by a constant with its value, keeping the
/// original for [`unfreeze`]. A parameter that is already constant stays as it is.
pub(crate) fn freeze<T: Float>(slot: &mut Var<T>) {
    if !slot.requires_grad() {
        return;
    }
    slot.zero_grad();
    let constant = slot.detach();
    let original = std::mem::replace(slot, constant);
    FROZEN.with(|f| f.borrow_mut().insert(slot.id(), Box::new(original)));
}

/// Puts back the original leaf of a frozen parameter, with the constant's current value; a
/// constant that was never frozen becomes a new leaf. A parameter that requires a gradient
/// stays as it is.
pub(crate) fn unfreeze<T: Float>(slot: &mut Var<T>) {
    if slot.requires_grad() {
        return;
    }
    let original = FROZEN.with(|f| f.borrow_mut().remove(&slot.id())).and_then(|b| b.downcast::<Var<T>>().ok());
    let value = slot.value();
    *slot = match original {
        Some(leaf) => {
            leaf.set_value(value);
            *leaf
        }
        None => Var::new(value),
    };
}
