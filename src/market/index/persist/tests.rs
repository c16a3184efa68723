use super::*;
use crate::market::index::{rebuild, sync_item, INDEX};
use crate::market::store;
use crate::market::types::{Attributes, Item, Offer, OfferStatus, OfferTerms};
use candid::Principal;
use ic_stable_structures::VectorMemory;
use std::collections::{BTreeMap, BTreeSet};

fn item(id: u64, status: ItemStatus, sku: &str, class: &str) -> Item {
    Item {
        id,
        provider_pem: crate::catalog::signing::provider_of(&[3; 32]).to_pem(),
        resource_type: "ironic_node".into(),
        resource_uuid: format!("node-{id}"),
        sku: sku.into(),
        attributes: Attributes {
            cores: 8 * id as u32,
            memory_mb: 1024 * id,
            storage_gb: 100 + id,
            gpus: id as u32 % 3,
            resource_class: class.into(),
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
        provider_pem: String::new(),
        resource_type: "ironic_node".into(),
        resource_uuid: format!("node-{item_id}"),
        start_ns: 10 * id,
        end_ns: 10 * id + 7,
        price_per_hour: price,
        properties: vec![],
        status,
        created_at_ns: 0,
        updated_at_ns: 0,
    }
}

type View = (
    Vec<((u64, u64), (u64, u64))>,
    Vec<OpenOffer>,
    BTreeMap<u64, ItemSummary>,
    BTreeMap<String, BTreeSet<u64>>,
    BTreeMap<u64, Vec<u64>>,
    BTreeMap<u64, u64>,
);

/// Everything the index holds, in a comparable order.
fn view(index: &Index) -> View {
    let by_item = index
        .by_item
        .iter()
        .map(|(item, offers)| {
            let mut offers = offers.clone();
            offers.sort_unstable();
            (*item, offers)
        })
        .collect();
    (
        index.calendar.iter().map(|(k, v)| (*k, *v)).collect(),
        index.by_price.values().cloned().collect(),
        index.items.iter().map(|(k, v)| (*k, v.clone())).collect(),
        index.by_sku.clone(),
        by_item,
        index.price_of.iter().map(|(k, v)| (*k, *v)).collect(),
    )
}

fn fill() {
    let items = [
        item(1, ItemStatus::Available, "4D.large", "baremetal.large"),
        item(2, ItemStatus::Maintenance, "4D.large", ""),
        item(3, ItemStatus::Leased, "2B.small", "gpu.ä"),
        item(4, ItemStatus::Archiving, "", ""),
        item(5, ItemStatus::Rebuilding, "9Z.huge", "x"),
        item(6, ItemStatus::Reserving, "9Z.huge", "x"),
    ];
    items.iter().for_each(store::put_item);
    let offers = [
        offer(1, 1, 300, OfferStatus::Open),
        offer(2, 1, 100, OfferStatus::Open),
        offer(3, 1, 50, OfferStatus::Claimed),
        offer(4, 2, 10, OfferStatus::Open),
        offer(5, 3, 200, OfferStatus::Open),
        offer(6, 5, 200, OfferStatus::Open),
        offer(7, 6, 0, OfferStatus::Open),
        offer(8, 6, u64::MAX, OfferStatus::Withdrawn),
    ];
    let mut offers = offers;
    offers[0].terms = Some(OfferTerms {
        min_duration_seconds: Some(3600),
        granularity_seconds: Some(900),
        visible_to: None,
        visible_to_projects: None,
    });
    offers[4].terms = Some(OfferTerms {
        visible_to: Some(vec![
            Principal::from_slice(&[1; 29]),
            Principal::anonymous(),
        ]),
        ..OfferTerms::default()
    });
    offers.iter().for_each(store::put_offer);
    items.iter().for_each(sync_item);
    for (item_id, start_ns, end_ns, execution_id) in [(1, 5, 9, 1), (1, 9, 20, 2), (3, 0, 7, 3)] {
        let booking = store::Booking {
            start_ns,
            end_ns,
            execution_id,
        };
        store::book(item_id, booking);
    }
}

#[test]
fn a_loaded_snapshot_is_the_index_that_was_saved() {
    fill();
    let memory = VectorMemory::default();
    let saved = INDEX.with_borrow(|index| {
        index.save(&memory).unwrap();
        view(index)
    });
    assert_eq!(saved.0.len(), 3);
    assert_eq!(saved.1.len(), 5);
    assert_eq!(saved.2.len(), 6);
    let loaded = Index::load(&memory).unwrap();
    assert_eq!(view(&loaded), saved);
    // And it is what a rebuild from the store makes.
    rebuild();
    assert_eq!(INDEX.with_borrow(view), saved);
}

#[test]
fn a_snapshot_without_terms_loads_with_the_default_terms() {
    fill();
    let memory = VectorMemory::default();
    let saved = INDEX.with_borrow(|index| {
        index.save(&memory).unwrap();
        view(index)
    });
    assert!(saved.1.iter().any(|o| o.rules != Rules::default()));
    // A format 1 snapshot is format 3 without the trailing terms: relabel the header.
    memory.write(8, &VERSION_WITHOUT_TERMS.to_le_bytes());
    let loaded = Index::load(&memory).unwrap();
    let mut expected = saved;
    expected
        .1
        .iter_mut()
        .for_each(|o| o.rules = Rules::default());
    assert_eq!(view(&loaded), expected);
}

#[test]
fn a_snapshot_with_principals_as_text_still_loads() {
    fill();
    let memory = VectorMemory::default();
    let saved = INDEX.with_borrow(|index| {
        index.save_as(&memory, Principals::Text).unwrap();
        view(index)
    });
    assert!(saved.1.iter().any(|o| o.rules.visible_to().is_some()));
    assert_eq!(view(&Index::load(&memory).unwrap()), saved);
}

#[test]
fn a_snapshot_loads_once_and_an_empty_index_round_trips() {
    let memory = VectorMemory::default();
    assert_eq!(Index::load(&memory).err(), Some("no snapshot".to_string()));
    Index::default().save(&memory).unwrap();
    assert_eq!(
        view(&Index::load(&memory).unwrap()),
        view(&Index::default())
    );
    assert!(Index::load(&memory).is_err());
}

#[test]
fn a_snapshot_of_another_shape_is_refused() {
    let memory = VectorMemory::default();
    // Items' columns of different lengths.
    snapshot::save(&memory, VERSION, |out| {
        out.put(&[1u64, 2]);
        out.put(&[0u8]);
    })
    .unwrap();
    assert!(Index::load(&memory).is_err());
    // An offer whose item is missing (format 1: no terms follow).
    snapshot::save(&memory, VERSION_WITHOUT_TERMS, |out| {
        out.put::<u64>(&[]);
        out.put::<u8>(&[]);
        out.put::<u32>(&[]);
        out.put::<u32>(&[]);
        out.put::<u64>(&[]);
        out.put::<u64>(&[]);
        for _ in 0..2 {
            out.put::<u8>(&[]);
            out.put::<u64>(&[]);
        }
        for _ in 0..5 {
            out.put(&[9u64]);
        }
        for _ in 0..4 {
            out.put::<u64>(&[]);
        }
    })
    .unwrap();
    assert_eq!(
        Index::load(&memory).err(),
        Some("an offer's item is not in the snapshot".into())
    );
    // An unknown status.
    snapshot::save(&memory, VERSION, |out| {
        out.put(&[1u64]);
        out.put(&[6u8]);
        out.put(&[1u32]);
        out.put(&[1u32]);
        out.put(&[1u64]);
        out.put(&[1u64]);
        for _ in 0..2 {
            out.put(b"a");
            out.put(&[1u64]);
        }
    })
    .unwrap();
    assert_eq!(
        Index::load(&memory).err(),
        Some("an unknown item status".into())
    );
    // A format of another version.
    snapshot::save(&memory, VERSION + 1, |_| {}).unwrap();
    assert!(Index::load(&memory).unwrap_err().contains("format"));
}

#[test]
fn every_status_has_its_own_code() {
    let codes: BTreeSet<u8> = STATUSES.iter().map(|s| status_code(*s)).collect();
    assert_eq!(codes.len(), STATUSES.len());
}
