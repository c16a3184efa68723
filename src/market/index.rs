//! Open offers on the heap, cheapest first, for matching: stable memory is the truth, this
//! is a cache rebuilt after every upgrade. Entries are plain data copied from the offer and its
//! item, so a walk over them reads no stable memory.
//!
//! Every write of an offer or of an item's status, SKU or attributes calls `sync_offer` or
//! `sync_item`, so the cache never disagrees with the store.

use super::store;
use super::types::{Item, ItemStatus, Offer, OfferStatus};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    /// Every item as matching and the SKU view see it, so neither decodes items.
    items: HashMap<u64, ItemSummary>,
    /// SKU → its items' ids.
    by_sku: BTreeMap<String, BTreeSet<u64>>,
}

/// What the heap keeps of an item: the fields an index entry copies, and its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemSummary {
    pub sku: String,
    pub status: ItemStatus,
    pub cores: u32,
    pub memory_mb: u64,
    pub storage_gb: u64,
    pub gpus: u32,
    pub resource_class: String,
}

impl ItemSummary {
    fn of(item: &Item) -> Self {
        Self {
            sku: item.sku.clone(),
            status: item.status,
            cores: item.attributes.cores,
            memory_mb: item.attributes.memory_mb,
            storage_gb: item.attributes.storage_gb,
            gpus: item.attributes.gpus,
            resource_class: item.attributes.resource_class.clone(),
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
        let summary = ItemSummary::of(item);
        let previous = self.items.insert(item.id, summary.clone());
        if let Some(previous) = &previous {
            if previous.sku != summary.sku {
                self.forget_sku(&previous.sku, item.id);
            }
        }
        self.by_sku
            .entry(summary.sku.clone())
            .or_default()
            .insert(item.id);
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

/// Rebuilds the index from stable memory (after an upgrade): every item once, then the open
/// offers.
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
    INDEX.set(index);
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

    fn skus() -> Vec<(String, Vec<(u64, ItemStatus)>)> {
        let mut out = Vec::new();
        for_each_sku(|sku, items| out.push((sku.to_string(), items.collect())));
        out
    }

    #[test]
    fn item_summaries_follow_sku_and_status_changes_and_survive_a_rebuild() {
        let mut a = item(1, ItemStatus::Available);
        let b = item(2, ItemStatus::Leased);
        for it in [&a, &b] {
            store::put_item(it);
            sync_item(it);
        }
        a.sku = "2C.small".into();
        a.status = ItemStatus::Rebuilding;
        store::put_item(&a);
        sync_item(&a);
        let expected = vec![
            ("2C.small".to_string(), vec![(1, ItemStatus::Rebuilding)]),
            ("4D.large".to_string(), vec![(2, ItemStatus::Leased)]),
        ];
        assert_eq!(skus(), expected);
        INDEX.set(Index::default());
        rebuild();
        assert_eq!(skus(), expected);
        forget_item(1);
        assert_eq!(skus(), expected[1..]);
    }

    #[test]
    fn only_changes_that_alter_entries_need_the_offers_read_again() {
        let it = item(1, ItemStatus::Available);
        let summary = ItemSummary::of(&it);
        let with = |status| ItemSummary {
            status,
            ..summary.clone()
        };
        // A lease starting or ending changes no entry.
        assert!(!summary.entries_differ(&with(ItemStatus::Leased)));
        assert!(!with(ItemStatus::Rebuilding).entries_differ(&summary));
        // Leaving or re-entering service does, and so do attributes.
        assert!(summary.entries_differ(&with(ItemStatus::Maintenance)));
        assert!(with(ItemStatus::Archiving).entries_differ(&summary));
        let bigger = ItemSummary {
            cores: 64,
            ..summary.clone()
        };
        assert!(summary.entries_differ(&bigger));
    }
}
