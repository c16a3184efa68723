//! Open offers on the heap, cheapest first, for matching: stable memory is the truth, this
//! is a cache rebuilt after every upgrade. Entries are plain data copied from the offer and its
//! item, so a walk over them reads no stable memory.
//!
//! Every write of an offer or of an item's status, SKU or attributes calls `sync_offer` or
//! `sync_item`, so the cache never disagrees with the store.

use super::store;
use super::types::{Item, ItemStatus, Offer, OfferStatus};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

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

#[derive(Default)]
struct Index {
    /// `(price per hour, offer id)` → entry: the matching order.
    by_price: BTreeMap<(u64, u64), OpenOffer>,
    /// Offer id → its price, to find its entry.
    price_of: HashMap<u64, u64>,
    /// Item id → ids of its indexed offers.
    by_item: HashMap<u64, Vec<u64>>,
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

    fn sync(&mut self, offer: &Offer, item: &Item) {
        self.remove(offer.id);
        if !indexed(offer, item) {
            return;
        }
        self.price_of.insert(offer.id, offer.price_per_hour);
        self.by_item.entry(item.id).or_default().push(offer.id);
        self.by_price
            .insert((offer.price_per_hour, offer.id), entry(offer, item));
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

fn entry(offer: &Offer, item: &Item) -> OpenOffer {
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
        sku: item.sku.clone(),
        resource_class: item.attributes.resource_class.clone(),
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

/// Keeps the index in step with a changed item (attributes, SKU, status).
pub fn sync_item(item: &Item) {
    let offers: Vec<Offer> = store::item_offer_ids(item.id)
        .into_iter()
        .filter_map(store::offer)
        .collect();
    INDEX.with_borrow_mut(|index| offers.iter().for_each(|offer| index.sync(offer, item)));
}

/// Rebuilds the index from stable memory (after an upgrade).
pub fn rebuild() {
    let mut index = Index::default();
    // Many offers share an item: read each item once.
    let mut items: HashMap<u64, Option<Item>> = HashMap::new();
    store::for_each_offer(|offer| {
        if offer.status != OfferStatus::Open {
            return;
        }
        let item = items
            .entry(offer.item_id)
            .or_insert_with(|| store::item(offer.item_id));
        if let Some(item) = item {
            index.sync(&offer, item);
        }
    });
    INDEX.set(index);
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

pub fn len() -> usize {
    INDEX.with_borrow(|index| index.by_price.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::types::Attributes;

    fn pem() -> String {
        crate::catalog::signing::provider_of(&[3; 32]).to_pem()
    }

    fn item(id: u64, status: ItemStatus) -> Item {
        Item {
            id,
            provider_pem: pem(),
            resource_type: "ironic_node".into(),
            resource_uuid: format!("node-{id}"),
            sku: "4D.large".into(),
            attributes: Attributes {
                cores: 8,
                ..Attributes::default()
            },
            offering_key: None,
            status,
            lease_id: None,
            created_at_ns: 0,
            updated_at_ns: 0,
        }
    }

    fn offer(id: u64, item_id: u64, price: u64, status: OfferStatus) -> Offer {
        Offer {
            id,
            item_id,
            provider_pem: pem(),
            resource_type: "ironic_node".into(),
            resource_uuid: format!("node-{item_id}"),
            start_ns: 10,
            end_ns: 20,
            price_per_hour: price,
            properties: vec![],
            status,
            created_at_ns: 0,
            updated_at_ns: 0,
        }
    }

    fn order() -> Vec<u64> {
        let mut ids = Vec::new();
        for_each_cheapest(|open| {
            ids.push(open.offer_id);
            true
        });
        ids
    }

    #[test]
    fn offers_come_cheapest_first_with_ties_by_id_and_the_walk_can_stop() {
        let it = item(1, ItemStatus::Available);
        for (id, price) in [(4, 300), (2, 100), (3, 100), (1, 200)] {
            sync_offer(&offer(id, 1, price, OfferStatus::Open), &it);
        }
        assert_eq!(order(), [2, 3, 1, 4]);
        assert_eq!(len(), 4);
        let mut seen = 0;
        for_each_cheapest(|_| {
            seen += 1;
            seen < 2
        });
        assert_eq!(seen, 2);
        let first = item_open_offers(1);
        assert_eq!(
            first.iter().map(|o| o.offer_id).collect::<Vec<_>>(),
            [2, 3, 1, 4]
        );
        assert_eq!(first[0].cores, 8);
        assert_eq!(first[0].sku, "4D.large");
        assert_eq!(item_open_offers(9), []);
    }

    #[test]
    fn a_resynced_offer_moves_or_leaves_and_closed_offers_are_not_indexed() {
        let it = item(1, ItemStatus::Leased);
        sync_offer(&offer(1, 1, 500, OfferStatus::Open), &it);
        sync_offer(&offer(2, 1, 400, OfferStatus::Open), &it);
        // A new price re-sorts; the old entry is gone.
        sync_offer(&offer(1, 1, 100, OfferStatus::Open), &it);
        assert_eq!(order(), [1, 2]);
        assert_eq!(len(), 2);
        for status in [
            OfferStatus::Claimed,
            OfferStatus::Expired,
            OfferStatus::Withdrawn,
        ] {
            sync_offer(&offer(1, 1, 100, status), &it);
            assert_eq!(order(), [2]);
        }
        remove(2);
        remove(2);
        assert_eq!(len(), 0);
        assert_eq!(item_open_offers(1), []);
    }

    #[test]
    fn items_out_of_service_hide_their_offers_until_they_return() {
        let mut it = item(1, ItemStatus::Available);
        store::put_item(&it);
        let open = offer(1, 1, 100, OfferStatus::Open);
        store::put_offer(&open);
        store::put_offer(&offer(2, 1, 50, OfferStatus::Expired));
        sync_item(&it);
        assert_eq!(order(), [1]);
        for status in [ItemStatus::Maintenance, ItemStatus::Archiving] {
            it.status = status;
            sync_item(&it);
            assert_eq!(len(), 0, "{status:?}");
        }
        it.status = ItemStatus::Rebuilding;
        it.attributes.cores = 64;
        it.sku = "3A.huge".into();
        sync_item(&it);
        let entries = item_open_offers(1);
        assert_eq!(entries.len(), 1);
        assert_eq!((entries[0].cores, entries[0].sku.as_str()), (64, "3A.huge"));
    }

    #[test]
    fn rebuild_restores_exactly_what_syncing_built() {
        let items = [
            item(1, ItemStatus::Available),
            item(2, ItemStatus::Maintenance),
            item(3, ItemStatus::Reserving),
        ];
        items.iter().for_each(store::put_item);
        let offers = [
            offer(1, 1, 300, OfferStatus::Open),
            offer(2, 1, 100, OfferStatus::Open),
            offer(3, 1, 50, OfferStatus::Claimed),
            offer(4, 2, 10, OfferStatus::Open),
            offer(5, 3, 200, OfferStatus::Open),
            // An offer whose item is gone is not offered.
            offer(6, 99, 1, OfferStatus::Open),
        ];
        offers.iter().for_each(store::put_offer);
        items.iter().for_each(sync_item);
        let synced = order();
        assert_eq!(synced, [2, 5, 1]);

        INDEX.set(Index::default());
        assert_eq!(len(), 0);
        rebuild();
        assert_eq!(order(), synced);
        assert_eq!(item_open_offers(1).len(), 2);
        // Rebuilding again replaces, never duplicates.
        rebuild();
        assert_eq!(len(), 3);
    }
}
