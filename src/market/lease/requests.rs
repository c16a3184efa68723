//! What a lease's consumer asks of it: accept an offer, lease by SKU, cancel, extend, end now.

use super::timeline::{release, REVOKED};
use super::views::as_seen;
use super::{lessee_key, not_yours, record_same_phase, wrong_phase};
use crate::market::offerset::{self, Terms};
use crate::market::store::{self, Booking};
use crate::market::types::*;
use crate::market::MarketError;
use crate::market::{billed_hours, check_text, execution, offers, payments, sku};
use crate::queue::{self, Task};
use crate::runtime::Runtime;
use crate::time::{utc, SECOND_NS};
use candid::Principal;
use serde_bytes::ByteBuf;

use Phase::*;

/// Accepts one offer of an offerset: it becomes the contract (lease) for its own window, which
/// stays booked; its siblings are rejected; the rest of its offer stays offered. The task queue
/// starts it at its start and ends it at its end.
pub fn accept(rt: &impl Runtime, arg: AcceptArg) -> Result<Execution, MarketError> {
    let now = rt.time();
    let (mut execution, actor, key) = accept_checks(rt, &arg)?;
    execution.lessee_key = Some(key);
    execution::transition(
        now,
        &actor,
        &mut execution,
        Accepted,
        "accepted by the consumer",
    )?;
    if let Some(offerset_id) = execution.offerset_id {
        offerset::settle(now, &actor, offerset_id, execution.id);
    }
    if execution.start_ns > now {
        let why = format!("waiting for the start at {}", utc(execution.start_ns));
        execution::transition(now, &actor, &mut execution, Waiting, &why)?;
    }
    schedule_lease(rt, &execution, execution.start_ns);
    // Rejected siblings queued their settlements (a hold's deposit goes back) without a timer.
    queue::rearm(rt);
    Ok(as_seen(rt, execution))
}

/// Everything `accept` checks, changing nothing: the execution, who accepts, the lessee's key.
pub(super) fn accept_checks(
    rt: &impl Runtime,
    arg: &AcceptArg,
) -> Result<(Execution, Actor, ByteBuf), MarketError> {
    let now = rt.time();
    let execution = execution::get(arg.execution_id)?;
    let actor = consumer_actor(rt, &execution)?;
    let key = lessee_key(arg.lessee_key.clone(), arg.lessee_key_hex.as_deref())?;
    if execution.phase != Offered {
        return Err(wrong_phase(execution.phase, "accept"));
    }
    // Its offerset's expiry task has not run yet, but the hold is over.
    if execution.expires_at_ns <= now {
        return Err(wrong_phase(Expired, "accept"));
    }
    let policies = store::policies();
    offerset::check_active_leases(&execution.consumer, &policies)?;
    check_offer_open(execution.offer_id)?;
    Ok((execution, actor, key))
}

/// The pez shortcut: leases one item of the SKU from now, at the cheapest open offer, in one
/// message (OFFERED and ACCEPTED are both recorded). Nothing available is a typed error whose
/// messages say why.
pub fn lease_by_sku(rt: &impl Runtime, arg: LeaseBySkuArg) -> Result<Execution, MarketError> {
    let now = rt.time();
    let (mut execution, key) = hold_by_sku(rt, arg, now)?;
    let actor = Actor::Consumer(execution.consumer);
    execution.lessee_key = Some(key);
    execution::transition(now, &actor, &mut execution, Accepted, "leased by SKU")?;
    schedule_lease(rt, &execution, now);
    Ok(as_seen(rt, execution))
}

/// `lease_by_sku` up to its hold: an OFFERED execution of the cheapest fitting offer, held
/// until `expires_at_ns`, and the lessee's key.
pub(super) fn hold_by_sku(
    rt: &impl Runtime,
    arg: LeaseBySkuArg,
    expires_at_ns: u64,
) -> Result<(Execution, ByteBuf), MarketError> {
    let (chosen, key) = match_by_sku(rt, &arg)?;
    let consumer = rt.caller();
    let terms = Terms {
        consumer,
        project: arg.project.unwrap_or_else(|| consumer.to_text()),
        image: arg.image,
        offerset_id: None,
        expires_at_ns,
    };
    let execution = offerset::hold(rt.time(), &terms, &chosen, "matched a lease by SKU");
    Ok((execution, key))
}

/// Everything `lease_by_sku` checks and the offer it would take, changing nothing; its price
/// is `Match::price`.
pub(super) fn match_by_sku(
    rt: &impl Runtime,
    arg: &LeaseBySkuArg,
) -> Result<(offerset::Match, ByteBuf), MarketError> {
    let now = rt.time();
    let consumer = rt.caller();
    if consumer == Principal::anonymous() {
        return Err(MarketError::NotAuthorized {
            message: "the anonymous principal cannot lease".into(),
        });
    }
    let sku = sku::canonical(&arg.sku)?;
    let key = lessee_key(arg.lessee_key.clone(), arg.lessee_key_hex.as_deref())?;
    let window = offerset::lease_window(now, None, arg.duration_seconds)?;
    let policies = store::policies();
    if arg.duration_seconds > policies.max_lease_seconds {
        return Err(MarketError::LeaseTooLong {
            max_seconds: policies.max_lease_seconds,
        });
    }
    check_text("image", &arg.image, false)?;
    if let Some(project) = &arg.project {
        check_text("project", project, false)?;
    }
    let refusals = offerset::policy_refusals(&policies, &arg.image, arg.duration_seconds);
    if !refusals.is_empty() {
        return Err(MarketError::NothingAvailable { messages: refusals });
    }
    offerset::check_active_leases(&consumer, &policies)?;
    let request = ResourceRequest {
        sku: Some(sku),
        duration_seconds: arg.duration_seconds,
        max_price_per_hour: arg.max_price_per_hour,
        image: arg.image.clone(),
        ..ResourceRequest::default()
    };
    // The pez shortcut leases now, or not at all.
    // A provider's allow-list applies to leases too; its hold cap does not (nothing is held).
    let mut access = offerset::HoldLimits::access_only(consumer, &policies);
    let (found, messages) = offerset::find_holds(now, &request, window, false, 1, &mut access);
    let Some(chosen) = found.into_iter().next() else {
        return Err(MarketError::NothingAvailable { messages });
    };
    // The index is a cache of stable memory: the offer itself has the last word.
    check_offer_open(chosen.offer.offer_id)?;
    Ok((chosen, key))
}

/// Queues the lease's start (at `start_ns`, or at once) and its end.
fn schedule_lease(rt: &impl Runtime, execution: &Execution, start_ns: u64) {
    let execution_id = execution.id;
    queue::schedule(rt, start_ns, Task::StartLease { execution_id });
    queue::schedule(rt, execution.end_ns, Task::EndLease { execution_id });
}

/// Cancels an accepted lease, by its consumer or a controller: one not started yet is
/// CANCELLED; a running one is released (its item rebuilt) and CANCELLED.
pub fn cancel(rt: &impl Runtime, arg: CancelArg) -> Result<Execution, MarketError> {
    let now = rt.time();
    let mut execution = execution::get(arg.execution_id)?;
    let caller = rt.caller();
    let actor = if caller == execution.consumer {
        Actor::Consumer(caller)
    } else if rt.is_controller(&caller) {
        Actor::Controller(caller)
    } else {
        return Err(not_yours(execution.id));
    };
    check_text("reason", &arg.reason, true)?;
    let why = if arg.reason.is_empty() {
        "cancelled".to_string()
    } else {
        format!("cancelled: {}", arg.reason)
    };
    if !matches!(execution.phase, Accepted | Waiting | Preparing | Available) {
        return Err(wrong_phase(execution.phase, "cancel"));
    }
    match actor {
        // The operator stopped it: the lease owes nothing.
        Actor::Controller(_) => payments::waive(execution.id),
        // The consumer pays for the hours it ran, as when it ends a lease early.
        _ if matches!(execution.phase, Preparing | Available) => {
            end_booking_now(now, &mut execution)
        }
        _ => {}
    }
    match execution.phase {
        Accepted | Waiting => execution::transition(now, &actor, &mut execution, Cancelled, &why)?,
        _ => release(rt, &actor, &mut execution, &why, Cancelled, &why)?,
    }
    queue::rearm(rt);
    Ok(as_seen(rt, execution))
}

/// Moves the lease's end later, within its open offer (on the offer's grid) and the policy's
/// longest lease, when nothing else is booked on the item until then. Its consumer only.
pub fn extend(rt: &impl Runtime, arg: ExtendArg) -> Result<Execution, MarketError> {
    let now = rt.time();
    let (mut execution, new_end) = extend_checks(rt, &arg)?;
    let actor = Actor::Consumer(execution.consumer);

    // The booking starting at the same time is replaced.
    store::book(
        execution.item_id,
        Booking {
            start_ns: execution.start_ns,
            end_ns: new_end,
            execution_id: execution.id,
        },
    );
    execution.total_price = extended_price(&execution, new_end);
    execution.end_ns = new_end;
    execution.updated_at_ns = now;
    store::put_execution(&execution);
    record_same_phase(
        now,
        &actor,
        &execution,
        &format!("extended to {}", utc(new_end)),
    );
    let execution_id = execution.id;
    queue::schedule(rt, new_end, Task::EndLease { execution_id });
    Ok(as_seen(rt, execution))
}

/// Everything `extend` checks, changing nothing: the lease and its new end (on the offer's
/// grid). Its price then is [`extended_price`].
pub(super) fn extend_checks(
    rt: &impl Runtime,
    arg: &ExtendArg,
) -> Result<(Execution, u64), MarketError> {
    let execution = execution::get(arg.execution_id)?;
    consumer_actor(rt, &execution)?;
    if !matches!(execution.phase, Accepted | Waiting | Preparing | Available) {
        return Err(wrong_phase(execution.phase, "extend"));
    }
    if execution.reclaim.is_some() {
        return Err(MarketError::InvalidArgument {
            message: format!("lease {} is being reclaimed by its provider", execution.id),
        });
    }
    let offer = offers::get(execution.offer_id)?;
    offers::check_open(&offer)?;
    let grid = offers::Grid::of(&offer);
    let new_end = grid.up(arg.new_end_ns).min(offer.end_ns);
    if arg.new_end_ns <= execution.end_ns {
        return Err(MarketError::InvalidWindow {
            message: format!(
                "the new end must be after the current end, {}",
                utc(execution.end_ns)
            ),
        });
    }
    if arg.new_end_ns > offer.end_ns {
        return Err(MarketError::InvalidWindow {
            message: format!("offer {} ends at {}", offer.id, utc(offer.end_ns)),
        });
    }
    let max_seconds = store::policies().max_lease_seconds;
    if new_end - execution.start_ns > max_seconds.saturating_mul(SECOND_NS) {
        return Err(MarketError::LeaseTooLong { max_seconds });
    }
    if let Some(booking) = store::overlapping_booking(execution.item_id, execution.end_ns, new_end)
    {
        return Err(MarketError::Booked {
            execution_id: booking.execution_id,
        });
    }
    Ok((execution, new_end))
}

/// The lease's price once it ends at `new_end`.
pub(super) fn extended_price(execution: &Execution, new_end: u64) -> u64 {
    execution
        .price_per_hour
        .saturating_mul(billed_hours(execution.start_ns, new_end))
}

/// Ends a running lease now (billed to the started hour) and releases it. Its consumer only.
pub fn end_now(rt: &impl Runtime, execution_id: u64) -> Result<Execution, MarketError> {
    let now = rt.time();
    let mut execution = execution::get(execution_id)?;
    let actor = consumer_actor(rt, &execution)?;
    if !matches!(execution.phase, Preparing | Available) {
        return Err(wrong_phase(execution.phase, "end"));
    }
    end_booking_now(now, &mut execution);
    release(
        rt,
        &actor,
        &mut execution,
        "ended early by the consumer",
        Completed,
        REVOKED,
    )?;
    queue::rearm(rt);
    Ok(as_seen(rt, execution))
}

/// A running lease ends now: its unused time goes back to the offer at once (the booking ends
/// now, a nonempty window, while the item is cleaned; the final phase frees the rest) and it
/// is billed to the started hour. The caller stores it (`release` does).
fn end_booking_now(now: u64, execution: &mut Execution) {
    execution.end_ns = now.max(execution.start_ns + 1);
    store::book(
        execution.item_id,
        Booking {
            start_ns: execution.start_ns,
            end_ns: execution.end_ns,
            execution_id: execution.id,
        },
    );
    execution.total_price = execution
        .price_per_hour
        .saturating_mul(billed_hours(execution.start_ns, execution.end_ns));
}

/// The actor for the execution's consumer, if that is the caller.
fn consumer_actor(rt: &impl Runtime, execution: &Execution) -> Result<Actor, MarketError> {
    let caller = rt.caller();
    if caller != execution.consumer {
        return Err(not_yours(execution.id));
    }
    Ok(Actor::Consumer(caller))
}

fn check_offer_open(offer_id: u64) -> Result<(), MarketError> {
    offers::check_open(&offers::get(offer_id)?)
}
