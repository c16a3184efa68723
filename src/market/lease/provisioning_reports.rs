//! Provisioning's reports on a lease: its server deployed, its deploy failed, its node cleaned.

use super::timeline::{take_back, wake_waiting};
use crate::market::execution;
use crate::market::inventory::{self, By};
use crate::market::store;
use crate::market::types::*;
use crate::runtime::Runtime;

use Phase::*;

/// Provisioning deployed the lease's server: a lease still PREPARING becomes AVAILABLE and its
/// item Leased. False when the lease is no longer PREPARING (it ended, was cancelled or failed
/// meanwhile): the caller then cleans the node.
pub fn provisioned(rt: &impl Runtime, execution_id: u64, why: &str) -> bool {
    let now = rt.time();
    let actor = Actor::Canister;
    let Some(mut execution) = store::execution(execution_id).filter(|e| e.phase == Preparing)
    else {
        return false;
    };
    let Some(mut item) =
        store::item(execution.item_id).filter(|item| item.lease_id == Some(execution_id))
    else {
        return false;
    };
    inventory::move_item(now, &actor, By::Market, &mut item, ItemStatus::Leased, why).is_ok()
        && execution::transition(now, &actor, &mut execution, Available, why).is_ok()
}

/// Provisioning could not deploy the lease's server: a lease still PREPARING FAILS with `why`,
/// and its item is taken back (Rebuilding) for provisioning to clean and give back through
/// [`released`]. False when the lease was no longer PREPARING or did not hold the item.
pub fn provisioning_failed(rt: &impl Runtime, execution_id: u64, why: &str) -> bool {
    let now = rt.time();
    let actor = Actor::Canister;
    let Some(mut execution) = store::execution(execution_id).filter(|e| e.phase == Preparing)
    else {
        return false;
    };
    let failed = execution::transition(now, &actor, &mut execution, Failed, why).is_ok()
        && take_back(now, &actor, &execution).unwrap_or(false);
    // The phase change queued the lease's settlement: due now, not at the next poll.
    crate::queue::rearm(rt);
    failed
}

/// Provisioning finished undeploying the item's node (`clean`: Ok) or could not (Err with
/// why): the lease RELEASING on it, if any, takes `to` with `why` either way, and the item,
/// still Rebuilding, becomes Available (waking a lease due on it) or goes to Maintenance.
/// Anything that moved on meanwhile (a stuck lease failed, the provider took the item) stays.
pub fn released(
    rt: &impl Runtime,
    item_id: u64,
    execution_id: Option<u64>,
    to: Option<Phase>,
    why: &str,
    clean: Result<(), &str>,
) {
    let now = rt.time();
    let actor = Actor::Canister;
    if let (Some(id), Some(to)) = (execution_id, to) {
        if let Some(mut execution) = store::execution(id).filter(|e| e.phase == Releasing) {
            let _ = execution::transition(now, &actor, &mut execution, to, why);
            // Provisioning reports after awaiting Ironic, outside a queue batch: the
            // settlement the final phase queued would otherwise wait for the next timer.
            crate::queue::rearm(rt);
        }
    }
    let Some(mut item) = store::item(item_id).filter(|item| item.status == ItemStatus::Rebuilding)
    else {
        return;
    };
    match clean {
        Ok(()) => {
            let why = "the node was undeployed and cleaned";
            if inventory::move_item(
                now,
                &actor,
                By::Market,
                &mut item,
                ItemStatus::Available,
                why,
            )
            .is_ok()
            {
                wake_waiting(rt, item_id);
            }
        }
        Err(reason) => {
            let why = format!("the node could not be cleaned: {reason}");
            let _ = inventory::move_item(
                now,
                &actor,
                By::Market,
                &mut item,
                ItemStatus::Maintenance,
                &why,
            );
        }
    }
}
