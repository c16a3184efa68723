//! Matching a request against open offers, cheapest first, and saying why nothing matched.

use super::fit::{fit, Fit, Search, MAX_LOOKUPS};
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
    /// Starts at another time than asked (the item was booked then).
    pub moved: bool,
}

impl Match {
    /// The price of its window at its offer's rate (hours rounded up), as its hold records.
    pub fn price(&self) -> u64 {
        let Window { start_ns, end_ns } = self.window;
        self.offer
            .price_per_hour
            .saturating_mul(crate::market::billed_hours(start_ns, end_ns))
    }
}

/// Why open offers were passed over, to tell a consumer who got nothing.
#[derive(Default)]
struct Skipped {
    examined: u32,
    too_small: u32,
    other_kind: u32,
    window: u32,
    price: u32,
    private: u32,
    too_short: u32,
    too_long: u32,
    booked: u32,
    /// The walk stopped at the request's budget of calendar lookups.
    out_of_budget: bool,
    not_ready: u32,
    provider_cap: u32,
    not_allowed: u32,
}

/// Up to `count` open offers that fit `request` (its `sku` in canonical form) for `window`,
/// cheapest first, at most one per item; and messages about the search (a FAIL and counts of
/// what was skipped when nothing fits). Each match books only its own window of its offer, on
/// the offer's grid (`fit`). With `asap`, an offer starting after `window` starts is taken from
/// its own start, and a booked item from its first free time: the window moves later, keeping
/// its length. Without it, up to `request.alternative_starts` matches may start at the nearest
/// free time of their offer instead. For a window starting by `now`, only items Available now
/// (a rebuilding item would start the lease late). Items of providers whose hold cap is
/// reached, who do not let the consumer hold their items, and private offers not naming the
/// consumer are passed over.
pub fn find_holds(
    now: u64,
    request: &ResourceRequest,
    window: Window,
    asap: bool,
    count: usize,
    limits: &mut HoldLimits,
) -> (Vec<Match>, Vec<Message>) {
    let mut found: Vec<Match> = Vec::new();
    let mut skipped = Skipped::default();
    let mut alternatives = request.alternative_starts.unwrap_or(0);
    let consumer = limits.consumer();
    let mut budget = MAX_LOOKUPS;
    index::for_each_cheapest(|offer| {
        if budget == 0 {
            // Calendars read to the request's budget: what was found is the answer.
            skipped.out_of_budget = true;
            return false;
        }
        skipped.examined += 1;
        let want = if asap && offer.start_ns > window.start_ns {
            let length = window.end_ns - window.start_ns;
            Window {
                start_ns: offer.start_ns,
                end_ns: offer.start_ns.saturating_add(length),
            }
        } else {
            window
        };
        let search = if asap {
            Search::Later
        } else if alternatives > 0 {
            Search::Nearest { not_before: now }
        } else {
            Search::Exact
        };
        if !big_enough(request, offer) {
            skipped.too_small += 1;
        } else if request.sku.as_ref().is_some_and(|sku| **sku != *offer.sku)
            || request
                .resource_class
                .as_ref()
                .is_some_and(|class| **class != *offer.resource_class)
        {
            skipped.other_kind += 1;
        } else if !offer.rules.visible(&consumer) {
            skipped.private += 1;
        } else if request
            .max_price_per_hour
            .is_some_and(|max| offer.price_per_hour > max)
        {
            skipped.price += 1;
        } else if found.iter().any(|m| m.item.id == offer.item_id) {
            // A cheaper offer of the same item is already chosen.
        } else {
            match fit(offer, want, search, &mut budget) {
                Fit::TooShort => skipped.too_short += 1,
                Fit::Outside => skipped.window += 1,
                Fit::Booked => skipped.booked += 1,
                Fit::Free { window, .. }
                    if window.end_ns - window.start_ns > limits.longest_ns() =>
                {
                    skipped.too_long += 1
                }
                Fit::Free { window, moved } => {
                    if let Some(m) = admit(now, offer, window, moved, limits, &mut skipped) {
                        if moved && !asap {
                            alternatives -= 1;
                        }
                        found.push(m);
                    }
                }
            }
        }
        found.len() < count
    });
    let mut messages = if found.is_empty() {
        nothing_found(&skipped)
    } else {
        found_messages(&found, asap, count)
    };
    if skipped.out_of_budget {
        messages.push(message(
            Level::Info,
            format!(
                "the search stopped after {MAX_LOOKUPS} calendar lookups on items booked at the \
                 time asked; ask for another time, a shorter lease or a narrower kind"
            ),
        ));
    }
    (found, messages)
}

/// The match for a free window, unless its item is not ready or the consumer may not hold it.
fn admit(
    now: u64,
    offer: &OpenOffer,
    window: Window,
    moved: bool,
    limits: &mut HoldLimits,
    skipped: &mut Skipped,
) -> Option<Match> {
    let item = store::item(offer.item_id)?;
    let passed = limits.admit(&item);
    if window.start_ns <= now && item.status != ItemStatus::Available {
        skipped.not_ready += 1;
    } else if passed == Passed::ProviderCap {
        skipped.provider_cap += 1;
    } else if passed == Passed::NotAllowed {
        skipped.not_allowed += 1;
    } else {
        limits.taken(&item);
        return Some(Match {
            offer: offer.clone(),
            item,
            window,
            moved,
        });
    }
    None
}

fn found_messages(found: &[Match], asap: bool, count: usize) -> Vec<Message> {
    let mut messages = vec![message(
        Level::Info,
        format!("{} offers found, cheapest first", found.len()),
    )];
    if !asap {
        for m in found.iter().filter(|m| m.moved) {
            messages.push(message(
                Level::Warn,
                format!(
                    "item {} is booked at the start asked for: offered from {} instead",
                    m.item.id,
                    crate::time::utc(m.window.start_ns)
                ),
            ));
        }
    }
    if found.len() < count {
        messages.push(message(
            Level::Info,
            format!("{count} offers were asked for; no more match"),
        ));
    }
    messages
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
        (skipped.private, "are private to other consumers"),
        (skipped.price, "cost more than the maximum price"),
        (skipped.too_short, "take only longer leases"),
        (
            skipped.too_long,
            "would widen the lease to their time grid past the longest lease or hold allowed",
        ),
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
