//! Open offers on the heap, cheapest first, for matching: stable memory is the truth, this
//! is a cache rebuilt after every upgrade. TODO(helper)

use super::types::{Item, Offer};

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
    pub sku: String,
    pub resource_class: String,
}

/// Keeps the index in step with `offer` (present while Open and its item may be offered).
pub fn sync_offer(offer: &Offer, item: &Item) {
    todo!("{offer:?} {item:?}")
}

/// Keeps the index in step with a changed item (attributes, SKU, status).
pub fn sync_item(item: &Item) {
    todo!("{item:?}")
}

/// Rebuilds the index from stable memory (after an upgrade).
pub fn rebuild() {
    todo!()
}

/// Calls `f` on open offers of offerable items, cheapest first (ties by offer id), until it
/// returns false.
pub fn for_each_cheapest(f: impl FnMut(&OpenOffer) -> bool) {
    let _ = f;
    todo!()
}

pub fn len() -> usize {
    todo!()
}
