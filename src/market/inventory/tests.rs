use super::testing::*;
use super::*;
use crate::catalog::provider::ProviderKeyInput;
use crate::catalog::publish;
use crate::catalog::signing::Operation;
use crate::market::{index, offers, store};
use crate::runtime::{FakeRuntime, Runtime};

use ItemStatus::*;

const HOUR: u64 = crate::time::HOUR_NS;

fn register_arg(items: Vec<ItemInput>) -> InventoryRegisterArg {
    InventoryRegisterArg {
        provider: key_input(&SECRET),
        items,
    }
}

fn set_status_arg(item_id: u64, status: ItemStatus) -> InventorySetStatusArg {
    InventorySetStatusArg {
        provider: key_input(&SECRET),
        item_id,
        status,
        reason: String::new(),
    }
}

fn remove_arg(item_id: u64) -> InventoryRemoveArg {
    InventoryRemoveArg {
        provider: key_input(&SECRET),
        item_id,
    }
}

fn offer_on(rt: &FakeRuntime, item: &Item, start_ns: u64, end_ns: u64, price: u64) -> Offer {
    let arg = OfferCreateArg {
        terms: None,
        provider: key_input(&SECRET),
        item_id: item.id,
        start_ns,
        end_ns,
        price_per_hour: price,
        properties: vec![],
    };
    offers::create(rt, arg).unwrap()
}

fn invalid_argument(result: Result<impl std::fmt::Debug, MarketError>) {
    assert!(
        matches!(result, Err(MarketError::InvalidArgument { .. })),
        "{result:?}"
    );
}

#[test]
fn the_table_lets_each_party_make_only_its_own_moves() {
    assert!(allowed(Available, Maintenance, By::Provider));
    assert!(!allowed(Available, Maintenance, By::Market));
    assert!(allowed(Available, Reserving, By::Market));
    assert!(!allowed(Available, Reserving, By::Provider));
    assert!(!allowed(Leased, Maintenance, By::Provider));
    assert!(!allowed(Leased, Available, By::Market));
    // Both may end a rebuild.
    assert!(allowed(Rebuilding, Available, By::Provider));
    assert!(allowed(Rebuilding, Available, By::Market));
    // Only the market sends a directly deployed node from maintenance to its clean-up.
    assert!(allowed(Maintenance, Rebuilding, By::Market));
    assert!(!allowed(Maintenance, Rebuilding, By::Provider));
    for (from, to, _) in TRANSITIONS {
        assert_ne!(from, to);
    }
    assert_eq!(TRANSITIONS.len(), 14);
}

#[test]
fn register_creates_items_in_input_order_with_canonical_skus() {
    let rt = FakeRuntime::new();
    act_for(&rt, &SECRET);
    let before = audit::len();
    let items = register(
        &rt,
        register_arg(vec![input("b", "4d.LARGE"), input("a", "2C.small")]),
    )
    .unwrap();
    assert_eq!(items.iter().map(|i| i.id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(items[0].resource_uuid, "b");
    assert_eq!(items[0].sku, "4D.large");
    assert_eq!(items[0].status, Available);
    assert_eq!(items[0].provider_pem, pem(&SECRET));
    assert_eq!(items[0].created_at_ns, rt.time());
    assert_eq!(store::item(1), Some(items[0].clone()));
    assert_eq!(audit::len(), before + 2);
    let entry = last_audit();
    assert_eq!(entry.entity, Entity::Item(2));
    assert_eq!((entry.from.as_str(), entry.to.as_str()), ("", "available"));
    assert_eq!(entry.why, "registered");
    assert_eq!(entry.consumer, None);
    assert_eq!(entry.provider_pem, pem(&SECRET));
    assert!(
        matches!(entry.actor, Actor::Provider { principal, .. } if principal == delegate(&SECRET))
    );
}

#[test]
fn re_registering_updates_in_place_and_an_unchanged_item_writes_nothing() {
    let rt = FakeRuntime::new();
    let item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let offer = offer_on(&rt, &item, rt.time(), rt.time() + HOUR, 100);
    set_status(&rt, set_status_arg(item.id, Maintenance)).unwrap();
    let created = item.created_at_ns;

    rt.time.set(rt.time() + 5);
    let before = audit::len();
    let again = register(&rt, register_arg(vec![input("node-1", "4D.large")])).unwrap();
    assert_eq!(again[0].updated_at_ns, created);
    assert_eq!(audit::len(), before);

    let mut changed = input("node-1", "3a.huge");
    changed.attributes.cores = 64;
    let updated = register(&rt, register_arg(vec![changed]))
        .unwrap()
        .remove(0);
    assert_eq!((updated.id, updated.status), (item.id, Maintenance));
    assert_eq!(
        (updated.created_at_ns, updated.updated_at_ns),
        (created, rt.time())
    );
    assert_eq!(
        (updated.sku.as_str(), updated.attributes.cores),
        ("3A.huge", 64)
    );
    assert_eq!(store::item_count(), 1);
    let entry = last_audit();
    assert_eq!(
        (entry.from.as_str(), entry.to.as_str(), entry.why.as_str()),
        ("maintenance", "maintenance", "updated")
    );

    // The index follows the new attributes once the item is back in service.
    set_status(&rt, set_status_arg(item.id, Available)).unwrap();
    let open = index::item_open_offers(item.id);
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].offer_id, offer.id);
    assert_eq!((open[0].cores, &*open[0].sku), (64, "3A.huge"));
}

#[test]
fn register_checks_the_provider_and_the_count() {
    let rt = FakeRuntime::new();
    // Not delegated.
    assert!(matches!(
        register(&rt, register_arg(vec![input("a", "4D.large")])),
        Err(MarketError::NotAuthorized { .. })
    ));
    act_for(&rt, &SECRET);
    let mut arg = register_arg(vec![input("a", "4D.large")]);
    arg.provider = ProviderKeyInput::Pem("not a key".into());
    assert!(matches!(
        register(&rt, arg),
        Err(MarketError::InvalidKey { .. })
    ));
    let before = state();
    invalid_argument(register(&rt, register_arg(vec![])));
    let too_many = (0..=MAX_ITEMS_PER_CALL)
        .map(|i| input(&format!("n{i}"), "4D.large"))
        .collect();
    assert_eq!(
        register(&rt, register_arg(too_many)),
        Err(MarketError::TooMany {
            what: "items".into(),
            max: 500
        })
    );
    assert_eq!(state(), before);
    let most = (0..MAX_ITEMS_PER_CALL)
        .map(|i| input(&format!("n{i}"), "4D.large"))
        .collect();
    assert_eq!(register(&rt, register_arg(most)).unwrap().len(), 500);
}

#[test]
fn one_bad_item_refuses_the_whole_call() {
    let rt = FakeRuntime::new();
    register_item(&rt, &SECRET, "known", "4D.large");
    let before = state();
    let long = "x".repeat(crate::market::MAX_TEXT_BYTES + 1);
    let with = |edit: fn(&mut ItemInput, &str)| {
        let mut item = input("u", "4D.large");
        edit(&mut item, &long);
        item
    };
    let invalid = MarketError::InvalidArgument {
        message: String::new(),
    };
    let too_many = MarketError::TooMany {
        what: String::new(),
        max: 0,
    };
    let cases = [
        (with(|i, _| i.resource_type.clear()), &invalid),
        (with(|i, _| i.resource_uuid.clear()), &invalid),
        (with(|i, long| i.resource_uuid = long.into()), &invalid),
        (
            with(|i, _| i.resource_uuid = "line\nbreak".into()),
            &invalid,
        ),
        (with(|i, _| i.resource_type = "a\nb".into()), &invalid),
        (
            with(|i, long| i.attributes.resource_class = long.into()),
            &invalid,
        ),
        (
            with(|i, _| i.attributes.labels = vec!["vCloud".into(); MAX_LABELS + 1]),
            &too_many,
        ),
        (
            with(|i, _| i.attributes.labels = vec!["vCloud".into(), String::new()]),
            &invalid,
        ),
        (with(|i, _| i.offering_key = Some("DC1".into())), &invalid),
        (with(|i, _| i.offering_key = Some(String::new())), &invalid),
        (
            with(|i, _| i.sku = "9Z.large".into()),
            &MarketError::InvalidSku {
                sku: String::new(),
                message: String::new(),
            },
        ),
    ];
    for (item, expected) in cases {
        // A valid update and a valid new item ahead of the bad one are not written either.
        let mut changed = input("known", "1A.small");
        changed.attributes.gpus = 4;
        let arg = register_arg(vec![changed, input("fresh", "4D.large"), item]);
        let error = register(&rt, arg).unwrap_err();
        assert_eq!(
            std::mem::discriminant(&error),
            std::mem::discriminant(expected),
            "{error:?}"
        );
        assert_eq!(state(), before);
    }
    let twice = register_arg(vec![input("dup", "4D.large"), input("dup", "2C.small")]);
    invalid_argument(register(&rt, twice));
    assert_eq!(state(), before);

    // The limits themselves are fine; resource_class may be empty.
    let mut edge = input(&"u".repeat(crate::market::MAX_TEXT_BYTES), "4D.large");
    edge.attributes.labels = vec!["l".into(); MAX_LABELS];
    edge.attributes.resource_class = String::new();
    register(&rt, register_arg(vec![edge])).unwrap();
}

#[test]
fn offering_keys_must_be_in_the_providers_catalog() {
    let rt = FakeRuntime::new();
    act_for(&rt, &SECRET);
    let with_key = |key: &str| ItemInput {
        offering_key: Some(key.into()),
        ..input("u", "4D.large")
    };
    // No catalog at all.
    invalid_argument(register(&rt, register_arg(vec![with_key("DC1")])));
    let csv = publish::testing::csv(&[("DC1", "10.00")]);
    publish::replace(
        &rt,
        publish::testing::publish_arg(Operation::ReplaceCatalog, 1, csv),
    )
    .unwrap();
    let unknown = register(&rt, register_arg(vec![with_key("DC2")]));
    assert!(
        matches!(&unknown, Err(MarketError::InvalidArgument { message }) if message.contains("\"DC2\"")),
        "{unknown:?}"
    );
    let item = register(&rt, register_arg(vec![with_key("DC1")]))
        .unwrap()
        .remove(0);
    assert_eq!(item.offering_key.as_deref(), Some("DC1"));
    // Another provider cannot name the first one's offering.
    act_for(&rt, &OTHER_SECRET);
    let arg = InventoryRegisterArg {
        provider: key_input(&OTHER_SECRET),
        items: vec![with_key("DC1")],
    };
    invalid_argument(register(&rt, arg));
}

#[test]
fn maintenance_hides_offers_and_rejects_holds_until_the_item_returns() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let offer = offer_on(&rt, &item, now, now + 10 * HOUR, 100);
    let held = booked_execution(&item, offer.id, now, now + HOUR, Phase::Offered);
    let accepted = booked_execution(
        &item,
        offer.id,
        now + 2 * HOUR,
        now + 3 * HOUR,
        Phase::Accepted,
    );
    assert_eq!(index::len(), 1);

    let mut arg = set_status_arg(item.id, Maintenance);
    arg.reason = "disk swap".into();
    let moved = set_status(&rt, arg).unwrap();
    assert_eq!(moved.status, Maintenance);
    assert_eq!(store::item(item.id), Some(moved));
    assert_eq!(index::len(), 0);
    let rejected = store::execution(held.id).unwrap();
    assert_eq!(rejected.phase, Phase::Rejected);
    assert_eq!(
        rejected.reason.as_deref(),
        Some("item taken out of service")
    );
    assert_eq!(
        store::execution(accepted.id).unwrap().phase,
        Phase::Accepted
    );
    assert_eq!(store::item_bookings(item.id).len(), 1);
    // The offer stays open, only hidden.
    assert_eq!(store::offer(offer.id).unwrap().status, OfferStatus::Open);
    let entry = audit::entry(audit::len() - 1).unwrap();
    assert_eq!(entry.entity, Entity::Item(item.id));
    assert_eq!(
        (entry.from.as_str(), entry.to.as_str(), entry.why.as_str()),
        ("available", "maintenance", "disk swap")
    );

    set_status(&rt, set_status_arg(item.id, Available)).unwrap();
    assert_eq!(index::len(), 1);
    assert_eq!(last_audit().why, "set by its provider");
}

#[test]
fn set_status_refuses_bad_calls_and_changes_nothing() {
    let rt = FakeRuntime::new();
    let item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let foreign = register_item(&rt, &OTHER_SECRET, "node-9", "4D.large");
    act_for(&rt, &SECRET);
    let before = state();
    assert_eq!(
        set_status(&rt, set_status_arg(99, Maintenance)),
        Err(MarketError::UnknownItem { id: 99 })
    );
    assert!(matches!(
        set_status(&rt, set_status_arg(foreign.id, Maintenance)),
        Err(MarketError::NotAuthorized { .. })
    ));
    for to in [Available, Reserving, Leased, Rebuilding] {
        assert_eq!(
            set_status(&rt, set_status_arg(item.id, to)),
            Err(MarketError::InvalidTransition {
                from: Available,
                to
            })
        );
    }
    let mut long_reason = set_status_arg(item.id, Maintenance);
    long_reason.reason = "r".repeat(crate::market::MAX_TEXT_BYTES + 1);
    invalid_argument(set_status(&rt, long_reason));
    rt.caller.set(delegate(&OTHER_SECRET));
    assert!(matches!(
        set_status(&rt, set_status_arg(item.id, Maintenance)),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(state(), before);
}

#[test]
fn archiving_waits_for_accepted_leases_and_withdraws_open_offers() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let first = offer_on(&rt, &item, now, now + 2 * HOUR, 100);
    let second = offer_on(&rt, &item, now + 2 * HOUR, now + 4 * HOUR, 100);
    let lease = booked_execution(&item, first.id, now, now + HOUR, Phase::Available);
    let held = booked_execution(
        &item,
        second.id,
        now + 2 * HOUR,
        now + 3 * HOUR,
        Phase::Offered,
    );

    let before = state();
    assert_eq!(
        set_status(&rt, set_status_arg(item.id, Archiving)),
        Err(MarketError::ItemBusy {
            item_id: item.id,
            execution_id: lease.id
        })
    );
    assert_eq!(state(), before);

    // Once the lease's window has passed, archiving goes ahead.
    rt.time.set(now + HOUR);
    let archived = set_status(&rt, set_status_arg(item.id, Archiving)).unwrap();
    assert_eq!(archived.status, Archiving);
    assert_eq!(store::execution(held.id).unwrap().phase, Phase::Rejected);
    assert_eq!(store::execution(lease.id).unwrap().phase, Phase::Available);
    // Both offers are withdrawn; the lease runs on (it books its own window).
    assert_eq!(
        store::offer(first.id).unwrap().status,
        OfferStatus::Withdrawn
    );
    let withdrawn = store::offer(second.id).unwrap();
    assert_eq!(withdrawn.status, OfferStatus::Withdrawn);
    assert_eq!(withdrawn.updated_at_ns, now + HOUR);
    let entry = last_audit();
    assert_eq!(entry.entity, Entity::Offer(second.id));
    assert_eq!(
        (entry.from.as_str(), entry.to.as_str(), entry.why.as_str()),
        ("open", "withdrawn", "item archived")
    );
    assert_eq!(index::len(), 0);
    // Back to available: the withdrawn offer stays withdrawn.
    set_status(&rt, set_status_arg(item.id, Available)).unwrap();
    assert_eq!(index::len(), 0);
}

#[test]
fn remove_takes_only_archived_items_with_nothing_booked() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let foreign = register_item(&rt, &OTHER_SECRET, "node-9", "4D.large");
    act_for(&rt, &SECRET);
    let before = state();
    assert_eq!(
        remove(&rt, remove_arg(item.id)),
        Err(MarketError::InvalidTransition {
            from: Available,
            to: Archiving
        })
    );
    assert_eq!(
        remove(&rt, remove_arg(99)),
        Err(MarketError::UnknownItem { id: 99 })
    );
    assert!(matches!(
        remove(&rt, remove_arg(foreign.id)),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(state(), before);

    set_status(&rt, set_status_arg(item.id, Archiving)).unwrap();
    // A lease whose window has passed but that has not finished yet still needs the item.
    let lease = booked_execution(&item, 0, now - 2 * HOUR, now - HOUR, Phase::Releasing);
    let before = state();
    assert_eq!(
        remove(&rt, remove_arg(item.id)),
        Err(MarketError::ItemBusy {
            item_id: item.id,
            execution_id: lease.id
        })
    );
    assert_eq!(state(), before);
    store::unbook(item.id, lease.start_ns, lease.id);

    remove(&rt, remove_arg(item.id)).unwrap();
    assert_eq!(store::item(item.id), None);
    assert_eq!(
        store::item_by_resource(
            &crate::catalog::signing::provider_of(&SECRET),
            "ironic_node",
            "node-1"
        ),
        None
    );
    let entry = last_audit();
    assert_eq!(entry.entity, Entity::Item(item.id));
    assert_eq!(
        (entry.from.as_str(), entry.to.as_str()),
        ("archiving", "removed")
    );
    assert_eq!(
        remove(&rt, remove_arg(item.id)),
        Err(MarketError::UnknownItem { id: item.id })
    );
    // The same resource registered again is a new item.
    let again = register_item(&rt, &SECRET, "node-1", "4D.large");
    assert_ne!(again.id, item.id);
}

#[test]
fn list_filters_and_pages() {
    let rt = FakeRuntime::new();
    for i in 0..5 {
        let sku = if i % 2 == 0 { "4D.large" } else { "2C.small" };
        register_item(&rt, &SECRET, &format!("a{i}"), sku);
    }
    let theirs = register_item(&rt, &OTHER_SECRET, "b", "4D.large");
    act_for(&rt, &SECRET);
    set_status(&rt, set_status_arg(3, Maintenance)).unwrap();

    let ids = |page: &ItemPage| page.items.iter().map(|i| i.id).collect::<Vec<_>>();
    let all = list(InventoryListArg::default()).unwrap();
    assert_eq!((ids(&all), all.next), (vec![1, 2, 3, 4, 5, 6], None));

    let page = |arg: InventoryListArg| list(arg).unwrap();
    let first = page(InventoryListArg {
        sku: Some("4d.LARGE".into()),
        limit: Some(2),
        ..Default::default()
    });
    assert_eq!((ids(&first), first.next), (vec![1, 3], Some(3)));
    let rest = page(InventoryListArg {
        sku: Some("4D.large".into()),
        limit: Some(2),
        after: first.next,
        ..Default::default()
    });
    assert_eq!((ids(&rest), rest.next), (vec![5, 6], Some(6)));
    let end = page(InventoryListArg {
        sku: Some("4D.large".into()),
        limit: Some(2),
        after: rest.next,
        ..Default::default()
    });
    assert_eq!((ids(&end), end.next), (vec![], None));

    let mine = page(InventoryListArg {
        provider: Some(key_input(&SECRET)),
        sku: Some("4D.large".into()),
        ..Default::default()
    });
    assert_eq!(ids(&mine), [1, 3, 5]);
    let theirs_page = page(InventoryListArg {
        provider: Some(key_input(&OTHER_SECRET)),
        after: Some(0),
        ..Default::default()
    });
    assert_eq!(ids(&theirs_page), [theirs.id]);
    let in_maintenance = page(InventoryListArg {
        status: Some(Maintenance),
        ..Default::default()
    });
    assert_eq!(ids(&in_maintenance), [3]);
    let mine_after = page(InventoryListArg {
        provider: Some(key_input(&SECRET)),
        after: Some(3),
        limit: Some(1),
        ..Default::default()
    });
    assert_eq!((ids(&mine_after), mine_after.next), (vec![4], Some(4)));

    assert!(matches!(
        list(InventoryListArg {
            sku: Some("4Z.large".into()),
            ..Default::default()
        }),
        Err(MarketError::InvalidSku { .. })
    ));
    assert!(matches!(
        list(InventoryListArg {
            provider: Some(ProviderKeyInput::Pem("nope".into())),
            ..Default::default()
        }),
        Err(MarketError::InvalidKey { .. })
    ));
    invalid_argument(list(InventoryListArg {
        limit: Some(0),
        ..Default::default()
    }));
    assert!(matches!(
        list(InventoryListArg {
            limit: Some(crate::market::MAX_PAGE + 1),
            ..Default::default()
        }),
        Err(MarketError::TooMany { .. })
    ));
}

#[test]
fn products_count_what_can_be_leased_now_per_sku() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let large: Vec<Item> = (0..5)
        .map(|i| register_item(&rt, &SECRET, &format!("l{i}"), "4D.large"))
        .collect();
    register_item(&rt, &SECRET, "s0", "2c.small");
    // l0: open now at 300 and 200 later; l1: open now at 250; l2: offered only later;
    // l3: booked now; l4: in maintenance.
    offer_on(&rt, &large[0], now - HOUR, now + HOUR, 300);
    offer_on(&rt, &large[0], now + HOUR, now + 2 * HOUR, 200);
    offer_on(&rt, &large[1], now, now + HOUR, 250);
    offer_on(&rt, &large[2], now + HOUR, now + 2 * HOUR, 10);
    offer_on(&rt, &large[3], now, now + HOUR, 5);
    booked_execution(&large[3], 0, now - 1, now + 1, Phase::Offered);
    offer_on(&rt, &large[4], now, now + HOUR, 1);
    set_status(&rt, set_status_arg(large[4].id, Maintenance)).unwrap();

    assert_eq!(
        products(now),
        vec![
            Product {
                sku: "2C.small".into(),
                tier: 2,
                tier_name: "PaaS".into(),
                kind: "C".into(),
                kind_name: "vCloud".into(),
                size: "small".into(),
                total: 1,
                available: 1,
                leasable_now: 0,
                min_price_per_hour: None,
            },
            Product {
                sku: "4D.large".into(),
                tier: 4,
                tier_name: "MaaS".into(),
                kind: "D".into(),
                kind_name: "raw hardware".into(),
                size: "large".into(),
                total: 5,
                available: 3,
                leasable_now: 2,
                min_price_per_hour: Some(250),
            },
        ]
    );
    // At an offer's end it no longer covers now.
    let later = products(now + HOUR);
    assert_eq!((later[1].available, later[1].leasable_now), (4, 2));
    assert_eq!(later[1].min_price_per_hour, Some(10));
    assert_eq!(products(0).len(), 2);
}

#[test]
fn move_item_keeps_the_lease_only_while_reserving_or_leased() {
    let rt = FakeRuntime::new();
    let mut item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let actor = Actor::Canister;
    let t = rt.time();
    let before = state();
    assert_eq!(
        move_item(t + 1, &actor, By::Market, &mut item, Maintenance, "x"),
        Err(MarketError::InvalidTransition {
            from: Available,
            to: Maintenance
        })
    );
    assert_eq!(state(), before);
    item.lease_id = Some(7);
    move_item(
        t + 10,
        &actor,
        By::Market,
        &mut item,
        Reserving,
        "lease 7 starts",
    )
    .unwrap();
    move_item(
        t + 11,
        &actor,
        By::Market,
        &mut item,
        Leased,
        "lease 7 runs",
    )
    .unwrap();
    assert_eq!(store::item(item.id).unwrap().lease_id, Some(7));
    move_item(
        t + 12,
        &actor,
        By::Market,
        &mut item,
        Rebuilding,
        "lease 7 ended",
    )
    .unwrap();
    let stored = store::item(item.id).unwrap();
    assert_eq!(
        (stored.status, stored.lease_id, stored.updated_at_ns),
        (Rebuilding, None, t + 12)
    );
    let entry = last_audit();
    assert_eq!(
        (entry.at_ns, entry.actor.clone()),
        (t + 12, Actor::Canister)
    );
    assert_eq!(
        (entry.from.as_str(), entry.to.as_str(), entry.why.as_str()),
        ("leased", "rebuilding", "lease 7 ended")
    );
}

#[test]
fn finish_rebuild_moves_only_a_rebuilding_item_once() {
    let rt = FakeRuntime::new();
    let mut item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let actor = Actor::Canister;
    let t = rt.time();
    move_item(t, &actor, By::Market, &mut item, Reserving, "r").unwrap();
    move_item(t, &actor, By::Market, &mut item, Rebuilding, "r").unwrap();
    finish_rebuild(&rt, item.id);
    let stored = store::item(item.id).unwrap();
    assert_eq!(stored.status, Available);
    let entry = last_audit();
    assert_eq!(
        (entry.why.as_str(), entry.actor),
        ("rebuild finished", Actor::Canister)
    );

    let before = state();
    finish_rebuild(&rt, item.id);
    finish_rebuild(&rt, 99);
    set_status(&rt, set_status_arg(item.id, Maintenance)).unwrap();
    let before_maintenance = state();
    finish_rebuild(&rt, item.id);
    assert_eq!(state(), before_maintenance);
    assert_ne!(before, before_maintenance);
}

#[test]
fn the_manager_runs_finish_rebuild() {
    let rt = FakeRuntime::new();
    let mut item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let t = rt.time();
    move_item(t, &Actor::Canister, By::Market, &mut item, Reserving, "r").unwrap();
    move_item(t, &Actor::Canister, By::Market, &mut item, Rebuilding, "r").unwrap();
    crate::queue::schedule(
        &rt,
        rt.time(),
        crate::queue::Task::FinishRebuild { item_id: item.id },
    );
    crate::tasks::run_due(&rt, || true);
    assert_eq!(store::item(item.id).unwrap().status, Available);
}
