//! Offers (FLOCX): an item offered for a window at a price. An offer is an availability
//! window: holds and leases book sub-windows of it in the item's calendar and the rest stays
//! offered. It is Open until its provider withdraws it or its window ends (the task queue
//! expires it); open offers of one item never overlap.

pub(crate) mod terms;

pub use terms::{Grid, Rules, MAX_VISIBLE_TO};

use super::audit::{self, Change};
use super::types::*;
use super::MarketError;
use super::{
    check_text, delegation, index, inventory, page_limit, page_of, retention, store, MAX_SCANNED,
};
use crate::catalog::provider::{ProviderKey, ProviderKeyInput};
use crate::queue::{self, Task};
use crate::runtime::Runtime;
use std::collections::HashMap;

/// Longest offer window.
pub const MAX_WINDOW_NS: u64 = 366 * crate::time::DAY_NS;
/// Most properties one offer may carry.
pub const MAX_PROPERTIES: usize = 32;

/// Most offers one `offers_create` call may carry.
pub const MAX_OFFERS_PER_CALL: usize = 500;

/// Offers one item for a window at a price: a batch of one.
pub fn create(rt: &impl Runtime, arg: OfferCreateArg) -> Result<Offer, MarketError> {
    let OfferCreateArg {
        provider,
        item_id,
        start_ns,
        end_ns,
        price_per_hour,
        properties,
        terms,
    } = arg;
    let input = OfferInput {
        item_id,
        start_ns,
        end_ns,
        price_per_hour,
        properties,
        terms,
    };
    let mut created = create_all(rt, &provider, vec![input], false)?;
    Ok(created.remove(0))
}

/// Offers 1 to `MAX_OFFERS_PER_CALL` windows of the provider's items, in input order, all or
/// none: every offer is checked (against the item's open offers and the batch's earlier ones)
/// before any is written.
pub fn create_batch(rt: &impl Runtime, arg: OffersCreateArg) -> Result<Vec<Offer>, MarketError> {
    if arg.offers.is_empty() {
        return Err(MarketError::InvalidArgument {
            message: "offers must not be empty".into(),
        });
    }
    if arg.offers.len() > MAX_OFFERS_PER_CALL {
        return Err(MarketError::TooMany {
            what: "offers".into(),
            max: MAX_OFFERS_PER_CALL as u32,
        });
    }
    create_all(rt, &arg.provider, arg.offers, true)
}

/// Checks every input, then writes them all: stores, indexes, records and schedules the expiry
/// of each. In a batch, errors about one input name it (`offers[i]`).
fn create_all(
    rt: &impl Runtime,
    provider: &ProviderKeyInput,
    inputs: Vec<OfferInput>,
    batch: bool,
) -> Result<Vec<Offer>, MarketError> {
    let (provider, actor) = delegation::acting_provider(rt, provider)?;
    check_open_offer_cap(inputs.len())?;
    let now = rt.time();
    // Each item is read once, however many of its windows the batch offers.
    let mut items: HashMap<u64, Item> = HashMap::new();
    // The windows checked so far, by item: a later input may not overlap them.
    let mut windows: HashMap<u64, Vec<(usize, u64, u64)>> = HashMap::new();
    for (at, input) in inputs.iter().enumerate() {
        let locate = |error| if batch { in_batch(at, error) } else { error };
        if !items.contains_key(&input.item_id) {
            let item = inventory::owned_item(&provider, input.item_id)?;
            items.insert(item.id, item);
        }
        check_input(now, &items[&input.item_id], input).map_err(locate)?;
        let earlier = windows.entry(input.item_id).or_default();
        if let Some(&(other, _, _)) = earlier
            .iter()
            .find(|&&(_, start, end)| start < input.end_ns && input.start_ns < end)
        {
            return Err(MarketError::InvalidArgument {
                message: format!(
                    "offers[{at}] overlaps offers[{other}]: both offer item {} in one window",
                    input.item_id
                ),
            });
        }
        earlier.push((at, input.start_ns, input.end_ns));
    }
    Ok(inputs
        .into_iter()
        .map(|input| write(rt, now, &actor, &items[&input.item_id], input))
        .collect())
}

/// The canister's global cap on open offers in the matching index: `new` more must fit.
fn check_open_offer_cap(new: usize) -> Result<(), MarketError> {
    let max = crate::config::get().max_open_offers;
    if (index::len() + new) as u64 > max {
        return Err(MarketError::CapacityReached {
            what: "open offers".into(),
            max,
        });
    }
    Ok(())
}

/// Everything one offer must satisfy besides its item being the provider's: an item not
/// being archived, a sound window, sound properties, no overlap with the item's open offers.
fn check_input(now: u64, item: &Item, input: &OfferInput) -> Result<(), MarketError> {
    if item.status == ItemStatus::Archiving {
        return Err(MarketError::InvalidArgument {
            message: format!("item {} is being archived: it cannot be offered", item.id),
        });
    }
    check_window(now, input.start_ns, input.end_ns)?;
    check_properties(&input.properties)?;
    if let Some(given) = &input.terms {
        terms::check(given, input.end_ns - input.start_ns)?;
    }
    if let Some(offer_id) = overlapping_open(now, item.id, input.start_ns, input.end_ns) {
        return Err(MarketError::OfferOverlap { offer_id });
    }
    Ok(())
}

/// Names the batch's input `at` in an error about it.
fn in_batch(at: usize, error: MarketError) -> MarketError {
    match error {
        MarketError::InvalidArgument { message } => MarketError::InvalidArgument {
            message: format!("offers[{at}]: {message}"),
        },
        MarketError::InvalidWindow { message } => MarketError::InvalidWindow {
            message: format!("offers[{at}]: {message}"),
        },
        MarketError::TooMany { what, max } => MarketError::TooMany {
            what: format!("offers[{at}].{what}"),
            max,
        },
        other => other,
    }
}

/// Creates a checked offer.
fn write(rt: &impl Runtime, now: u64, actor: &Actor, item: &Item, input: OfferInput) -> Offer {
    let offer = Offer {
        id: store::next_offer_id(),
        item_id: item.id,
        provider_pem: item.provider_pem.clone(),
        resource_type: item.resource_type.clone(),
        resource_uuid: item.resource_uuid.clone(),
        start_ns: input.start_ns,
        end_ns: input.end_ns,
        price_per_hour: input.price_per_hour,
        properties: input.properties,
        // Terms all absent are the defaults: stored as none.
        terms: input.terms.filter(|t| *t != OfferTerms::default()),
        status: OfferStatus::Open,
        created_at_ns: now,
        updated_at_ns: now,
    };
    store::put_offer(&offer);
    index::sync_offer(&offer, item);
    record(now, actor, &offer, "", "created");
    queue::schedule(rt, offer.end_ns, Task::ExpireOffer { offer_id: offer.id });
    offer
}

fn check_window(now: u64, start_ns: u64, end_ns: u64) -> Result<(), MarketError> {
    let message = if end_ns <= start_ns {
        "the window must end after it starts"
    } else if end_ns <= now {
        "the window ends in the past"
    } else if end_ns - start_ns > MAX_WINDOW_NS {
        "the window may be at most 366 days long"
    } else {
        return Ok(());
    };
    Err(MarketError::InvalidWindow {
        message: message.into(),
    })
}

fn check_properties(properties: &[Property]) -> Result<(), MarketError> {
    if properties.len() > MAX_PROPERTIES {
        return Err(MarketError::TooMany {
            what: "properties".into(),
            max: MAX_PROPERTIES as u32,
        });
    }
    for (i, property) in properties.iter().enumerate() {
        check_text(&format!("properties[{i}].key"), &property.key, false)?;
        check_text(&format!("properties[{i}].value"), &property.value, true)?;
    }
    Ok(())
}

/// An open offer of the item overlapping `[start_ns, end_ns)`. One whose window has ended is
/// expired in all but name (its task is due) and blocks nothing.
fn overlapping_open(now: u64, item_id: u64, start_ns: u64, end_ns: u64) -> Option<u64> {
    store::item_offer_ids(item_id)
        .into_iter()
        .filter_map(store::offer)
        .find(|offer| {
            offer.status == OfferStatus::Open
                && offer.end_ns > now
                && offer.start_ns < end_ns
                && start_ns < offer.end_ns
        })
        .map(|offer| offer.id)
}

/// The provider takes its open offer back; OFFERED executions made from it are rejected.
pub fn withdraw(rt: &impl Runtime, arg: OfferWithdrawArg) -> Result<Offer, MarketError> {
    let (provider, actor) = delegation::acting_provider(rt, &arg.provider)?;
    let mut offer = get(arg.offer_id)?;
    if offer.provider_pem != provider.to_pem() {
        return Err(MarketError::NotAuthorized {
            message: format!("offer {} belongs to another provider", offer.id),
        });
    }
    check_open(&offer)?;
    let now = rt.time();
    let why = "offer withdrawn by its provider";
    close(now, &actor, &mut offer, OfferStatus::Withdrawn, why);
    let offer_id = offer.id;
    inventory::reject_holds(rt, &actor, offer.item_id, |e| e.offer_id == offer_id, why)?;
    Ok(offer)
}

/// Withdraws every open offer of an item being archived.
pub(super) fn withdraw_item_offers(now: u64, actor: &Actor, item_id: u64, why: &str) {
    for mut offer in store::item_offer_ids(item_id)
        .into_iter()
        .filter_map(store::offer)
    {
        if offer.status == OfferStatus::Open {
            close(now, actor, &mut offer, OfferStatus::Withdrawn, why);
        }
    }
}

pub fn get(id: u64) -> Result<Offer, MarketError> {
    super::store::offer(id).ok_or(MarketError::UnknownOffer { id })
}

/// The offer as the caller may see it: a private offer is unknown to whoever it does not name.
pub fn get_as_seen(rt: &impl Runtime, id: u64) -> Result<Offer, MarketError> {
    get(id)
        .ok()
        .filter(|offer| visible(rt, offer))
        .ok_or(MarketError::UnknownOffer { id })
}

/// Whether the caller may see the offer: a public one, or a private one naming the caller, its
/// provider's delegates and the controllers.
pub fn visible(rt: &impl Runtime, offer: &Offer) -> bool {
    let caller = rt.caller();
    Rules::of(offer.terms.as_ref()).visible(&caller)
        || rt.is_controller(&caller)
        || store::is_delegate(
            &store::provider_key(&offer.provider_pem),
            &caller,
            rt.time(),
        )
}

/// A page of offers, private ones only for those who may see them.
pub fn list(rt: &impl Runtime, arg: OffersListArg) -> Result<OfferPage, MarketError> {
    let provider_pem = arg
        .provider
        .as_ref()
        .map(|input| ProviderKey::parse_for_lookup(input).map(|key| key.to_pem()))
        .transpose()
        .map_err(|message| MarketError::InvalidKey { message })?;
    let limit = page_limit(arg.limit)?;
    let after = arg.after.unwrap_or(0);
    let keep = |offer: &Offer| {
        provider_pem
            .as_ref()
            .is_none_or(|pem| *pem == offer.provider_pem)
            && arg.status.is_none_or(|status| status == offer.status)
            && visible(rt, offer)
    };
    let (offers, next) = match arg.item_id {
        Some(item_id) => {
            let ids = store::item_offer_ids(item_id).into_iter();
            let entries = ids
                .filter(|&id| id > after)
                .filter_map(|id| Some((id, store::offer(id)?)));
            page_of(entries, keep, limit, MAX_SCANNED)
        }
        None => store::offers_after(after, keep, limit, MAX_SCANNED),
    };
    Ok(OfferPage { offers, next })
}

/// The queue's task at an offer's end: an Open offer becomes Expired.
pub fn expire(rt: &impl Runtime, offer_id: u64) {
    let now = rt.time();
    let Some(mut offer) = store::offer(offer_id) else {
        return;
    };
    // A retried task finds it closed already.
    if offer.status == OfferStatus::Open && offer.end_ns <= now {
        let why = "its window ended";
        close(now, &Actor::Canister, &mut offer, OfferStatus::Expired, why);
    }
}

/// `OfferClosed` unless `offer` is open.
pub(super) fn check_open(offer: &Offer) -> Result<(), MarketError> {
    if offer.status == OfferStatus::Open {
        return Ok(());
    }
    Err(MarketError::OfferClosed {
        offer_id: offer.id,
        status: offer.status,
    })
}

/// Moves an open offer to a closed status: stores it, drops it from the index, records it.
fn close(now: u64, actor: &Actor, offer: &mut Offer, to: OfferStatus, why: &str) {
    let from = offer.status;
    offer.status = to;
    offer.updated_at_ns = now;
    store::put_offer(offer);
    index::remove(offer.id);
    record(now, actor, offer, from.name(), why);
    let forget = Task::ForgetOffer { offer_id: offer.id };
    queue::schedule_later(retention::due(now), forget);
}

fn record(now: u64, actor: &Actor, offer: &Offer, from: &str, why: &str) {
    audit::record(
        now,
        actor,
        Change {
            entity: Entity::Offer(offer.id),
            from,
            to: offer.status.name(),
            why,
            consumer: None,
            provider_pem: &offer.provider_pem,
        },
    );
}

#[cfg(test)]
mod tests;
