//! Open offers on the heap, cheapest first, for matching: stable memory is the truth, this
//! is a cache rebuilt after every upgrade. Entries are plain data copied from the offer and its
//! item, so a walk over them reads no stable memory.
//!
//! Every write of an offer or of an item's status, SKU or attributes calls `sync_offer` or
//! `sync_item`, so the cache never disagrees with the store.
//!
//! An upgrade does not rebuild it record by record: `pre_upgrade` saves it as columns
//! (`persist`) and `post_upgrade` loads them with a few bulk reads, decoding no stored item or
//! offer; only without a snapshot (pre_upgrade skipped or failed) is it rebuilt from the store.

mod persist;

use super::offers::{Grid, Rules};
use super::store::{self, Booking};
use super::types::{FreeWindow, Item, ItemStatus, Offer, OfferStatus};
use crate::memory;
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

/// An open offer as matching sees it: the offer's window and price and its item's attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenOffer {
    pub offer_id: u64,
    pub item_id: u64,
    pub start_ns: u64,
    pub end_ns: u64,
    pub price_per_hour: u64,
    pub cores: u32,
    pub memory_mb: u64,
    pub storage_gb: u64,
    pub gpus: u32,
    /// Shared with the item's summary: an entry allocates no string of its own.
    pub sku: Rc<str>,
    pub resource_class: Rc<str>,
    /// The offer's terms as matching applies them.
    pub rules: Rules,
}

#[derive(Default, Debug)]
pub(super) struct Index {
    /// `(price per hour, offer id)` → entry: the matching order.
    by_price: BTreeMap<(u64, u64), OpenOffer>,
    /// Offer id → its price, to find its entry. The id-keyed maps hash with Fx, several times
    /// faster than SipHash in the wasm: their keys are ids the canister assigns, so no caller
    /// can choose keys that collide.
    price_of: FxHashMap<u64, u64>,
    /// Item id → ids of its indexed offers.
    by_item: FxHashMap<u64, Vec<u64>>,
    /// Every item as matching and the SKU view see it, so neither decodes items.
    items: FxHashMap<u64, ItemSummary>,
    /// SKU → its items' ids.
    by_sku: BTreeMap<String, BTreeSet<u64>>,
    /// The calendar (`MARKET_BOOKINGS`) mirrored: `(item, start)` → `(end, execution)`. Every
    /// booking is written through `store::book` and `store::unbook`, which keep both; reads
    /// come from here, so matching and the SKU view read no stable memory to see what is free.
    calendar: BTreeMap<(u64, u64), (u64, u64)>,
}

/// What the heap keeps of an item: the fields an index entry copies, and its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemSummary {
    pub sku: Rc<str>,
    pub status: ItemStatus,
    pub cores: u32,
    pub memory_mb: u64,
    pub storage_gb: u64,
    pub gpus: u32,
    pub resource_class: Rc<str>,
}

impl ItemSummary {
    fn of(item: &Item) -> Self {
        Self {
            sku: item.sku.as_str().into(),
            status: item.status,
            cores: item.attributes.cores,
            memory_mb: item.attributes.memory_mb,
            storage_gb: item.attributes.storage_gb,
            gpus: item.attributes.gpus,
            resource_class: item.attributes.resource_class.as_str().into(),
        }
    }

    /// Whether index entries built from `self` would differ from ones built from `other`.
    fn entries_differ(&self, other: &Self) -> bool {
        let offerable = |status| !matches!(status, ItemStatus::Maintenance | ItemStatus::Archiving);
        Self {
            status: other.status,
            ..self.clone()
        } != *other
            || offerable(self.status) != offerable(other.status)
    }
}

impl Index {
    fn remove(&mut self, offer_id: u64) {
        let Some(price) = self.price_of.remove(&offer_id) else {
            return;
        };
        let Some(open) = self.by_price.remove(&(price, offer_id)) else {
            return;
        };
        if let Some(ids) = self.by_item.get_mut(&open.item_id) {
            ids.retain(|&id| id != offer_id);
            if ids.is_empty() {
                self.by_item.remove(&open.item_id);
            }
        }
    }

    /// Records `item`'s summary; returns whether its offers' entries must be rebuilt.
    fn note_item(&mut self, item: &Item) -> bool {
        self.note_summary(item.id, ItemSummary::of(item))
    }

    fn note_summary(&mut self, item_id: u64, summary: ItemSummary) -> bool {
        let previous = self.items.insert(item_id, summary.clone());
        if let Some(previous) = &previous {
            if previous.sku != summary.sku {
                self.forget_sku(&previous.sku, item_id);
            }
        }
        self.by_sku
            .entry(summary.sku.to_string())
            .or_default()
            .insert(item_id);
        previous.is_none_or(|previous| previous.entries_differ(&summary))
    }

    fn forget_sku(&mut self, sku: &str, item_id: u64) {
        if let Some(ids) = self.by_sku.get_mut(sku) {
            ids.remove(&item_id);
            if ids.is_empty() {
                self.by_sku.remove(sku);
            }
        }
    }

    fn sync(&mut self, offer: &Offer, item: &Item) {
        self.remove(offer.id);
        if !indexed(offer, item) {
            return;
        }
        let open = entry(offer, item, self.texts_of(item));
        self.insert(open);
    }

    /// The item's SKU and class as its summary shares them (new ones if it has none yet, or
    /// they differ), so an entry holds no copy of its own.
    fn texts_of(&self, item: &Item) -> (Rc<str>, Rc<str>) {
        let summary = self.items.get(&item.id);
        let share = |kept: Option<&Rc<str>>, text: &str| match kept {
            Some(kept) if **kept == *text => kept.clone(),
            _ => text.into(),
        };
        (
            share(summary.map(|s| &s.sku), &item.sku),
            share(
                summary.map(|s| &s.resource_class),
                &item.attributes.resource_class,
            ),
        )
    }

    fn insert(&mut self, open: OpenOffer) {
        self.price_of.insert(open.offer_id, open.price_per_hour);
        self.by_item
            .entry(open.item_id)
            .or_default()
            .push(open.offer_id);
        self.by_price
            .insert((open.price_per_hour, open.offer_id), open);
    }
}

thread_local! {
    static INDEX: RefCell<Index> = RefCell::default();
}

/// Whether matching may see `offer`: it is open and its item is in service.
fn indexed(offer: &Offer, item: &Item) -> bool {
    offer.status == OfferStatus::Open
        && !matches!(item.status, ItemStatus::Maintenance | ItemStatus::Archiving)
}

fn entry(offer: &Offer, item: &Item, (sku, resource_class): (Rc<str>, Rc<str>)) -> OpenOffer {
    OpenOffer {
        offer_id: offer.id,
        item_id: item.id,
        start_ns: offer.start_ns,
        end_ns: offer.end_ns,
        price_per_hour: offer.price_per_hour,
        cores: item.attributes.cores,
        memory_mb: item.attributes.memory_mb,
        storage_gb: item.attributes.storage_gb,
        gpus: item.attributes.gpus,
        sku,
        resource_class,
        rules: Rules::of(offer.terms.as_ref()),
    }
}

/// Keeps the index in step with `offer` (present while Open and its item may be offered).
pub fn sync_offer(offer: &Offer, item: &Item) {
    INDEX.with_borrow_mut(|index| index.sync(offer, item));
}

/// Drops `offer_id` from the index, whatever its status.
pub fn remove(offer_id: u64) {
    INDEX.with_borrow_mut(|index| index.remove(offer_id));
}

/// Keeps the index in step with a new or changed item (attributes, SKU, status). Its offers
/// are re-read only when their entries change: a status change within the offerable ones (a
/// lease starting or ending) costs no stable-memory read.
pub fn sync_item(item: &Item) {
    if !INDEX.with_borrow_mut(|index| index.note_item(item)) {
        return;
    }
    let offers: Vec<Offer> = store::item_offer_ids(item.id)
        .into_iter()
        .filter_map(store::offer)
        .collect();
    INDEX.with_borrow_mut(|index| offers.iter().for_each(|offer| index.sync(offer, item)));
}

/// Drops a removed item (its offers are closed before it goes).
pub fn forget_item(item_id: u64) {
    INDEX.with_borrow_mut(|index| {
        if let Some(summary) = index.items.remove(&item_id) {
            index.forget_sku(&summary.sku, item_id);
        }
        for offer_id in index.by_item.get(&item_id).cloned().unwrap_or_default() {
            index.remove(offer_id);
        }
    });
}

/// Rebuilds the index from stable memory (after an upgrade without a snapshot): every item
/// once, then the open offers and the bookings.
pub fn rebuild() {
    let mut index = Index::default();
    let mut items: HashMap<u64, Item> = HashMap::new();
    store::for_each_item(|item| {
        index.note_item(&item);
        items.insert(item.id, item);
    });
    store::for_each_offer(|offer| {
        if offer.status != OfferStatus::Open {
            return;
        }
        if let Some(item) = items.get(&offer.item_id) {
            index.sync(&offer, item);
        }
    });
    store::for_each_booking(|item_id, booking| {
        let value = (booking.end_ns, booking.execution_id);
        index.calendar.insert((item_id, booking.start_ns), value);
    });
    INDEX.set(index);
}

/// Mirrors a booking `store::book` wrote.
pub fn book(item_id: u64, booking: Booking) {
    INDEX.with_borrow_mut(|index| {
        let value = (booking.end_ns, booking.execution_id);
        index.calendar.insert((item_id, booking.start_ns), value)
    });
}

/// Mirrors a booking `store::unbook` removed.
pub fn unbook(item_id: u64, start_ns: u64) {
    INDEX.with_borrow_mut(|index| index.calendar.remove(&(item_id, start_ns)));
}

/// The booking on `item_id` that overlaps `[start_ns, end_ns)`, if any (see
/// `store::overlapping_booking`).
pub fn overlapping_booking(item_id: u64, start_ns: u64, end_ns: u64) -> Option<Booking> {
    INDEX.with_borrow(|index| {
        let (&(_, start), &(end, execution_id)) = index
            .calendar
            .range((item_id, 0)..(item_id, end_ns))
            .next_back()?;
        (end > start_ns).then_some(Booking {
            start_ns: start,
            end_ns: end,
            execution_id,
        })
    })
}

/// Every booking of an item, earliest first.
pub fn item_bookings(item_id: u64) -> Vec<Booking> {
    INDEX.with_borrow(|index| {
        index
            .calendar
            .range((item_id, 0)..=(item_id, u64::MAX))
            .map(|(&(_, start_ns), &(end_ns, execution_id))| Booking {
                start_ns,
                end_ns,
                execution_id,
            })
            .collect()
    })
}

/// Saves the index to the `MARKET_INDEX_SNAPSHOT` region (pre_upgrade); returns the bytes
/// written.
pub fn save() -> Result<u64, String> {
    INDEX.with_borrow(|index| index.save(&memory::region(memory::MARKET_INDEX_SNAPSHOT)))
}

/// Replaces the index with the snapshot [`save`] wrote (post_upgrade); an error (no snapshot,
/// or one already loaded) leaves the index as it was, for [`rebuild`].
pub fn load() -> Result<(), String> {
    let index = Index::load(&memory::region(memory::MARKET_INDEX_SNAPSHOT))?;
    INDEX.set(index);
    Ok(())
}

/// Calls `f` with each SKU and its items' `(id, status)`, in SKU order.
pub fn for_each_sku(mut f: impl FnMut(&str, &mut dyn Iterator<Item = (u64, ItemStatus)>)) {
    INDEX.with_borrow(|index| {
        for (sku, ids) in &index.by_sku {
            let mut items = ids
                .iter()
                .filter_map(|id| Some((*id, index.items.get(id)?.status)));
            f(sku, &mut items);
        }
    });
}

/// Calls `f` on open offers of offerable items, cheapest first (ties by offer id), until it
/// returns false. `f` must not change the index (it is borrowed for the walk).
pub fn for_each_cheapest(mut f: impl FnMut(&OpenOffer) -> bool) {
    INDEX.with_borrow(|index| {
        for open in index.by_price.values() {
            if !f(open) {
                break;
            }
        }
    });
}

/// The item's indexed offers, cheapest first.
pub fn item_open_offers(item_id: u64) -> Vec<OpenOffer> {
    INDEX.with_borrow(|index| {
        let Some(ids) = index.by_item.get(&item_id) else {
            return Vec::new();
        };
        let mut keys: Vec<(u64, u64)> = ids
            .iter()
            .filter_map(|id| Some((*index.price_of.get(id)?, *id)))
            .collect();
        keys.sort_unstable();
        keys.iter()
            .filter_map(|key| index.by_price.get(key).cloned())
            .collect()
    })
}

/// The lowest price among the item's open offers covering `now`, if any: what `products` needs
/// of each item, read in place (no copy, no sort).
pub fn price_now(item_id: u64, now: u64) -> Option<u64> {
    INDEX.with_borrow(|index| {
        index
            .by_item
            .get(&item_id)?
            .iter()
            .filter_map(|id| {
                let price = *index.price_of.get(id)?;
                let open = index.by_price.get(&(price, *id))?;
                (open.start_ns <= now && now < open.end_ns).then_some(price)
            })
            .min()
    })
}

/// The item's SKU, as the index knows it.
pub fn item_sku(item_id: u64) -> Option<String> {
    INDEX.with_borrow(|index| Some(index.items.get(&item_id)?.sku.to_string()))
}

/// Up to `limit` ids of the SKU's items after `after`, in id order; and whether more follow.
pub fn sku_items_after(sku: &str, after: u64, limit: usize) -> (Vec<u64>, bool) {
    INDEX.with_borrow(|index| {
        let Some(ids) = index.by_sku.get(sku) else {
            return (Vec::new(), false);
        };
        let mut page = ids.range(after.saturating_add(1)..);
        let taken: Vec<u64> = page.by_ref().take(limit).copied().collect();
        (taken, page.next().is_some())
    })
}

/// The item's unbooked time in `[from_ns, to_ns)` within its open offers that `visible` lets
/// through, earliest first: at most `max` windows, stepping over at most `max` bookings in
/// all; also whether it stopped at that bound (more may be free after the last window).
pub fn free_windows(
    item_id: u64,
    from_ns: u64,
    to_ns: u64,
    visible: impl Fn(&Rules) -> bool,
    max: usize,
) -> (Vec<FreeWindow>, bool) {
    INDEX.with_borrow(|index| {
        let mut offers: Vec<&OpenOffer> = index
            .by_item
            .get(&item_id)
            .into_iter()
            .flatten()
            .filter_map(|id| index.by_price.get(&(*index.price_of.get(id)?, *id)))
            .filter(|o| o.start_ns < to_ns && from_ns < o.end_ns && visible(&o.rules))
            .collect();
        // Open offers of one item never overlap: by start is the calendar's order.
        offers.sort_unstable_by_key(|o| o.start_ns);
        let (mut windows, mut steps) = (Vec::new(), 0);
        for offer in offers {
            let (lo, hi) = (offer.start_ns.max(from_ns), offer.end_ns.min(to_ns));
            let mut free_from = lo;
            // The booking overlapping `lo`, if any, starts before it: begin there.
            let first = index
                .calendar
                .range((item_id, 0)..=(item_id, lo))
                .next_back()
                .map_or(lo, |(&(_, start), _)| start);
            for (&(_, start), &(end, _)) in index.calendar.range((item_id, first)..(item_id, hi)) {
                if steps == max || windows.len() == max {
                    return (windows, true);
                }
                steps += 1;
                if start > free_from {
                    push(&mut windows, offer, free_from, start);
                }
                free_from = free_from.max(end);
            }
            if free_from < hi {
                if windows.len() == max {
                    return (windows, true);
                }
                push(&mut windows, offer, free_from, hi);
            }
        }
        (windows, false)
    })
}

/// Adds `[start_ns, end_ns)` of `offer`, narrowed to its grid (a request is widened to the
/// grid, so only whole steps can be booked; the offer's end may be off it), unless what is
/// left is too short for any lease of it.
fn push(windows: &mut Vec<FreeWindow>, offer: &OpenOffer, start_ns: u64, end_ns: u64) {
    let grid = Grid::of_open(offer);
    let start_ns = grid.up(start_ns);
    let end_ns = if end_ns == offer.end_ns {
        end_ns
    } else {
        grid.down(end_ns)
    };
    let shortest = offer
        .rules
        .min_ns
        .max(crate::market::offerset::MIN_LEASE_SECONDS * crate::time::SECOND_NS);
    if end_ns > start_ns && end_ns - start_ns >= shortest {
        windows.push(free(offer, start_ns, end_ns));
    }
}

fn free(offer: &OpenOffer, start_ns: u64, end_ns: u64) -> FreeWindow {
    FreeWindow {
        start_ns,
        end_ns,
        offer_id: offer.offer_id,
        price_per_hour: offer.price_per_hour,
        min_duration_seconds: offer.rules.min_ns / crate::time::SECOND_NS,
        granularity_seconds: offer.rules.step_ns / crate::time::SECOND_NS,
    }
}

pub fn len() -> usize {
    INDEX.with_borrow(|index| index.by_price.len())
}

#[cfg(test)]
mod tests;
