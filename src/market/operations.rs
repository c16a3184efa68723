//! The provisioning operations the market asks for: the current (or last) operation of each
//! node, by item id, in stable memory (what a status query answers from without an outcall),
//! and the operations a lease's start or end, or a provider's own deploy, begins. The market
//! records an operation and queues its first step; provisioning (`provision::service`) runs
//! the steps against Ironic and reports back (`lease::provisioned`, `lease::released`).
//!
//! One operation per item: a new one (a lease's deploy, its undeploy) replaces the last, and
//! bumps `generation`, which is how a step that awaited Ironic finds out, once it resumes,
//! that its operation was replaced meanwhile.
//!
//! Steps are the queue's `ProvisionStep { item_id }` tasks, run by provisioning (`provision::service`), and several may be queued for one
//! item (the regular next step, a fallback against traps, a stale one). `next_step_ns` and
//! `locked_until_ns` make all but one of them return at once: a step runs only when both are
//! due, and while it awaits Ironic it holds the lock, which ends when the fallback it queued
//! is due (so a trap after an await cannot leave the operation locked with nothing queued).

use crate::market::{store, Execution, Item, Phase};
use crate::memory::{self, Memory};
use crate::queue::{self, Task};
use crate::runtime::Runtime;
use candid::{CandidType, Deserialize};
use ic_stable_structures::StableBTreeMap;
use std::cell::RefCell;

use OperationKind::{Deploy, Undeploy};
use OperationStatus::{Accepted, Failed};

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Operation {
    pub item_id: u64,
    pub server_id: String,
    pub server_name: String,
    pub provider_pem: String,
    pub kind: OperationKind,
    pub image: String,
    pub config_drive: Option<String>,
    /// Set as the node's `lessee`: the lease's project.
    pub lessee: String,
    pub execution_id: Option<u64>,
    pub status: OperationStatus,
    pub provision_state: String,
    pub seen_wait_callback: bool,
    pub message: String,
    pub started_at_ns: u64,
    pub completed_at_ns: Option<u64>,
    pub checked_at_ns: u64,
    /// Failed attempts in a row (transient Ironic errors), for the backoff.
    pub attempts: u32,
    /// Bumped by every operation that replaces the item's previous one.
    pub generation: u64,
    /// A step that starts before this returns at once: a later one is queued.
    pub next_step_ns: u64,
    /// A step is awaiting Ironic until at most this time (0: none).
    pub locked_until_ns: u64,
    /// When the last fallback step queued for this item is due.
    pub fallback_ns: u64,
    /// Whether this operation asked Ironic to change the node (a failed deploy that did must
    /// be cleaned; one that did not leaves the node as it was).
    pub touched: bool,
    /// An undeploy ending a lease: the phase the lease takes when it is done, and why.
    pub release_to: Option<Phase>,
    pub release_why: String,
}

impl Operation {
    /// Not finished: Ironic has yet to be asked, or the node to arrive.
    pub fn is_active(&self) -> bool {
        matches!(
            self.status,
            OperationStatus::Accepted | OperationStatus::InProgress
        )
    }
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationStatus {
    /// Recorded; Ironic has not been asked yet.
    Accepted,
    InProgress,
    Completed,
    Failed,
}

/// What the operation does to the node.
#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationKind {
    /// Set the image and lessee, then deploy (target `active`).
    Deploy,
    /// Undeploy (target `deleted`, then Ironic cleans) and clear the lessee.
    Undeploy,
}

crate::storable::candid_storable!(Operation);

thread_local! {
    static OPERATIONS: RefCell<StableBTreeMap<u64, Operation, Memory>> =
        RefCell::new(StableBTreeMap::init(memory::region(memory::PROVISION_OPERATIONS)));
}

/// Creates this module's stable structures now (at install and upgrade) rather than at the
/// first call that touches them, so a call that changes nothing writes nothing.
pub fn open() {
    OPERATIONS.with(|_| ());
}

pub fn get(item_id: u64) -> Option<Operation> {
    OPERATIONS.with_borrow(|map| map.get(&item_id))
}

pub fn put(operation: &Operation) {
    OPERATIONS.with_borrow_mut(|map| map.insert(operation.item_id, operation.clone()));
}

/// An operation on `item` replacing `previous` (its generation follows).
pub fn new_operation(
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
pub fn start(rt: &impl Runtime, mut operation: Operation, previous: Option<&Operation>) {
    let now = rt.time();
    if let Some(previous) = previous.filter(|p| p.locked_until_ns > now) {
        operation.locked_until_ns = previous.locked_until_ns;
    }
    plan(rt, &mut operation, now);
    put(&operation);
}

/// Queues the operation's next step at `at`; steps queued earlier return at once.
pub fn plan(rt: &impl Runtime, operation: &mut Operation, at: u64) {
    operation.next_step_ns = at;
    let item_id = operation.item_id;
    queue::schedule(rt, at, Task::ProvisionStep { item_id });
}

/// A lease starts on an Ironic node: records a deploy operation and queues its first step.
pub fn begin_deploy(rt: &impl Runtime, execution: &Execution) {
    let now = rt.time();
    let Some(item) = store::item(execution.item_id) else {
        return;
    };
    let previous = get(item.id);
    let mut operation = new_operation(now, &item, Deploy, previous.as_ref());
    operation.image = execution.image.clone();
    operation.lessee = execution.project.clone();
    operation.execution_id = Some(execution.id);
    operation.message = format!(
        "Deploy of {} accepted for lease {}.",
        execution.image, execution.id
    );
    start(rt, operation, previous.as_ref());
}

/// A lease ends (or is cancelled) on an Ironic node: records an undeploy and queues its step.
/// When the node is clean the lease takes `release_to` with `why`.
pub fn begin_undeploy(
    rt: &impl Runtime,
    execution: &Execution,
    release_to: Option<Phase>,
    why: &str,
) {
    let now = rt.time();
    let Some(item) = store::item(execution.item_id) else {
        return;
    };
    let previous = get(item.id);
    let mut operation = new_operation(now, &item, Undeploy, previous.as_ref());
    operation.lessee = execution.project.clone();
    operation.execution_id = Some(execution.id);
    operation.release_to = release_to;
    operation.release_why = why.into();
    operation.message = format!("Undeploy accepted for lease {}.", execution.id);
    start(rt, operation, previous.as_ref());
}

/// Whether the item's node carries a deploy made outside the market (not for a lease) that
/// has not failed: it must be undeployed before the item is leased again.
pub fn direct_deploy_on(item_id: u64) -> bool {
    get(item_id)
        .is_some_and(|op| op.kind == Deploy && op.execution_id.is_none() && op.status != Failed)
}

/// The provider puts an item it deployed directly back on the market: undeploy and clean the
/// node; the item (Rebuilding) is available again once that is done.
pub fn begin_direct_undeploy(rt: &impl Runtime, item: &Item) {
    let now = rt.time();
    let previous = get(item.id);
    let mut operation = new_operation(now, item, Undeploy, previous.as_ref());
    if let Some(previous) = &previous {
        operation.lessee = previous.lessee.clone();
    }
    operation.message = "Undeploy accepted: the item goes back to the market.".into();
    start(rt, operation, previous.as_ref());
}

/// Undeploys the node a failed (or unwanted) deploy left, to give its item back once clean.
pub fn begin_cleanup(rt: &impl Runtime, deploy: &Operation) {
    let now = rt.time();
    let Some(item) = store::item(deploy.item_id) else {
        return;
    };
    let mut operation = new_operation(now, &item, Undeploy, Some(deploy));
    operation.lessee = deploy.lessee.clone();
    operation.execution_id = deploy.execution_id;
    operation.message = "Undeploy accepted to clean the node after the deploy.".into();
    start(rt, operation, Some(deploy));
}

#[cfg(test)]
pub mod testing {
    use super::*;

    /// A deploy of item 1 just accepted.
    pub fn deploy() -> Operation {
        Operation {
            item_id: 1,
            server_id: "node-1".into(),
            server_name: "rack1-node1".into(),
            provider_pem: String::new(),
            kind: OperationKind::Deploy,
            image: "ubuntu-24.04".into(),
            config_drive: None,
            lessee: "project".into(),
            execution_id: Some(3),
            status: OperationStatus::Accepted,
            provision_state: "available".into(),
            seen_wait_callback: false,
            message: String::new(),
            started_at_ns: 10,
            completed_at_ns: None,
            checked_at_ns: 10,
            attempts: 0,
            generation: 1,
            next_step_ns: 10,
            locked_until_ns: 0,
            fallback_ns: 0,
            touched: false,
            release_to: None,
            release_why: String::new(),
        }
    }
}

#[cfg(test)]
mod tests;
