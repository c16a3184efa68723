//! Item status: the transition table, who may move an item where, and the moves themselves.

use super::{owned_item, record};
use crate::market::types::*;
use crate::market::MarketError;
use crate::market::{check_text, delegation, execution, index, lease, offers, operations, store};
use crate::runtime::Runtime;

use ItemStatus::*;

/// Every allowed status change and who may make it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// The provider, through `inventory_set_status`.
    Provider,
    /// The market itself (a lease starting, running, ending; a rebuild finishing).
    Market,
}

pub const TRANSITIONS: &[(ItemStatus, ItemStatus, By)] = &[
    (Available, Maintenance, By::Provider),
    (Available, Archiving, By::Provider),
    (Maintenance, Available, By::Provider),
    (Maintenance, Archiving, By::Provider),
    (Archiving, Available, By::Provider),
    (Rebuilding, Available, By::Provider),
    (Rebuilding, Maintenance, By::Provider),
    (Available, Reserving, By::Market),
    (Reserving, Leased, By::Market),
    (Reserving, Rebuilding, By::Market),
    (Leased, Rebuilding, By::Market),
    (Rebuilding, Available, By::Market),
    (Rebuilding, Maintenance, By::Market),
    // A node its provider deployed outside the market is undeployed before it is back.
    (Maintenance, Rebuilding, By::Market),
];

pub fn allowed(from: ItemStatus, to: ItemStatus, by: By) -> bool {
    TRANSITIONS.contains(&(from, to, by))
}

/// The provider moves its item (see `TRANSITIONS`). Taking it out of service rejects the
/// OFFERED executions holding it; archiving also withdraws its open offers, and is refused
/// while an accepted lease on it has not ended.
pub fn set_status(rt: &impl Runtime, arg: InventorySetStatusArg) -> Result<Item, MarketError> {
    let (provider, actor) = delegation::acting_provider(rt, &arg.provider)?;
    check_text("reason", &arg.reason, true)?;
    let mut item = owned_item(&provider, arg.item_id)?;
    let (from, to) = (item.status, arg.status);
    if !allowed(from, to, By::Provider) {
        return Err(MarketError::InvalidTransition { from, to });
    }
    let now = rt.time();
    if to == Archiving {
        if let Some(busy) = accepted_booking(item.id, now) {
            return Err(busy);
        }
    }
    let why = if arg.reason.is_empty() {
        "set by its provider"
    } else {
        &arg.reason
    };
    if from == Maintenance && to == Available && operations::direct_deploy_on(item.id) {
        // The node still carries what its provider deployed outside the market: clean first.
        let why = "back to the market: undeploying what its provider deployed";
        move_item(now, &actor, By::Market, &mut item, Rebuilding, why)?;
        operations::begin_direct_undeploy(rt, &item);
        return Ok(item);
    }
    move_item(now, &actor, By::Provider, &mut item, to, why)?;
    if matches!(to, Maintenance | Archiving) {
        reject_holds(rt, &actor, item.id, |_| true, "item taken out of service")?;
    }
    if to == Archiving {
        offers::withdraw_item_offers(now, &actor, item.id, "item archived");
    }
    if to == Available {
        lease::wake_waiting(rt, item.id);
    }
    Ok(item)
}

/// `ItemBusy` for a booking of an accepted lease (past OFFERED) that ends after `now`.
fn accepted_booking(item_id: u64, now: u64) -> Option<MarketError> {
    store::item_bookings(item_id)
        .into_iter()
        .find(|booking| {
            booking.end_ns > now
                && store::execution(booking.execution_id)
                    .is_none_or(|execution| execution.phase != Phase::Offered)
        })
        .map(|booking| MarketError::ItemBusy {
            item_id,
            execution_id: booking.execution_id,
        })
}

/// Takes an available item out of the market (its provider uses it outside, e.g. a direct
/// `provision_server`): Maintenance, and the holds on it end. Refused unless it is Available.
pub fn take_out_of_service(
    rt: &impl Runtime,
    actor: &Actor,
    item: &mut Item,
    why: &str,
) -> Result<(), MarketError> {
    move_item(rt.time(), actor, By::Provider, item, Maintenance, why)?;
    reject_holds(rt, actor, item.id, |_| true, "item taken out of service")
}

/// Rejects the OFFERED executions holding `item_id` that `which` picks: their holds are on a
/// resource (or offer) that can no longer be given. Their settlements (a deposit goes back) are
/// queued without a timer, so it is re-armed for them here, whoever asked.
pub(in crate::market) fn reject_holds(
    rt: &impl Runtime,
    actor: &Actor,
    item_id: u64,
    mut which: impl FnMut(&Execution) -> bool,
    why: &str,
) -> Result<(), MarketError> {
    let now = rt.time();
    let mut rejected = false;
    for booking in store::item_bookings(item_id) {
        let Some(mut execution) = store::execution(booking.execution_id) else {
            continue;
        };
        if execution.phase == Phase::Offered && which(&execution) {
            execution::transition(now, actor, &mut execution, Phase::Rejected, why)?;
            rejected = true;
        }
    }
    if rejected {
        crate::queue::rearm(rt);
    }
    Ok(())
}

/// Moves `item` to `to` if the table allows it for `by`; records, stores, re-indexes.
/// `lease_id` survives only into Reserving and Leased (the lease code sets it first).
pub fn move_item(
    now: u64,
    actor: &Actor,
    by: By,
    item: &mut Item,
    to: ItemStatus,
    why: &str,
) -> Result<(), MarketError> {
    let from = item.status;
    if !allowed(from, to, by) {
        return Err(MarketError::InvalidTransition { from, to });
    }
    item.status = to;
    item.updated_at_ns = now;
    if !matches!(to, Reserving | Leased) {
        item.lease_id = None;
    }
    store::put_item(item);
    index::sync_item(item);
    record(now, actor, item, from.name(), to.name(), why);
    Ok(())
}

/// The queue's task: a Rebuilding item whose rebuild time is over becomes Available.
pub fn finish_rebuild(rt: &impl Runtime, item_id: u64) {
    let Some(mut item) = store::item(item_id) else {
        return;
    };
    // The table allows the market only Rebuilding → Available here; an item that moved on
    // meanwhile (or a retried task) is refused, which is the idempotence tasks need.
    let moved = move_item(
        rt.time(),
        &Actor::Canister,
        By::Market,
        &mut item,
        Available,
        "rebuild finished",
    );
    if moved.is_ok() {
        lease::wake_waiting(rt, item_id);
    }
}
