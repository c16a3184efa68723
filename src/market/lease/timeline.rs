//! A lease's timeline, run by the queue's tasks: the start, the end, and the stuck checks.

use super::reclaim;
use crate::market::execution;
use crate::market::inventory::{self, By};
use crate::market::operations;
use crate::market::store;
use crate::market::types::*;
use crate::market::MarketError;
use crate::queue::{self, Task};
use crate::runtime::Runtime;
use crate::time::{utc, SECOND_NS};

use Phase::*;

/// How often a lease whose item is still busy at its start looks again.
const START_RETRY_NS: u64 = 30 * SECOND_NS;
pub(super) const GRANTED: &str = "access granted (no provisioning backend: recorded no-op)";
pub(super) const REVOKED: &str = "access revoked (no provisioning backend: recorded no-op)";
/// Why a provisioned lease is COMPLETED once its server is undeployed.
pub(super) const UNDEPLOYED: &str = "access revoked: the server was undeployed and cleaned";

/// Whether the lease's item is provisioned through Ironic (its start and end take time).
fn is_provisioned(execution: &Execution) -> bool {
    execution.resource_type == store::IRONIC_NODE
}

/// The queue's task at a lease's start: once its item is free, PREPARING, then AVAILABLE once
/// its server is deployed (an Ironic node) or at once (with no provisioning backend). An item
/// still busy (the previous lease on it rebuilding, maintenance) is looked at again every
/// 30 s; one not ready within the stuck timeout after the start cancels the lease.
pub fn start(rt: &impl Runtime, execution_id: u64) {
    // A task has no caller to tell; a step refused half-way is left to `check_stuck`.
    let _ = try_start(rt, execution_id);
}

fn try_start(rt: &impl Runtime, execution_id: u64) -> Result<(), MarketError> {
    let now = rt.time();
    let mut execution = execution::get(execution_id)?;
    // Ended before it could start: `finish` cancels it.
    if !matches!(execution.phase, Accepted | Waiting)
        || execution.start_ns > now
        || reclaim::ends_at(&execution) <= now
    {
        return Ok(());
    }
    let actor = Actor::Canister;
    let policies = store::policies();
    let item = store::item(execution.item_id).filter(|item| item.status == ItemStatus::Available);
    let Some(mut item) = item else {
        let deadline = execution
            .start_ns
            .saturating_add(policies.stuck_timeout_seconds.saturating_mul(SECOND_NS));
        if now >= deadline {
            let why = format!("the item did not become ready by {}", utc(deadline));
            return execution::transition(now, &actor, &mut execution, Cancelled, &why);
        }
        queue::schedule(rt, now + START_RETRY_NS, Task::StartLease { execution_id });
        return Ok(());
    };
    let why = format!("lease {execution_id} started");
    item.lease_id = Some(execution_id);
    inventory::move_item(
        now,
        &actor,
        By::Market,
        &mut item,
        ItemStatus::Reserving,
        &why,
    )?;
    execution::transition(now, &actor, &mut execution, Preparing, "lease started")?;
    let stuck_at = now.saturating_add(policies.stuck_timeout_seconds.saturating_mul(SECOND_NS));
    queue::schedule(rt, stuck_at, Task::CheckStuck { execution_id });
    if is_provisioned(&execution) {
        // AVAILABLE (or FAILED) comes from the deploy's steps: `provisioned`.
        operations::begin_deploy(rt, &execution);
        return Ok(());
    }
    inventory::move_item(
        now,
        &actor,
        By::Market,
        &mut item,
        ItemStatus::Leased,
        GRANTED,
    )?;
    execution::transition(now, &actor, &mut execution, Available, GRANTED)
}

/// An item just became available: a lease already due on it starts now rather than at its
/// next 30 s retry (back-to-back leases lose no time to the rebuild in between).
pub fn wake_waiting(rt: &impl Runtime, item_id: u64) {
    let now = rt.time();
    let Some(booking) = store::overlapping_booking(item_id, now, now.saturating_add(1)) else {
        return;
    };
    let due = store::execution(booking.execution_id)
        .is_some_and(|e| matches!(e.phase, Accepted | Waiting) && e.start_ns <= now);
    if due {
        let execution_id = booking.execution_id;
        queue::schedule(rt, now, Task::StartLease { execution_id });
    }
}

/// The queue's task at a lease's end: a running lease is released and COMPLETED, its item
/// rebuilt; one that never started is CANCELLED. Nothing when it was extended (a later task
/// ends it) or is already over.
pub fn finish(rt: &impl Runtime, execution_id: u64) {
    // A task has no caller to tell; a step refused half-way is left to `check_stuck`.
    let _ = try_finish(rt, execution_id);
}

fn try_finish(rt: &impl Runtime, execution_id: u64) -> Result<(), MarketError> {
    let now = rt.time();
    let mut execution = execution::get(execution_id)?;
    let actor = Actor::Canister;
    // A paid lease by SKU whose message stopped before its accept: its hold ends.
    if execution.phase == Offered && execution.offerset_id.is_none() {
        if execution.expires_at_ns <= now {
            let why = "the hold of a lease by SKU ended before it was paid";
            return execution::transition(now, &actor, &mut execution, Expired, why);
        }
        return Ok(());
    }
    if reclaim::ends_at(&execution) > now {
        return Ok(());
    }
    let reclaimed = execution.reclaim.as_ref().map(reclaim::ended_why);
    match execution.phase {
        Accepted | Waiting => {
            let why = reclaimed.as_deref();
            let why = why.unwrap_or("the lease ended before its item was ready");
            execution::transition(now, &actor, &mut execution, Cancelled, why)
        }
        Preparing | Available => {
            // COMPLETED keeps no reason of its own; a reclaimed lease says why it ended early.
            execution.reason = reclaimed.clone();
            let why = reclaimed.as_deref().unwrap_or("lease ended");
            release(rt, &actor, &mut execution, why, Completed, REVOKED)
        }
        // OFFERED ends with its offerset, RELEASING in `check_stuck`; final phases stay.
        _ => Ok(()),
    }
}

/// RELEASING, access revoked (a recorded no-op), then `to` (COMPLETED or CANCELLED) with
/// `why_final`; the item is taken back and rebuilt. A provisioned lease stays RELEASING, its
/// item Rebuilding, while its server is undeployed: `released` ends it.
pub(super) fn release(
    rt: &impl Runtime,
    actor: &Actor,
    execution: &mut Execution,
    why: &str,
    to: Phase,
    why_final: &str,
) -> Result<(), MarketError> {
    let now = rt.time();
    execution::transition(now, actor, execution, Releasing, why)?;
    if is_provisioned(execution) && take_back(now, actor, execution)? {
        let why_final = if why_final == REVOKED {
            UNDEPLOYED
        } else {
            why_final
        };
        let timeout = store::policies().stuck_timeout_seconds;
        let stuck_at = now.saturating_add(timeout.saturating_mul(SECOND_NS));
        let execution_id = execution.id;
        queue::schedule(rt, stuck_at, Task::CheckStuck { execution_id });
        operations::begin_undeploy(rt, execution, Some(to), why_final);
        return Ok(());
    }
    execution::transition(now, actor, execution, to, why_final)?;
    if take_back(now, actor, execution)? {
        rebuild(rt, execution.item_id);
    }
    Ok(())
}

/// Moves the lease's item to Rebuilding; false when the lease never had it (it never started,
/// or the item was already taken back).
pub(super) fn take_back(
    now: u64,
    actor: &Actor,
    execution: &Execution,
) -> Result<bool, MarketError> {
    let Some(mut item) = store::item(execution.item_id) else {
        return Ok(false);
    };
    if item.lease_id != Some(execution.id) {
        return Ok(false);
    }
    let why = format!("lease {} released", execution.id);
    inventory::move_item(
        now,
        actor,
        By::Market,
        &mut item,
        ItemStatus::Rebuilding,
        &why,
    )?;
    Ok(true)
}

fn rebuild(rt: &impl Runtime, item_id: u64) {
    let done_at = rt
        .time()
        .saturating_add(store::policies().rebuild_seconds.saturating_mul(SECOND_NS));
    queue::schedule(rt, done_at, Task::FinishRebuild { item_id });
}

/// The queue's task some time after a lease entered PREPARING: one still PREPARING after the
/// stuck timeout FAILS and its item is rebuilt; one still RELEASING FAILS and its item goes to
/// Maintenance, for a person to look at. One not yet due is looked at again when it is.
pub fn check_stuck(rt: &impl Runtime, execution_id: u64) {
    // A task has no caller to tell.
    let _ = try_check_stuck(rt, execution_id);
}

fn try_check_stuck(rt: &impl Runtime, execution_id: u64) -> Result<(), MarketError> {
    let now = rt.time();
    let mut execution = execution::get(execution_id)?;
    if !matches!(execution.phase, Preparing | Releasing) {
        return Ok(());
    }
    let timeout = store::policies().stuck_timeout_seconds;
    let due = execution
        .phase_since_ns
        .saturating_add(timeout.saturating_mul(SECOND_NS));
    if now < due {
        // The policy's timeout grew since this was queued.
        queue::schedule(rt, due, Task::CheckStuck { execution_id });
        return Ok(());
    }
    let actor = Actor::Canister;
    if execution.phase == Preparing {
        let why = format!("provisioning did not finish within {timeout} s");
        execution::transition(now, &actor, &mut execution, Failed, &why)?;
        if take_back(now, &actor, &execution)? {
            if is_provisioned(&execution) {
                // Whatever the deploy left on the node is undeployed; `released` gives the
                // item back once it is clean.
                operations::begin_undeploy(rt, &execution, None, "");
            } else {
                rebuild(rt, execution.item_id);
            }
        }
    } else {
        let why = format!("release did not finish within {timeout} s");
        execution::transition(now, &actor, &mut execution, Failed, &why)?;
        if take_back(now, &actor, &execution)? {
            if let Some(mut item) = store::item(execution.item_id) {
                let why = format!("lease {execution_id} was not released cleanly");
                inventory::move_item(
                    now,
                    &actor,
                    By::Market,
                    &mut item,
                    ItemStatus::Maintenance,
                    &why,
                )?;
            }
        }
    }
    Ok(())
}
