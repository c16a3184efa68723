//! Offers, and each item's offers.

use super::{ids_under, records_after, ITEM_OFFERS, OFFERS};
use crate::market::types::Offer;

pub fn offer(id: u64) -> Option<Offer> {
    OFFERS.with_borrow(|offers| offers.get(&id))
}

pub fn put_offer(offer: &Offer) {
    ITEM_OFFERS.with_borrow_mut(|index| index.insert((offer.item_id, offer.id), ()));
    OFFERS.with_borrow_mut(|offers| offers.insert(offer.id, offer.clone()));
}

/// Removes a closed offer and its item's index entry.
pub fn remove_offer(offer: &Offer) {
    ITEM_OFFERS.with_borrow_mut(|index| index.remove(&(offer.item_id, offer.id)));
    OFFERS.with_borrow_mut(|offers| offers.remove(&offer.id));
}

/// Every offer of an item, any status, in id order.
pub fn item_offer_ids(item_id: u64) -> Vec<u64> {
    ITEM_OFFERS.with_borrow(|index| ids_under(index, item_id, 0, usize::MAX))
}

/// Offers with ids above `after`, in id order (see [`crate::market::page_of`]).
pub fn offers_after(
    after: u64,
    keep: impl FnMut(&Offer) -> bool,
    limit: usize,
    scan: usize,
) -> (Vec<Offer>, Option<u64>) {
    records_after(&OFFERS, after, keep, limit, scan)
}

/// Every offer, for rebuilding the heap index after an upgrade.
pub fn for_each_offer(mut f: impl FnMut(Offer)) {
    OFFERS.with_borrow(|offers| offers.iter().for_each(|entry| f(entry.value())));
}
