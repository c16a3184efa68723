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
        terms: None,
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
    assert_eq!(&*first[0].sku, "4D.large");
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
    assert_eq!((entries[0].cores, &*entries[0].sku), (64, "3A.huge"));
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
