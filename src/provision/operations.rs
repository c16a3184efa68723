//! The current (or last) operation of each node, by item id, in stable memory: what a status
//! query answers from without an outcall.
//!
//! One operation per item: a new one (a lease's deploy, its undeploy) replaces the last, and
//! bumps `generation`, which is how a step that awaited Ironic finds out, once it resumes,
//! that its operation was replaced meanwhile.
//!
//! Steps are the manager's `ProvisionStep { item_id }` tasks, and several may be queued for one
//! item (the regular next step, a fallback against traps, a stale one). `next_step_ns` and
//! `locked_until_ns` make all but one of them return at once: a step runs only when both are
//! due, and while it awaits Ironic it holds the lock, which ends when the fallback it queued
//! is due (so a trap after an await cannot leave the operation locked with nothing queued).

use super::state;
use super::types::{OperationKind, OperationStatus, ProvisionStatus};
use crate::market::Phase;
use crate::memory::{self, Memory};
use candid::{CandidType, Deserialize};
use ic_stable_structures::StableBTreeMap;
use std::cell::RefCell;

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

/// The operation as callers see it; the progress comes from the provision state last read.
pub fn view(operation: &Operation) -> ProvisionStatus {
    let progress_percent = match operation.status {
        OperationStatus::Completed => Some(100),
        OperationStatus::Failed => None,
        OperationStatus::Accepted | OperationStatus::InProgress => {
            state::status(
                operation.kind,
                &operation.provision_state,
                operation.seen_wait_callback,
            )
            .1
        }
    };
    ProvisionStatus {
        operation_id: operation.server_id.clone(),
        server_id: operation.server_id.clone(),
        item_id: operation.item_id,
        kind: operation.kind,
        status: operation.status,
        provision_state: operation.provision_state.clone(),
        progress_percent,
        message: operation.message.clone(),
        started_at_ns: operation.started_at_ns,
        completed_at_ns: operation.completed_at_ns,
        checked_at_ns: operation.checked_at_ns,
        execution_id: operation.execution_id,
    }
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
