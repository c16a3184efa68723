//! Matching a request against open offers, cheapest first, and saying why nothing matched.

use super::limits::{HoldLimits, Passed};
use super::message;
use super::window::Window;
use crate::market::index::{self, OpenOffer};
use crate::market::store;
use crate::market::types::*;

/// An open offer that fits a request, with its item and the window it would be leased for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    pub offer: OpenOffer,
    pub item: Item,
    pub window: Window,
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
    provider_cap: u32,
    not_allowed: u32,
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
    find_within(now, request, window, asap, count, None)
}

/// `find` for matches that become holds: items of providers whose hold cap is reached, or
/// who do not let the consumer hold their items, are passed over.
pub fn find_holds(
    now: u64,
    request: &ResourceRequest,
    window: Window,
    asap: bool,
    count: usize,
    limits: &mut HoldLimits,
) -> (Vec<Match>, Vec<Message>) {
    find_within(now, request, window, asap, count, Some(limits))
}

fn find_within(
    now: u64,
    request: &ResourceRequest,
    window: Window,
    asap: bool,
    count: usize,
    mut limits: Option<&mut HoldLimits>,
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
            let passed = match limits.as_deref_mut() {
                Some(limits) => limits.admit(&item),
                None => Passed::Yes,
            };
            if window.start_ns <= now && item.status != ItemStatus::Available {
                skipped.not_ready += 1;
            } else if passed == Passed::ProviderCap {
                skipped.provider_cap += 1;
            } else if passed == Passed::NotAllowed {
                skipped.not_allowed += 1;
            } else {
                if let Some(limits) = limits.as_deref_mut() {
                    limits.taken(&item);
                }
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
        (
            skipped.provider_cap,
            "are on providers whose items holds may not take more of now",
        ),
        (
            skipped.not_allowed,
            "are on providers that let only their allow-listed consumers hold their items",
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
