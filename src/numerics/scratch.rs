//! Per-thread reusable buffers: a hot evaluation that needs scratch space (the bytecode
//! stack of an `.ode` model, the dual-number vectors of a Jacobian) borrows it from its
//! thread's store instead of allocating at every call.

use std::any::{Any, TypeId};
use std::cell::RefCell;

thread_local! {
    /// This thread's buffers, one slot per type, found by the type's id (a comparison of
    /// constants per entry, not a virtual call: this runs at every Jacobian). `Option`: taken
    /// while in use.
    static STORE: RefCell<Vec<(TypeId, Box<dyn Any>)>> = const { RefCell::new(Vec::new()) };
}

/// Run `f` on this thread's buffers of type `S` (made by `S::default()` the first time).
/// They are taken out of the store while `f` runs, so a nested call of the same type gets
/// fresh buffers rather than aliasing them; `f` must not rely on their contents.
///
/// ```
/// use excitable::numerics::scratch::with_scratch;
/// let n = with_scratch(|v: &mut Vec<f64>| {
///     v.clear();
///     v.extend([1.0, 2.0]);
///     v.len()
/// });
/// assert_eq!(n, 2);
/// ```
pub fn with_scratch<S: Default + 'static, R>(f: impl FnOnce(&mut S) -> R) -> R {
    let mut s: S = STORE.with(|c| {
        slot::<S>(&mut c.borrow_mut())
            .and_then(Option::take)
            .unwrap_or_default()
    });
    let r = f(&mut s);
    STORE.with(|c| {
        let mut v = c.borrow_mut();
        match slot::<S>(&mut v) {
            Some(slot) => *slot = Some(s),
            None => v.push((TypeId::of::<S>(), Box::new(Some(s)))),
        }
    });
    r
}

/// The store's slot for buffers of type `S`, if it has one.
fn slot<S: 'static>(store: &mut [(TypeId, Box<dyn Any>)]) -> Option<&mut Option<S>> {
    let id = TypeId::of::<S>();
    store
        .iter_mut()
        .find(|(t, _)| *t == id)
        .and_then(|(_, b)| b.downcast_mut::<Option<S>>())
}
