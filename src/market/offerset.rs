//! Offersets (ExecutionBroker): a consumer's request validated, checked against policies and
//! matched against open offers; each match becomes an execution in OFFERED that holds its item
//! (a booking in its calendar) until the offerset expires or one of its offers is accepted.
//!
//! A request that policies refuse, or that nothing matches, is still stored, with result No,
//! status Expired and messages that say why: the consumer can read back what happened.

mod deposits;
pub mod fit;
mod holds;
mod limits;
mod matching;
mod refusals;
mod window;

pub use deposits::request_paying;
pub use holds::{hold, Terms};
pub use limits::{held_cap, set_provider_access, HoldLimits, MAX_PROVIDER_LISTED};
pub use matching::{find_holds, Match};
pub use refusals::{check_active_leases, policy_refusals};
pub use window::{lease_window, Window, MIN_LEASE_SECONDS};

use super::audit::{self, Change};
use super::retention::REFUSED_RETENTION_NS;
use super::store;
use super::types::*;
use super::MarketError;
use super::{check_text, execution, lease, sku};
use crate::queue::{self, Task};
use crate::runtime::Runtime;
use crate::time::{utc, SECOND_NS};
use candid::Principal;

/// Offers an offerset returns when the request names no count.
const DEFAULT_OFFERS: u32 = 3;

/// A request checked and matched, nothing written yet.
struct Prepared {
    request: ResourceRequest,
    policies: Policies,
    matches: Vec<Match>,
    messages: Vec<Message>,
}

/// A consumer's request: refused with a typed error (changing nothing) when malformed or over
/// quota; otherwise stored, with Yes and its offers held, or No and messages saying why.
pub fn request(rt: &impl Runtime, request: ResourceRequest) -> Result<OffersetView, MarketError> {
    let prepared = prepare(rt, request)?;
    Ok(store_offerset(rt, prepared))
}

/// At most how many offers `request` may hold (0 when policies refuse it), writing nothing
/// and matching nothing: what a deposit per hold is asked for.
pub fn holds_asked(rt: &impl Runtime, request: ResourceRequest) -> Result<u32, MarketError> {
    let checked = check(rt, request)?;
    Ok(if checked.refusals.is_empty() {
        checked.count
    } else {
        0
    })
}

/// A request that passed the checks, before matching.
struct Checked {
    request: ResourceRequest,
    policies: Policies,
    window: Window,
    /// Offers to find: the request's, within the caller's hold caps.
    count: u32,
    held_warning: Option<Message>,
    /// Policies that refuse it (result No), if any.
    refusals: Vec<Message>,
}

/// Checks `request` and finds its matches, writing nothing.
fn prepare(rt: &impl Runtime, request: ResourceRequest) -> Result<Prepared, MarketError> {
    let Checked {
        request,
        policies,
        window,
        count,
        held_warning,
        refusals,
    } = check(rt, request)?;
    let (matches, messages) = if refusals.is_empty() {
        // Without a start, each offer is taken as soon as it (and its item) can start.
        let asap = request.start_ns.is_none();
        let mut limits = HoldLimits::new(rt.caller(), &policies);
        let (matches, mut messages) = find_holds(
            rt.time(),
            &request,
            window,
            asap,
            count as usize,
            &mut limits,
        );
        messages.extend(held_warning);
        (matches, messages)
    } else {
        (Vec::new(), refusals)
    };
    Ok(Prepared {
        request,
        policies,
        matches,
        messages,
    })
}

/// Everything a request must pass before it is matched: a typed error otherwise.
fn check(rt: &impl Runtime, mut request: ResourceRequest) -> Result<Checked, MarketError> {
    let now = rt.time();
    let consumer = rt.caller();
    if consumer == Principal::anonymous() {
        return Err(MarketError::NotAuthorized {
            message: "the anonymous principal cannot request offers".into(),
        });
    }
    let policies = store::policies();
    let window = lease_window(now, request.start_ns, request.duration_seconds)?;
    check_text("image", &request.image, false)?;
    if let Some(given) = &request.sku {
        // Matching compares canonical names, so "2c.SMALL" finds "2C.small" items.
        request.sku = Some(sku::canonical(given)?);
    }
    if let Some(class) = &request.resource_class {
        check_text("resource_class", class, false)?;
    }
    if let Some(project) = &request.project {
        check_text("project", project, false)?;
    }
    let count = request.offers.unwrap_or(DEFAULT_OFFERS);
    if count == 0 {
        return Err(MarketError::InvalidArgument {
            message: "offers must be at least 1".into(),
        });
    }
    if count > policies.max_offers_per_offerset {
        return Err(MarketError::TooMany {
            what: "offers".into(),
            max: policies.max_offers_per_offerset,
        });
    }
    let usage = store::usage(&consumer);
    if usage.open_offersets >= policies.max_open_offersets_per_principal {
        return Err(MarketError::QuotaExceeded {
            what: "open offersets".into(),
            max: policies.max_open_offersets_per_principal,
        });
    }
    check_active_leases(&consumer, &policies)?;
    let (count, held_warning) = limits::offers_allowed(&consumer, &policies, count)?;

    let mut refusals = policy_refusals(&policies, &request.image, request.duration_seconds);
    refusals.extend(limits::hold_refusals(&policies, request.duration_seconds));
    Ok(Checked {
        request,
        policies,
        window,
        count,
        held_warning,
        refusals,
    })
}

/// Stores a prepared request: every outcome is stored, its matches held.
fn store_offerset(rt: &impl Runtime, prepared: Prepared) -> OffersetView {
    let Prepared {
        request,
        policies,
        matches,
        messages,
    } = prepared;
    let now = rt.time();
    let consumer = rt.caller();
    let id = store::next_offerset_id();
    let actor = Actor::Consumer(consumer);
    let mut offerset = Offerset {
        id,
        consumer,
        request: request.clone(),
        result: OffersetResult::No,
        execution_ids: Vec::new(),
        messages,
        status: OffersetStatus::Expired,
        created_at_ns: now,
        expires_at_ns: now,
    };
    let mut offers = Vec::new();
    let why = if matches.is_empty() {
        offerset
            .messages
            .iter()
            .find(|m| m.level == Level::Fail)
            .map_or_else(|| "nothing offered".to_string(), |m| m.text.clone())
    } else {
        let expires_at_ns =
            now.saturating_add(policies.offer_ttl_seconds.saturating_mul(SECOND_NS));
        let terms = Terms {
            consumer,
            project: request
                .project
                .clone()
                .unwrap_or_else(|| consumer.to_text()),
            image: request.image.clone(),
            offerset_id: Some(id),
            expires_at_ns,
        };
        let why = format!("offered in offerset {id}");
        for m in &matches {
            let execution = hold(now, &terms, m, &why);
            offerset.execution_ids.push(execution.id);
            offers.push(lease::as_seen(rt, execution));
        }
        offerset.result = OffersetResult::Yes;
        offerset.status = OffersetStatus::Open;
        offerset.expires_at_ns = expires_at_ns;
        store::update_usage(&consumer, |usage| usage.open_offersets += 1);
        queue::schedule(rt, expires_at_ns, Task::ExpireOfferset { offerset_id: id });
        format!("{} offers held until {}", matches.len(), utc(expires_at_ns))
    };
    if offerset.result == OffersetResult::No {
        // Nothing is held and the quotas do not count it: only a retention bounds it.
        let forget_at = now.saturating_add(REFUSED_RETENTION_NS);
        queue::schedule(rt, forget_at, Task::ForgetOfferset { offerset_id: id });
    }
    store::put_offerset(&offerset);
    record(now, &actor, &offerset, "", &why);
    OffersetView { offerset, offers }
}

/// The offerset with its offers, for its consumer and controllers.
pub fn get(rt: &impl Runtime, id: u64) -> Result<OffersetView, MarketError> {
    let offerset = store::offerset(id).ok_or(MarketError::UnknownOfferset { id })?;
    let caller = rt.caller();
    if offerset.consumer != caller && !rt.is_controller(&caller) {
        return Err(MarketError::NotAuthorized {
            message: format!("offerset {id} is not the caller's"),
        });
    }
    let offers = offerset
        .execution_ids
        .iter()
        .filter_map(|id| store::execution(*id))
        .map(|execution| lease::as_seen(rt, execution))
        .collect();
    Ok(OffersetView { offerset, offers })
}

/// The queue's task at an offerset's expiry: OFFERED executions become EXPIRED and release
/// their holds. Does nothing once the offerset is accepted or expired, or before its time.
pub fn expire(rt: &impl Runtime, offerset_id: u64) {
    let now = rt.time();
    let Some(mut offerset) = store::offerset(offerset_id) else {
        return;
    };
    if offerset.status != OffersetStatus::Open || offerset.expires_at_ns > now {
        return;
    }
    let ttl = (offerset.expires_at_ns - offerset.created_at_ns) / SECOND_NS;
    let why = format!("not accepted within {ttl} s");
    close(now, &Actor::Canister, &offerset, Phase::Expired, &why);
    let from = status_name(offerset.status);
    offerset.status = OffersetStatus::Expired;
    store::put_offerset(&offerset);
    store::update_usage(&offerset.consumer, |usage| {
        usage.open_offersets = usage.open_offersets.saturating_sub(1)
    });
    record(
        now,
        &Actor::Canister,
        &offerset,
        from,
        "no offer was accepted in time",
    );
}

/// Called by `lease::accept` once `execution_id` is accepted: its siblings still OFFERED are
/// rejected (their holds released) and the offerset is Accepted.
pub fn settle(now: u64, actor: &Actor, offerset_id: u64, execution_id: u64) {
    let Some(mut offerset) = store::offerset(offerset_id) else {
        return;
    };
    close(
        now,
        actor,
        &offerset,
        Phase::Rejected,
        "a sibling offer was accepted",
    );
    if offerset.status == OffersetStatus::Open {
        offerset.status = OffersetStatus::Accepted { execution_id };
        store::put_offerset(&offerset);
        store::update_usage(&offerset.consumer, |usage| {
            usage.open_offersets = usage.open_offersets.saturating_sub(1)
        });
        let why = format!("execution {execution_id} was accepted");
        record(
            now,
            actor,
            &offerset,
            status_name(OffersetStatus::Open),
            &why,
        );
    }
}

/// Moves the offerset's executions still OFFERED to `to` (Expired or Rejected).
fn close(now: u64, actor: &Actor, offerset: &Offerset, to: Phase, why: &str) {
    for id in &offerset.execution_ids {
        if let Some(mut execution) = store::execution(*id) {
            if execution.phase == Phase::Offered {
                // OFFERED may always become EXPIRED or REJECTED: this cannot be refused.
                let _ = execution::transition(now, actor, &mut execution, to, why);
            }
        }
    }
}

/// The audit name of an offerset status.
pub fn status_name(status: OffersetStatus) -> &'static str {
    match status {
        OffersetStatus::Open => "OPEN",
        OffersetStatus::Accepted { .. } => "ACCEPTED",
        OffersetStatus::Expired => "EXPIRED",
    }
}

/// Records the offerset's change to its current status. Offersets span providers, so the
/// entry names none: only the consumer and controllers read it.
fn record(now: u64, actor: &Actor, offerset: &Offerset, from: &str, why: &str) {
    audit::record(
        now,
        actor,
        Change {
            entity: Entity::Offerset(offerset.id),
            from,
            to: status_name(offerset.status),
            why,
            consumer: Some(offerset.consumer),
            provider_pem: "",
        },
    );
}

fn message(level: Level, text: String) -> Message {
    Message { level, text }
}

#[cfg(test)]
pub(super) mod testing;

#[cfg(test)]
mod tests;
