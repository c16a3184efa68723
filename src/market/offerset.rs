//! Offersets (ExecutionBroker): a consumer's request validated, checked against policies and
//! matched against open offers; each match becomes an execution in OFFERED that holds its item
//! (a booking in its calendar) until the offerset expires or one of its offers is accepted.
//!
//! A request that policies refuse, or that nothing matches, is still stored, with result No,
//! status Expired and messages that say why: the consumer can read back what happened.

use super::audit::{self, Change};
use super::index::{self, OpenOffer};
use super::store::{self, Booking};
use super::types::*;
use super::MarketError;
use super::{check_text, execution, lease, policy, sku};
use crate::manager::{self, Task};
use crate::runtime::Runtime;
use crate::time::{utc, SECOND_NS};
use candid::Principal;

/// The shortest lease anyone may ask for.
pub const MIN_LEASE_SECONDS: u64 = 60;
/// How far in the past a requested start may be (clock skew between client and IC).
const START_SKEW_NS: u64 = 60 * SECOND_NS;
/// Offers an offerset returns when the request names no count.
const DEFAULT_OFFERS: u32 = 3;

/// A lease's window, `[start_ns, end_ns)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start_ns: u64,
    pub end_ns: u64,
}

/// An open offer that fits a request, with its item and the window it would be leased for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    pub offer: OpenOffer,
    pub item: Item,
    pub window: Window,
}

/// What every execution made for one request shares.
pub struct Terms {
    pub consumer: Principal,
    pub project: String,
    pub image: String,
    pub offerset_id: Option<u64>,
    /// Until when an OFFERED execution holds its item.
    pub expires_at_ns: u64,
}

/// A consumer's request: refused with a typed error (changing nothing) when malformed or over
/// quota; otherwise stored, with Yes and its offers held, or No and messages saying why.
pub fn request(
    rt: &impl Runtime,
    mut request: ResourceRequest,
) -> Result<OffersetView, MarketError> {
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

    // Validated: from here on every outcome is stored.
    let id = store::next_offerset_id();
    let refusals = policy_refusals(&policies, &request.image, request.duration_seconds);
    let (matches, messages) = if refusals.is_empty() {
        // Without a start, each offer is taken as soon as it (and its item) can start.
        let asap = request.start_ns.is_none();
        find(now, &request, window, asap, count as usize)
    } else {
        (Vec::new(), refusals)
    };
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
        manager::schedule(rt, expires_at_ns, Task::ExpireOfferset { offerset_id: id });
        format!("{} offers held until {}", matches.len(), utc(expires_at_ns))
    };
    store::put_offerset(&offerset);
    record(now, &actor, &offerset, "", &why);
    Ok(OffersetView { offerset, offers })
}

/// The window `[start, start + duration)`, `start` defaulting to now; refuses short leases,
/// starts in the past and windows past the end of time. Shared with `lease::lease_by_sku`.
pub fn lease_window(
    now: u64,
    start_ns: Option<u64>,
    duration_seconds: u64,
) -> Result<Window, MarketError> {
    if duration_seconds < MIN_LEASE_SECONDS {
        return Err(MarketError::InvalidArgument {
            message: format!(
                "duration_seconds must be at least {MIN_LEASE_SECONDS}, got {duration_seconds}"
            ),
        });
    }
    let start_ns = start_ns.unwrap_or(now);
    if start_ns.saturating_add(START_SKEW_NS) < now {
        return Err(MarketError::InvalidWindow {
            message: format!(
                "the start is {} s in the past; at most {} s is allowed",
                (now - start_ns) / SECOND_NS,
                START_SKEW_NS / SECOND_NS
            ),
        });
    }
    let end_ns = duration_seconds
        .checked_mul(SECOND_NS)
        .and_then(|duration| start_ns.checked_add(duration))
        .ok_or_else(|| MarketError::InvalidWindow {
            message: "start + duration is past the end of representable time".into(),
        })?;
    Ok(Window { start_ns, end_ns })
}

/// Refuses a consumer who holds as many active leases as the policy allows.
pub fn check_active_leases(consumer: &Principal, policies: &Policies) -> Result<(), MarketError> {
    if store::usage(consumer).active_leases >= policies.max_active_leases_per_principal {
        return Err(MarketError::QuotaExceeded {
            what: "active leases".into(),
            max: policies.max_active_leases_per_principal,
        });
    }
    Ok(())
}

/// FAIL messages for the policies a request breaks; empty when it breaks none.
pub fn policy_refusals(policies: &Policies, image: &str, duration_seconds: u64) -> Vec<Message> {
    let mut refusals = Vec::new();
    if !policy::image_allowed(policies, image) {
        refusals.push(message(
            Level::Fail,
            format!(
                "the image \"{image}\" is not among the {} images allowed here",
                policies.allowed_images.len()
            ),
        ));
    }
    if duration_seconds > policies.max_lease_seconds {
        refusals.push(message(
            Level::Fail,
            format!(
                "a lease may last at most {} s; {duration_seconds} s were asked for",
                policies.max_lease_seconds
            ),
        ));
    }
    refusals
}

/// Why open offers were passed over, to tell a consumer who got nothing.
#[derive(Default)]
struct Skipped {
    examined: u32,
    too_small: u32,
    other_kind: u32,
    window: u32,
    price: u32,
    booked: u32,
    not_ready: u32,
}

/// Up to `count` open offers that fit `request` (its `sku` in canonical form) for `window`,
/// cheapest first, at most one per item, none whose item is booked (held or leased) in the
/// window, and for a window starting by `now` only items Available now (a rebuilding item
/// would start the lease late); and messages about the search (a FAIL and counts of what was
/// skipped when nothing fits). With `asap`, an offer starting after `window` starts is taken
/// from its own start: the window moves later, keeping its length.
pub fn find(
    now: u64,
    request: &ResourceRequest,
    window: Window,
    asap: bool,
    count: usize,
) -> (Vec<Match>, Vec<Message>) {
    let mut found: Vec<Match> = Vec::new();
    let mut skipped = Skipped::default();
    index::for_each_cheapest(|offer| {
        skipped.examined += 1;
        let window = if asap && offer.start_ns > window.start_ns {
            let length = window.end_ns - window.start_ns;
            Window {
                start_ns: offer.start_ns,
                end_ns: offer.start_ns.saturating_add(length),
            }
        } else {
            window
        };
        if !big_enough(request, offer) {
            skipped.too_small += 1;
        } else if request.sku.as_ref().is_some_and(|sku| *sku != offer.sku)
            || request
                .resource_class
                .as_ref()
                .is_some_and(|class| *class != offer.resource_class)
        {
            skipped.other_kind += 1;
        } else if offer.start_ns > window.start_ns || offer.end_ns < window.end_ns {
            skipped.window += 1;
        } else if request
            .max_price_per_hour
            .is_some_and(|max| offer.price_per_hour > max)
        {
            skipped.price += 1;
        } else if found.iter().any(|m| m.item.id == offer.item_id) {
            // A cheaper offer of the same item is already chosen.
        } else if store::overlapping_booking(offer.item_id, window.start_ns, window.end_ns)
            .is_some()
        {
            skipped.booked += 1;
        } else if let Some(item) = store::item(offer.item_id) {
            if window.start_ns <= now && item.status != ItemStatus::Available {
                skipped.not_ready += 1;
            } else {
                found.push(Match {
                    offer: offer.clone(),
                    item,
                    window,
                });
            }
        }
        found.len() < count
    });
    let messages = if found.is_empty() {
        nothing_found(&skipped)
    } else {
        let mut messages = vec![message(
            Level::Info,
            format!("{} offers found, cheapest first", found.len()),
        )];
        if found.len() < count {
            messages.push(message(
                Level::Info,
                format!("{count} offers were asked for; no more match"),
            ));
        }
        messages
    };
    (found, messages)
}

fn big_enough(request: &ResourceRequest, offer: &OpenOffer) -> bool {
    offer.cores >= request.min_cores.unwrap_or(0)
        && offer.memory_mb >= request.min_memory_mb.unwrap_or(0)
        && offer.storage_gb >= request.min_storage_gb.unwrap_or(0)
        && offer.gpus >= request.min_gpus.unwrap_or(0)
}

fn nothing_found(skipped: &Skipped) -> Vec<Message> {
    let mut messages = vec![message(
        Level::Fail,
        "no open offer matches the request".into(),
    )];
    for (n, why) in [
        (
            skipped.too_small,
            "have fewer cores, memory, storage or GPUs than asked",
        ),
        (skipped.other_kind, "are of another SKU or resource class"),
        (skipped.window, "do not cover the requested window"),
        (skipped.price, "cost more than the maximum price"),
        (
            skipped.booked,
            "are on items already held or leased in the window",
        ),
        (
            skipped.not_ready,
            "are on items not ready to start now (being rebuilt)",
        ),
    ] {
        if n > 0 {
            messages.push(message(Level::Info, format!("{n} open offers {why}")));
        }
    }
    messages.push(message(
        Level::Debug,
        format!("{} open offers examined", skipped.examined),
    ));
    messages
}

fn message(level: Level, text: String) -> Message {
    Message { level, text }
}

/// Creates the execution in OFFERED for a match and books its window on the item.
pub fn hold(now: u64, terms: &Terms, m: &Match, why: &str) -> Execution {
    let Window { start_ns, end_ns } = m.window;
    let execution = Execution {
        id: store::next_execution_id(),
        offerset_id: terms.offerset_id,
        offer_id: m.offer.offer_id,
        item_id: m.item.id,
        provider_pem: m.item.provider_pem.clone(),
        sku: m.item.sku.clone(),
        resource_type: m.item.resource_type.clone(),
        resource_uuid: m.item.resource_uuid.clone(),
        attributes: m.item.attributes.clone(),
        consumer: terms.consumer,
        project: terms.project.clone(),
        image: terms.image.clone(),
        start_ns,
        end_ns,
        price_per_hour: m.offer.price_per_hour,
        total_price: m
            .offer
            .price_per_hour
            .saturating_mul(super::billed_hours(start_ns, end_ns)),
        phase: Phase::Offered,
        phase_since_ns: now,
        reason: None,
        expires_at_ns: terms.expires_at_ns,
        lessee_key: None,
        consumer_meta: None,
        procurement_meta: Some(Vec::new()),
        created_at_ns: now,
        updated_at_ns: now,
    };
    store::put_execution(&execution);
    store::book(
        execution.item_id,
        Booking {
            start_ns,
            end_ns,
            execution_id: execution.id,
        },
    );
    audit::record(
        now,
        &Actor::Consumer(terms.consumer),
        Change {
            entity: Entity::Execution(execution.id),
            from: "",
            to: Phase::Offered.name(),
            why,
            consumer: Some(terms.consumer),
            provider_pem: &execution.provider_pem,
        },
    );
    execution
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

/// The manager's task at an offerset's expiry: OFFERED executions become EXPIRED and release
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

/// Fixtures for the market's tests: a provider with delegated principal, consumers, items,
/// offers, and a snapshot of everything a refused call must leave unchanged.
#[cfg(test)]
pub(super) mod testing {
    use super::super::{delegation, inventory, offers};
    use super::*;
    use crate::catalog::provider::ProviderKeyInput;
    use crate::catalog::signing;
    use crate::runtime::FakeRuntime;

    pub const SECRET: [u8; 32] = [7; 32];
    pub const HOUR: u64 = crate::time::HOUR_NS;
    pub const MINUTE: u64 = 60 * SECOND_NS;

    pub fn provider() -> Principal {
        Principal::from_slice(&[2; 29])
    }

    pub fn alice() -> Principal {
        Principal::from_slice(&[1; 29])
    }

    pub fn bob() -> Principal {
        Principal::from_slice(&[3; 29])
    }

    pub fn admin() -> Principal {
        Principal::from_slice(&[4; 29])
    }

    pub fn key_input() -> ProviderKeyInput {
        ProviderKeyInput::Raw(signing::provider_of(&SECRET).as_bytes().to_vec().into())
    }

    /// A runtime whose `provider()` acts for the provider, `admin()` is a controller and the
    /// caller is `alice()`.
    pub fn market() -> FakeRuntime {
        let rt = FakeRuntime::new();
        rt.controllers.borrow_mut().push(admin());
        let arg = delegation::signed(&SECRET, &FakeRuntime::CANISTER_ID, provider(), true, 1);
        delegation::delegate(&rt, arg).unwrap();
        rt.caller.set(alice());
        rt
    }

    /// Runs `f` as `who`, then restores the caller.
    pub fn calling<R>(rt: &FakeRuntime, who: Principal, f: impl FnOnce() -> R) -> R {
        let before = rt.caller.get();
        rt.caller.set(who);
        let result = f();
        rt.caller.set(before);
        result
    }

    pub fn item(rt: &FakeRuntime, uuid: &str, sku: &str, cores: u32) -> Item {
        let input = ItemInput {
            resource_type: "ironic_node".into(),
            resource_uuid: uuid.into(),
            sku: sku.into(),
            attributes: Attributes {
                cores,
                memory_mb: 1024 * u64::from(cores),
                resource_class: "baremetal".into(),
                ..Attributes::default()
            },
            offering_key: None,
        };
        let arg = InventoryRegisterArg {
            provider: key_input(),
            items: vec![input],
        };
        calling(rt, provider(), || inventory::register(rt, arg)).unwrap()[0].clone()
    }

    pub fn offer(rt: &FakeRuntime, item_id: u64, start_ns: u64, end_ns: u64, price: u64) -> Offer {
        let arg = OfferCreateArg {
            provider: key_input(),
            item_id,
            start_ns,
            end_ns,
            price_per_hour: price,
            properties: vec![Property {
                key: "region".into(),
                value: "moc".into(),
            }],
        };
        calling(rt, provider(), || offers::create(rt, arg)).unwrap()
    }

    /// An item of "2C.small" with 8 cores offered for a day from now at `price`.
    pub fn offered(rt: &FakeRuntime, uuid: &str, price: u64) -> (Item, Offer) {
        let item = item(rt, uuid, "2C.small", 8);
        let now = rt.time.get();
        let offer = offer(rt, item.id, now, now + 24 * HOUR, price);
        (item, offer)
    }

    /// An hour from now, as soon as possible.
    pub fn ask(duration_seconds: u64) -> ResourceRequest {
        ResourceRequest {
            duration_seconds,
            image: "ubuntu-24.04".into(),
            ..ResourceRequest::default()
        }
    }

    /// Advances the clock to `at` and runs the manager's due tasks.
    pub fn run_at(rt: &FakeRuntime, at: u64) {
        rt.time.set(at);
        manager::run_due(rt, || true);
    }

    /// Everything a refused call must leave as it was.
    pub fn snapshot() -> String {
        let meta = store::meta();
        let mut executions = Vec::new();
        store::for_each_execution(|e| executions.push(e));
        let mut items = Vec::new();
        store::for_each_item(|item| items.push(item));
        let mut all_offers = Vec::new();
        store::for_each_offer(|offer| all_offers.push(offer));
        let offersets: Vec<_> = (1..meta.next_offerset).map(store::offerset).collect();
        let bookings: Vec<_> = items.iter().map(|i| store::item_bookings(i.id)).collect();
        let usage: Vec<_> = [alice(), bob()].iter().map(store::usage).collect();
        format!(
            "{:?}",
            (
                audit::len(),
                meta,
                executions,
                items,
                all_offers,
                offersets,
                bookings,
                usage,
                manager::queue_len(),
                index::len()
            )
        )
    }

    /// The phases an execution went through, from its audit entries.
    pub fn phases(execution_id: u64) -> Vec<String> {
        (1..=audit::len())
            .filter_map(audit::entry)
            .filter(|e| e.entity == Entity::Execution(execution_id) && e.from != e.to)
            .map(|e| e.to)
            .collect()
    }
}

#[cfg(test)]
mod tests;
