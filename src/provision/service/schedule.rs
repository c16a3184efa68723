//! Scheduling: new operations, their queued steps, and the lock a step holds while it awaits.

use super::{FALLBACK_NS, MIN_LOCK_NS};
use crate::manager::{self, Task};
use crate::market::Item;
use crate::provision::operations::{self, Operation};
use crate::provision::types::*;
use crate::runtime::Runtime;

use OperationStatus::Accepted;

/// An operation on `item` replacing `previous` (its generation follows).
pub(super) fn new_operation(
    now: u64,
    item: &Item,
    kind: OperationKind,
    previous: Option<&Operation>,
) -> Operation {
    let same_server = previous.filter(|p| p.server_id == item.resource_uuid);
    Operation {
        item_id: item.id,
        server_id: item.resource_uuid.clone(),
        server_name: same_server
            .map_or_else(|| item.resource_uuid.clone(), |p| p.server_name.clone()),
        provider_pem: item.provider_pem.clone(),
        kind,
        image: String::new(),
        config_drive: None,
        lessee: String::new(),
        execution_id: None,
        status: Accepted,
        provision_state: same_server.map_or_else(String::new, |p| p.provision_state.clone()),
        seen_wait_callback: false,
        message: String::new(),
        started_at_ns: now,
        completed_at_ns: None,
        checked_at_ns: same_server.map_or(0, |p| p.checked_at_ns),
        attempts: 0,
        generation: previous.map_or(1, |p| p.generation.saturating_add(1)),
        next_step_ns: now,
        locked_until_ns: 0,
        fallback_ns: previous.map_or(0, |p| p.fallback_ns),
        touched: false,
        release_to: None,
        release_why: String::new(),
    }
}

/// Records a new operation and queues its first step now. A step of the one it replaces may be
/// awaiting Ironic: the new one waits for that lock (handed over when the step resumes).
pub(super) fn start(rt: &impl Runtime, mut operation: Operation, previous: Option<&Operation>) {
    let now = rt.time();
    if let Some(previous) = previous.filter(|p| p.locked_until_ns > now) {
        operation.locked_until_ns = previous.locked_until_ns;
    }
    plan(rt, &mut operation, now);
    operations::put(&operation);
}

/// Queues the operation's next step at `at`; steps queued earlier return at once.
pub(super) fn plan(rt: &impl Runtime, operation: &mut Operation, at: u64) {
    operation.next_step_ns = at;
    let item_id = operation.item_id;
    manager::schedule(rt, at, Task::ProvisionStep { item_id });
}

/// Before awaiting Ironic: the lock, until a fallback step that is queued (now, if the last one
/// is too close), so that a trap after the await leaves the work queued. Stores the operation.
pub(super) fn lock(rt: &impl Runtime, operation: &mut Operation, now: u64) {
    if operation.fallback_ns < now.saturating_add(MIN_LOCK_NS) {
        operation.fallback_ns = now.saturating_add(FALLBACK_NS);
        let item_id = operation.item_id;
        manager::schedule(rt, operation.fallback_ns, Task::ProvisionStep { item_id });
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
