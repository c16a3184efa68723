//! The lock a step holds while it awaits Ironic (operations and their queued steps are the
//! market's: `market::operations`).

use super::{FALLBACK_NS, MIN_LOCK_NS};
use crate::market::operations::{self, plan, Operation};
use crate::queue::{self, Task};
use crate::runtime::Runtime;

/// Before awaiting Ironic: the lock, until a fallback step that is queued (now, if the last one
/// is too close), so that a trap after the await leaves the work queued. Stores the operation.
pub(super) fn lock(rt: &impl Runtime, operation: &mut Operation, now: u64) {
    if operation.fallback_ns < now.saturating_add(MIN_LOCK_NS) {
        operation.fallback_ns = now.saturating_add(FALLBACK_NS);
        let item_id = operation.item_id;
        queue::schedule(rt, operation.fallback_ns, Task::ProvisionStep { item_id });
    }
    operation.locked_until_ns = operation.fallback_ns;
    operation.next_step_ns = operation.fallback_ns;
    operations::put(operation);
}

/// After an await: the operation, unlocked, if it is still the one the step worked for;
/// otherwise its successor gets the lock's end now and `None`.
pub(super) fn resume(
    rt: &impl Runtime,
    item_id: u64,
    generation: u64,
    lock: u64,
) -> Option<Operation> {
    let mut operation = operations::get(item_id)?;
    if operation.generation == generation {
        operation.locked_until_ns = 0;
        return Some(operation);
    }
    if operation.is_active() && operation.locked_until_ns == lock {
        operation.locked_until_ns = 0;
        plan(rt, &mut operation, rt.time());
        operations::put(&operation);
    }
    None
}
