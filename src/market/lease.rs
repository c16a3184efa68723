//! Executions once accepted: contracts (FLOCX) and leases (pez). Accept, cancel, extend, end
//! early, the pez lease-by-SKU shortcut, credentials, the manager's start and end, and the
//! views every reader gets through [`as_seen`].
//!
//! Items of type `ironic_node` are provisioned: a lease's start records a deploy
//! (`provision::service::begin_deploy`) and the lease stays PREPARING until the deploy completes
//! ([`provisioned`]: AVAILABLE) or fails ([`provisioning_failed`]: FAILED); its end records an
//! undeploy and the lease stays RELEASING until the node is clean ([`released`]: COMPLETED or
//! CANCELLED, the item available again, or in Maintenance when cleaning failed). For every
//! other type there is no provisioning backend: granting access at the start and revoking it
//! at the end are recorded in the audit log as no-ops, so PREPARING and RELEASING pass within
//! one message. `check_stuck` is the last resort for leases whose provisioning never answers.

use super::audit::{self, Change};
use super::inventory::{self, By};
use super::offerset::{self, Terms};
use super::store::{self, Booking};
use super::types::*;
use super::MarketError;
use super::{check_text, delegation, execution, offers, page_limit, sku};
use crate::manager::{self, Task};
use crate::provision::service as provisioning;
use crate::runtime::Runtime;
use crate::time::{utc, DAY_NS, SECOND_NS};
use candid::Principal;

use Phase::*;

/// X25519 public keys are 32 bytes.
const KEY_BYTES: usize = 32;
/// XSalsa20-Poly1305 (24) or ChaCha20-Poly1305 (12) nonces.
const NONCE_BYTES: [usize; 2] = [24, 12];
/// A sealed box carries at least its 16-byte tag, and credentials are small.
const CIPHERTEXT_BYTES: std::ops::RangeInclusive<usize> = 16..=4096;
const MAX_PROCUREMENT_PROPERTIES: usize = 32;
/// How often a lease whose item is still busy at its start looks again.
const START_RETRY_NS: u64 = 30 * SECOND_NS;
const GRANTED: &str = "access granted (no provisioning backend: recorded no-op)";
const REVOKED: &str = "access revoked (no provisioning backend: recorded no-op)";
/// Why a provisioned lease is COMPLETED once its server is undeployed.
const UNDEPLOYED: &str = "access revoked: the server was undeployed and cleaned";

/// Accepts one offer of an offerset: it becomes the contract (lease), its siblings are rejected,
/// its offer is claimed; the manager starts it at its start and ends it at its end.
pub fn accept(rt: &impl Runtime, arg: AcceptArg) -> Result<Execution, MarketError> {
    let now = rt.time();
    let mut execution = execution::get(arg.execution_id)?;
    let actor = consumer_actor(rt, &execution)?;
    check_key("lessee_key", &arg.lessee_key)?;
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

    claim(now, &actor, &execution)?;
    execution.lessee_key = Some(arg.lessee_key);
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
    Ok(as_seen(rt, execution))
}

/// The pez shortcut: leases one item of the SKU from now, at the cheapest open offer, in one
/// message (OFFERED and ACCEPTED are both recorded). Nothing available is a typed error whose
/// messages say why.
pub fn lease_by_sku(rt: &impl Runtime, arg: LeaseBySkuArg) -> Result<Execution, MarketError> {
    let now = rt.time();
    let consumer = rt.caller();
    if consumer == Principal::anonymous() {
        return Err(MarketError::NotAuthorized {
            message: "the anonymous principal cannot lease".into(),
        });
    }
    let sku = sku::canonical(&arg.sku)?;
    check_key("lessee_key", &arg.lessee_key)?;
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
    let (found, messages) = offerset::find(now, &request, window, false, 1);
    let Some(chosen) = found.first() else {
        return Err(MarketError::NothingAvailable { messages });
    };
    // The index is a cache of stable memory: the offer itself has the last word.
    check_offer_open(chosen.offer.offer_id)?;

    let actor = Actor::Consumer(consumer);
    let terms = Terms {
        consumer,
        project: arg.project.unwrap_or_else(|| consumer.to_text()),
        image: arg.image,
        offerset_id: None,
        expires_at_ns: now,
    };
    let mut execution = offerset::hold(now, &terms, chosen, "matched a lease by SKU");
    claim(now, &actor, &execution)?;
    execution.lessee_key = Some(arg.lessee_key);
    execution::transition(now, &actor, &mut execution, Accepted, "leased by SKU")?;
    schedule_lease(rt, &execution, now);
    Ok(as_seen(rt, execution))
}

/// The execution claims its offer (one offer makes one contract); other OFFERED executions
/// holding other windows of that offer can no longer be accepted, so their holds end now.
fn claim(now: u64, actor: &Actor, execution: &Execution) -> Result<(), MarketError> {
    let (offer_id, id) = (execution.offer_id, execution.id);
    offers::claim(now, actor, offer_id, id)?;
    let why = format!("offer {offer_id} was claimed by execution {id}");
    inventory::reject_holds(
        now,
        actor,
        execution.item_id,
        |other| other.offer_id == offer_id && other.id != id,
        &why,
    )
}

/// Queues the lease's start (at `start_ns`, or at once) and its end.
fn schedule_lease(rt: &impl Runtime, execution: &Execution, start_ns: u64) {
    let execution_id = execution.id;
    manager::schedule(rt, start_ns, Task::StartLease { execution_id });
    manager::schedule(rt, execution.end_ns, Task::EndLease { execution_id });
}

/// Whether the lease's item is provisioned through Ironic (its start and end take time).
fn is_provisioned(execution: &Execution) -> bool {
    execution.resource_type == store::IRONIC_NODE
}

/// The manager's task at a lease's start: once its item is free, PREPARING, then AVAILABLE once
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
        || execution.end_ns <= now
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
        manager::schedule(rt, now + START_RETRY_NS, Task::StartLease { execution_id });
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
    manager::schedule(rt, stuck_at, Task::CheckStuck { execution_id });
    if is_provisioned(&execution) {
        // AVAILABLE (or FAILED) comes from the deploy's steps: `provisioned`.
        provisioning::begin_deploy(rt, &execution);
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
        manager::schedule(rt, now, Task::StartLease { execution_id });
    }
}

/// The manager's task at a lease's end: a running lease is released and COMPLETED, its item
/// rebuilt; one that never started is CANCELLED. Nothing when it was extended (a later task
/// ends it) or is already over.
pub fn finish(rt: &impl Runtime, execution_id: u64) {
    // A task has no caller to tell; a step refused half-way is left to `check_stuck`.
    let _ = try_finish(rt, execution_id);
}

fn try_finish(rt: &impl Runtime, execution_id: u64) -> Result<(), MarketError> {
    let now = rt.time();
    let mut execution = execution::get(execution_id)?;
    if execution.end_ns > now {
        return Ok(());
    }
    let actor = Actor::Canister;
    match execution.phase {
        Accepted | Waiting => execution::transition(
            now,
            &actor,
            &mut execution,
            Cancelled,
            "the lease ended before its item was ready",
        ),
        Preparing | Available => release(
            rt,
            &actor,
            &mut execution,
            "lease ended",
            Completed,
            REVOKED,
        ),
        // OFFERED ends with its offerset, RELEASING in `check_stuck`; final phases stay.
        _ => Ok(()),
    }
}

/// RELEASING, access revoked (a recorded no-op), then `to` (COMPLETED or CANCELLED) with
/// `why_final`; the item is taken back and rebuilt. A provisioned lease stays RELEASING, its
/// item Rebuilding, while its server is undeployed: `released` ends it.
fn release(
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
        manager::schedule(rt, stuck_at, Task::CheckStuck { execution_id });
        provisioning::begin_undeploy(rt, execution, Some(to), why_final);
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
fn take_back(now: u64, actor: &Actor, execution: &Execution) -> Result<bool, MarketError> {
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
    manager::schedule(rt, done_at, Task::FinishRebuild { item_id });
}

/// The manager's task some time after a lease entered PREPARING: one still PREPARING after the
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
        manager::schedule(rt, due, Task::CheckStuck { execution_id });
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
                provisioning::begin_undeploy(rt, &execution, None, "");
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
    execution::transition(now, &actor, &mut execution, Failed, why).is_ok()
        && take_back(now, &actor, &execution).unwrap_or(false)
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
    match execution.phase {
        Accepted | Waiting => execution::transition(now, &actor, &mut execution, Cancelled, &why)?,
        Preparing | Available => release(rt, &actor, &mut execution, &why, Cancelled, &why)?,
        phase => return Err(wrong_phase(phase, "cancel")),
    }
    Ok(as_seen(rt, execution))
}

/// Moves the lease's end later, within its offer and the policy's longest lease, when nothing
/// else is booked on the item until then. Its consumer only.
pub fn extend(rt: &impl Runtime, arg: ExtendArg) -> Result<Execution, MarketError> {
    let now = rt.time();
    let mut execution = execution::get(arg.execution_id)?;
    let actor = consumer_actor(rt, &execution)?;
    if !matches!(execution.phase, Accepted | Waiting | Preparing | Available) {
        return Err(wrong_phase(execution.phase, "extend"));
    }
    let new_end = arg.new_end_ns;
    if new_end <= execution.end_ns {
        return Err(MarketError::InvalidWindow {
            message: format!(
                "the new end must be after the current end, {}",
                utc(execution.end_ns)
            ),
        });
    }
    let offer = offers::get(execution.offer_id)?;
    if new_end > offer.end_ns {
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

    // The booking starting at the same time is replaced.
    store::book(
        execution.item_id,
        Booking {
            start_ns: execution.start_ns,
            end_ns: new_end,
            execution_id: execution.id,
        },
    );
    execution.end_ns = new_end;
    execution.total_price = execution
        .price_per_hour
        .saturating_mul(super::billed_hours(execution.start_ns, new_end));
    execution.updated_at_ns = now;
    store::put_execution(&execution);
    record_same_phase(
        now,
        &actor,
        &execution,
        &format!("extended to {}", utc(new_end)),
    );
    let execution_id = execution.id;
    manager::schedule(rt, new_end, Task::EndLease { execution_id });
    Ok(as_seen(rt, execution))
}

/// Ends a running lease now (billed to the started hour) and releases it. Its consumer only.
pub fn end_now(rt: &impl Runtime, execution_id: u64) -> Result<Execution, MarketError> {
    let now = rt.time();
    let mut execution = execution::get(execution_id)?;
    let actor = consumer_actor(rt, &execution)?;
    if !matches!(execution.phase, Preparing | Available) {
        return Err(wrong_phase(execution.phase, "end"));
    }
    // The final phase frees the booking; `release` stores the new end with it.
    execution.end_ns = now;
    execution.total_price = execution
        .price_per_hour
        .saturating_mul(super::billed_hours(execution.start_ns, now));
    release(
        rt,
        &actor,
        &mut execution,
        "ended early by the consumer",
        Completed,
        REVOKED,
    )?;
    Ok(as_seen(rt, execution))
}

/// The provider gives the lessee its credentials, sealed to the lessee key given at accept.
/// Credentials never sit in plaintext in the canister (whose state node operators can read):
/// only the shape and the recipient of the sealed box are checked, and only the holder of the
/// lessee's secret key can open it.
pub fn set_consumer_meta(
    rt: &impl Runtime,
    arg: SetConsumerMetaArg,
) -> Result<Execution, MarketError> {
    let now = rt.time();
    let (mut execution, actor) = provider_execution(rt, &arg.provider, arg.execution_id)?;
    if !execution.phase.is_active_lease() {
        return Err(wrong_phase(execution.phase, "set consumer meta"));
    }
    let sealed = arg.sealed;
    if execution.lessee_key.as_deref().map(|key| key.as_slice())
        != Some(sealed.recipient_key.as_slice())
    {
        return Err(MarketError::invalid(
            "the box is sealed to another key than the lessee's",
        ));
    }
    check_key("ephemeral_key", &sealed.ephemeral_key)?;
    if !NONCE_BYTES.contains(&sealed.nonce.len()) {
        return Err(MarketError::invalid(format!(
            "nonce must be 24 or 12 bytes, got {}",
            sealed.nonce.len()
        )));
    }
    if !CIPHERTEXT_BYTES.contains(&sealed.ciphertext.len()) {
        return Err(MarketError::invalid(format!(
            "ciphertext must be {} to {} bytes, got {}",
            CIPHERTEXT_BYTES.start(),
            CIPHERTEXT_BYTES.end(),
            sealed.ciphertext.len()
        )));
    }
    execution.consumer_meta = Some(sealed);
    execution.updated_at_ns = now;
    store::put_execution(&execution);
    record_same_phase(
        now,
        &actor,
        &execution,
        "credentials sealed to the lessee set",
    );
    Ok(as_seen(rt, execution))
}

/// The provider records how it procured the lease; only its delegates and controllers see it.
pub fn set_procurement_meta(
    rt: &impl Runtime,
    arg: SetProcurementMetaArg,
) -> Result<Execution, MarketError> {
    let now = rt.time();
    let (mut execution, actor) = provider_execution(rt, &arg.provider, arg.execution_id)?;
    if arg.meta.len() > MAX_PROCUREMENT_PROPERTIES {
        return Err(MarketError::TooMany {
            what: "procurement properties".into(),
            max: MAX_PROCUREMENT_PROPERTIES as u32,
        });
    }
    for property in &arg.meta {
        check_text("property key", &property.key, false)?;
        check_text("property value", &property.value, true)?;
    }
    execution.procurement_meta = Some(arg.meta);
    execution.updated_at_ns = now;
    store::put_execution(&execution);
    record_same_phase(now, &actor, &execution, "procurement details set");
    Ok(as_seen(rt, execution))
}

/// The execution, for its consumer, its provider's delegates and controllers.
pub fn get(rt: &impl Runtime, id: u64) -> Result<Execution, MarketError> {
    readable(rt, id)
}

/// The caller's executions as consumer, or a provider's as its delegate, in id order.
pub fn list(rt: &impl Runtime, arg: ExecutionsListArg) -> Result<ExecutionPage, MarketError> {
    // Never a consumer nor a delegate: refused, as its offerset requests and leases are.
    if rt.caller() == Principal::anonymous() {
        return Err(MarketError::NotAuthorized {
            message: "the anonymous principal has no executions: call with an identity".into(),
        });
    }
    let limit = page_limit(arg.limit)?;
    let ids = |after: u64| -> Result<Vec<u64>, MarketError> {
        Ok(match arg.role {
            Role::Consumer => store::consumer_execution_ids(&rt.caller(), after, limit),
            Role::Provider => {
                let input = arg.provider.as_ref().ok_or_else(|| {
                    MarketError::invalid("provider is required to list a provider's executions")
                })?;
                let (provider, _) = delegation::acting_provider(rt, input)?;
                store::provider_execution_ids(&provider, after, limit)
            }
        })
    };
    let mut executions = Vec::new();
    let mut after = arg.after.unwrap_or(0);
    // The phase filter may pass over whole batches of ids.
    'batches: loop {
        let batch = ids(after)?;
        let Some(&last) = batch.last() else { break };
        for id in batch {
            let Some(execution) = store::execution(id) else {
                continue;
            };
            if arg.phase.is_none_or(|phase| phase == execution.phase) {
                executions.push(as_seen(rt, execution));
                if executions.len() == limit {
                    break 'batches;
                }
            }
        }
        after = last;
    }
    let next = (executions.len() == limit)
        .then(|| executions.last().map(|e| e.id))
        .flatten();
    Ok(ExecutionPage { executions, next })
}

/// The FLOCX contract view of an accepted execution.
pub fn contract(rt: &impl Runtime, id: u64) -> Result<Contract, MarketError> {
    let execution = readable(rt, id)?;
    let status = match execution.phase {
        Offered | Rejected | Expired => {
            return Err(wrong_phase(execution.phase, "view as a contract"))
        }
        Accepted | Waiting => ContractStatus::Open,
        Preparing | Available | Releasing => ContractStatus::Fulfilled,
        Completed | Cancelled | Failed => ContractStatus::Expired,
    };
    let properties = store::offer(execution.offer_id)
        .map(|offer| offer.properties)
        .unwrap_or_default();
    Ok(Contract {
        id: execution.id,
        offer_id: execution.offer_id,
        start_ns: execution.start_ns,
        end_ns: execution.end_ns,
        project: execution.project,
        status,
        properties,
        created_at_ns: execution.created_at_ns,
        updated_at_ns: execution.updated_at_ns,
    })
}

/// The pez lease view of an execution.
pub fn lease(rt: &impl Runtime, id: u64) -> Result<Lease, MarketError> {
    let execution = readable(rt, id)?;
    let status = match execution.phase {
        Offered | Accepted | Waiting => "pending",
        Preparing => "dispensing",
        Available => "dispensed",
        Releasing => "reclaiming",
        Completed => "reclaimed",
        Rejected | Expired | Cancelled => "cancelled",
        Failed => "failed",
    };
    Ok(Lease {
        id: execution.id,
        inventory_id: execution.item_id,
        username: execution.consumer,
        sku: execution.sku,
        lease_duration_days: (execution.end_ns - execution.start_ns).div_ceil(DAY_NS),
        lease_start_ns: execution.start_ns,
        lease_end_ns: execution.end_ns,
        consumer_meta: execution.consumer_meta,
        procurement_meta: execution.procurement_meta,
        task: LeaseTask {
            id: execution.id,
            status: status.into(),
        },
    })
}

/// The execution as the caller may see it: `procurement_meta` only for its provider's delegates
/// and controllers. Every read of an execution goes through here.
pub fn as_seen(rt: &impl Runtime, mut execution: Execution) -> Execution {
    let caller = rt.caller();
    if !rt.is_controller(&caller) && !delegation::caller_acts_for(rt, &execution.provider_pem) {
        execution.procurement_meta = None;
    }
    execution
}

/// The execution, if the caller is its consumer, its provider's delegate or a controller.
fn readable(rt: &impl Runtime, id: u64) -> Result<Execution, MarketError> {
    let execution = execution::get(id)?;
    let caller = rt.caller();
    if execution.consumer != caller
        && !rt.is_controller(&caller)
        && !delegation::caller_acts_for(rt, &execution.provider_pem)
    {
        return Err(not_yours(id));
    }
    Ok(as_seen(rt, execution))
}

/// The actor for the execution's consumer, if that is the caller.
fn consumer_actor(rt: &impl Runtime, execution: &Execution) -> Result<Actor, MarketError> {
    let caller = rt.caller();
    if caller != execution.consumer {
        return Err(not_yours(execution.id));
    }
    Ok(Actor::Consumer(caller))
}

/// The execution on an item of the provider the caller acts for.
fn provider_execution(
    rt: &impl Runtime,
    provider: &crate::catalog::provider::ProviderKeyInput,
    execution_id: u64,
) -> Result<(Execution, Actor), MarketError> {
    let (provider, actor) = delegation::acting_provider(rt, provider)?;
    let execution = execution::get(execution_id)?;
    if store::provider_key(&execution.provider_pem) != provider {
        return Err(MarketError::NotAuthorized {
            message: format!("execution {execution_id} is not on this provider's items"),
        });
    }
    Ok((execution, actor))
}

fn check_offer_open(offer_id: u64) -> Result<(), MarketError> {
    let offer = offers::get(offer_id)?;
    if offer.status != OfferStatus::Open {
        return Err(MarketError::OfferClosed {
            offer_id,
            status: offer.status,
        });
    }
    Ok(())
}

fn check_key(what: &str, key: &[u8]) -> Result<(), MarketError> {
    if key.len() != KEY_BYTES {
        return Err(MarketError::invalid(format!(
            "{what} must be a {KEY_BYTES}-byte X25519 public key, got {} bytes",
            key.len()
        )));
    }
    Ok(())
}

/// Records a change that keeps the phase (an extension, credentials, procurement details).
fn record_same_phase(now: u64, actor: &Actor, execution: &Execution, why: &str) {
    let phase = execution.phase.name();
    audit::record(
        now,
        actor,
        Change {
            entity: Entity::Execution(execution.id),
            from: phase,
            to: phase,
            why,
            consumer: Some(execution.consumer),
            provider_pem: &execution.provider_pem,
        },
    );
}

fn wrong_phase(phase: Phase, action: &str) -> MarketError {
    MarketError::WrongPhase {
        phase,
        action: action.into(),
    }
}

fn not_yours(id: u64) -> MarketError {
    MarketError::NotAuthorized {
        message: format!("execution {id} is not the caller's"),
    }
}

#[cfg(test)]
mod tests;
