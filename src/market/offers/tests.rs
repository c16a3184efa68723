use super::*;
use crate::catalog::provider::ProviderKeyInput;
use crate::market::inventory::testing::*;
use crate::runtime::FakeRuntime;

const HOUR: u64 = crate::time::HOUR_NS;

fn create_arg(item_id: u64, start_ns: u64, end_ns: u64) -> OfferCreateArg {
    OfferCreateArg {
        terms: None,
        provider: key_input(&SECRET),
        item_id,
        start_ns,
        end_ns,
        price_per_hour: 100,
        properties: vec![Property {
            key: "region".into(),
            value: "eu".into(),
        }],
    }
}

fn withdraw_arg(offer_id: u64) -> OfferWithdrawArg {
    OfferWithdrawArg {
        provider: key_input(&SECRET),
        offer_id,
    }
}

fn window_error(result: Result<Offer, MarketError>) {
    assert!(
        matches!(result, Err(MarketError::InvalidWindow { .. })),
        "{result:?}"
    );
}

#[test]
fn create_stores_indexes_records_and_schedules_the_expiry() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let offer = create(&rt, create_arg(item.id, now, now + HOUR)).unwrap();
    assert_eq!(offer.id, 1);
    assert_eq!(offer.status, OfferStatus::Open);
    assert_eq!(offer.provider_pem, pem(&SECRET));
    assert_eq!(
        (offer.resource_type.as_str(), offer.resource_uuid.as_str()),
        ("ironic_node", "node-1")
    );
    assert_eq!((offer.created_at_ns, offer.updated_at_ns), (now, now));
    assert_eq!(store::offer(offer.id), Some(offer.clone()));
    assert_eq!(store::item_offer_ids(item.id), [offer.id]);
    let open = index::item_open_offers(item.id);
    assert_eq!(open.len(), 1);
    assert_eq!((open[0].price_per_hour, open[0].end_ns), (100, now + HOUR));
    let entry = last_audit();
    assert_eq!(entry.entity, Entity::Offer(offer.id));
    assert_eq!(
        (entry.from.as_str(), entry.to.as_str(), entry.why.as_str()),
        ("", "open", "created")
    );
    assert_eq!(entry.provider_pem, pem(&SECRET));
    assert_eq!(crate::queue::next_due(), Some(now + HOUR));
    assert_eq!(rt.armed_timer.get(), Some(now + HOUR));

    // The task queue expires it at its end.
    rt.time.set(now + HOUR);
    crate::tasks::run_due(&rt, || true);
    assert_eq!(get(offer.id).unwrap().status, OfferStatus::Expired);
    assert_eq!(index::len(), 0);
}

#[test]
fn an_item_in_maintenance_can_be_offered_but_is_not_matched_until_it_returns() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let mut moved = item.clone();
    inventory::move_item(
        now,
        &Actor::Canister,
        inventory::By::Provider,
        &mut moved,
        ItemStatus::Maintenance,
        "test",
    )
    .unwrap();
    create(&rt, create_arg(item.id, now, now + HOUR)).unwrap();
    assert_eq!(index::len(), 0);
    inventory::move_item(
        now,
        &Actor::Canister,
        inventory::By::Provider,
        &mut moved,
        ItemStatus::Available,
        "test",
    )
    .unwrap();
    assert_eq!(index::len(), 1);
}

#[test]
fn create_refuses_bad_calls_and_changes_nothing() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let foreign = register_item(&rt, &OTHER_SECRET, "node-9", "4D.large");
    let archived = register_item(&rt, &SECRET, "node-2", "4D.large");
    let set = InventorySetStatusArg {
        provider: key_input(&SECRET),
        item_id: archived.id,
        status: ItemStatus::Archiving,
        reason: String::new(),
    };
    inventory::set_status(&rt, set).unwrap();
    let existing = create(&rt, create_arg(item.id, now, now + 2 * HOUR)).unwrap();
    let before = state();

    assert_eq!(
        create(&rt, create_arg(99, now, now + HOUR)),
        Err(MarketError::UnknownItem { id: 99 })
    );
    assert!(matches!(
        create(&rt, create_arg(foreign.id, now, now + HOUR)),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert!(matches!(
        create(&rt, create_arg(archived.id, now, now + HOUR)),
        Err(MarketError::InvalidArgument { .. })
    ));
    window_error(create(&rt, create_arg(item.id, now + HOUR, now + HOUR)));
    window_error(create(&rt, create_arg(item.id, now + HOUR, now)));
    window_error(create(&rt, create_arg(item.id, now - 2 * HOUR, now)));
    window_error(create(
        &rt,
        create_arg(item.id, now + 3 * HOUR, now + 3 * HOUR + MAX_WINDOW_NS + 1),
    ));
    let mut arg = create_arg(item.id, now + 3 * HOUR, now + 4 * HOUR);
    arg.properties = vec![arg.properties[0].clone(); MAX_PROPERTIES + 1];
    assert_eq!(
        create(&rt, arg),
        Err(MarketError::TooMany {
            what: "properties".into(),
            max: 32
        })
    );
    for (key, value) in [
        (String::new(), "v".to_string()),
        ("k".into(), "v".repeat(crate::market::MAX_TEXT_BYTES + 1)),
    ] {
        let mut arg = create_arg(item.id, now + 3 * HOUR, now + 4 * HOUR);
        arg.properties = vec![Property { key, value }];
        assert!(matches!(
            create(&rt, arg),
            Err(MarketError::InvalidArgument { .. })
        ));
    }
    for (start, end) in [
        (now, now + HOUR),
        (now + HOUR, now + 3 * HOUR),
        (now - HOUR, now + 3 * HOUR),
    ] {
        assert_eq!(
            create(&rt, create_arg(item.id, start, end)),
            Err(MarketError::OfferOverlap {
                offer_id: existing.id
            })
        );
    }
    let mut bad_key = create_arg(item.id, now + 3 * HOUR, now + 4 * HOUR);
    bad_key.provider = ProviderKeyInput::Pem("nope".into());
    assert!(matches!(
        create(&rt, bad_key),
        Err(MarketError::InvalidKey { .. })
    ));
    rt.caller.set(candid::Principal::from_slice(&[77; 29]));
    assert!(matches!(
        create(&rt, create_arg(item.id, now + 3 * HOUR, now + 4 * HOUR)),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(state(), before);
}

fn input(item_id: u64, start_ns: u64, end_ns: u64, price: u64) -> OfferInput {
    let arg = create_arg(item_id, start_ns, end_ns);
    OfferInput {
        terms: None,
        item_id,
        start_ns,
        end_ns,
        price_per_hour: price,
        properties: arg.properties,
    }
}

fn batch(offers: Vec<OfferInput>) -> OffersCreateArg {
    OffersCreateArg {
        provider: key_input(&SECRET),
        offers,
    }
}

#[test]
fn a_batch_creates_every_offer_in_input_order_as_create_would() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let a = register_item(&rt, &SECRET, "a", "4D.large");
    let b = register_item(&rt, &SECRET, "b", "4D.large");
    let existing = create(&rt, create_arg(a.id, now, now + HOUR)).unwrap();
    let audit_before = audit::len();
    let tasks_before = crate::queue::queue_len();
    let offers = vec![
        // Touching the existing offer and each other: no overlap.
        input(a.id, now + HOUR, now + 2 * HOUR, 300),
        input(b.id, now, now + 3 * HOUR, 100),
        input(a.id, now + 2 * HOUR, now + 4 * HOUR, 200),
    ];
    let created = create_batch(&rt, batch(offers.clone())).unwrap();
    assert_eq!(
        created.iter().map(|o| o.id).collect::<Vec<_>>(),
        [existing.id + 1, existing.id + 2, existing.id + 3]
    );
    for (offer, input) in created.iter().zip(&offers) {
        assert_eq!(
            (
                offer.item_id,
                offer.start_ns,
                offer.end_ns,
                offer.price_per_hour
            ),
            (
                input.item_id,
                input.start_ns,
                input.end_ns,
                input.price_per_hour
            )
        );
        assert_eq!(offer.properties, input.properties);
        assert_eq!(offer.status, OfferStatus::Open);
        assert_eq!(offer.provider_pem, pem(&SECRET));
        assert_eq!((offer.created_at_ns, offer.updated_at_ns), (now, now));
        assert_eq!(store::offer(offer.id).as_ref(), Some(offer));
    }
    assert_eq!(created[1].resource_uuid, "b");
    assert_eq!(
        store::item_offer_ids(a.id),
        [existing.id, created[0].id, created[2].id]
    );
    assert_eq!(
        index::item_open_offers(a.id)
            .iter()
            .map(|o| o.offer_id)
            .collect::<Vec<_>>(),
        [existing.id, created[2].id, created[0].id]
    );
    assert_eq!(index::len(), 4);
    // One audit entry and one expiry task per offer.
    assert_eq!(audit::len(), audit_before + 3);
    assert_eq!(crate::queue::queue_len(), tasks_before + 3);
    let entry = last_audit();
    assert_eq!(entry.entity, Entity::Offer(created[2].id));
    assert_eq!((entry.from.as_str(), entry.to.as_str()), ("", "open"));

    // Each expires at its own end.
    rt.time.set(now + 3 * HOUR);
    crate::tasks::run_due(&rt, || true);
    let status = |id| get(id).unwrap().status;
    assert_eq!(status(created[0].id), OfferStatus::Expired);
    assert_eq!(status(created[1].id), OfferStatus::Expired);
    assert_eq!(status(created[2].id), OfferStatus::Open);
}

#[test]
fn a_batch_whose_offers_overlap_each_other_is_refused_whole() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let a = register_item(&rt, &SECRET, "a", "4D.large");
    let b = register_item(&rt, &SECRET, "b", "4D.large");
    let before = state();
    let offers = vec![
        input(a.id, now, now + 2 * HOUR, 100),
        // The same window on another item is fine.
        input(b.id, now, now + 2 * HOUR, 100),
        input(a.id, now + 2 * HOUR, now + 3 * HOUR, 100),
        input(a.id, now + HOUR, now + 2 * HOUR + 1, 100),
    ];
    let refused = create_batch(&rt, batch(offers.clone()));
    let Err(MarketError::InvalidArgument { message }) = refused else {
        panic!("{refused:?}");
    };
    assert!(
        message.starts_with("offers[3] overlaps offers[0]"),
        "{message}"
    );
    assert_eq!(state(), before);
    // The same offers one call at a time: the fourth overlaps the stored first.
    let first = create_batch(&rt, batch(offers[..3].to_vec())).unwrap();
    assert_eq!(
        create_batch(&rt, batch(offers[3..].to_vec())),
        Err(MarketError::OfferOverlap {
            offer_id: first[0].id
        })
    );
}

#[test]
fn one_bad_offer_refuses_the_batch_and_changes_nothing() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let other = register_item(&rt, &SECRET, "node-2", "4D.large");
    let foreign = register_item(&rt, &OTHER_SECRET, "node-9", "4D.large");
    act_for(&rt, &SECRET);
    let existing = create(&rt, create_arg(item.id, now, now + HOUR)).unwrap();
    let before = state();
    let good = || {
        vec![
            input(other.id, now, now + HOUR, 100),
            input(item.id, now + HOUR, now + 2 * HOUR, 100),
        ]
    };
    let with = |bad: OfferInput| {
        let mut offers = good();
        offers.push(bad);
        create_batch(&rt, batch(offers))
    };
    assert_eq!(
        with(input(99, now, now + HOUR, 1)),
        Err(MarketError::UnknownItem { id: 99 })
    );
    assert!(matches!(
        with(input(foreign.id, now, now + HOUR, 1)),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(
        with(input(item.id, now + 3 * HOUR, now + 3 * HOUR, 1)),
        Err(MarketError::InvalidWindow {
            message: "offers[2]: the window must end after it starts".into()
        })
    );
    assert_eq!(
        with(input(item.id, now - HOUR, now + HOUR / 2, 1)),
        Err(MarketError::OfferOverlap {
            offer_id: existing.id
        })
    );
    let mut props = input(item.id, now + 3 * HOUR, now + 4 * HOUR, 1);
    props.properties = vec![props.properties[0].clone(); MAX_PROPERTIES + 1];
    assert_eq!(
        with(props),
        Err(MarketError::TooMany {
            what: "offers[2].properties".into(),
            max: MAX_PROPERTIES as u32
        })
    );
    let mut empty_key = input(item.id, now + 3 * HOUR, now + 4 * HOUR, 1);
    empty_key.properties[0].key.clear();
    let refused = with(empty_key);
    assert!(
        matches!(&refused, Err(MarketError::InvalidArgument { message })
                if message.starts_with("offers[2]: properties[0].key")),
        "{refused:?}"
    );
    assert_eq!(
        create_batch(&rt, batch(vec![])),
        Err(MarketError::InvalidArgument {
            message: "offers must not be empty".into()
        })
    );
    let too_many: Vec<OfferInput> = (0..=MAX_OFFERS_PER_CALL as u64)
        .map(|i| input(item.id, now + (i + 2) * HOUR, now + (i + 3) * HOUR, 1))
        .collect();
    assert_eq!(
        create_batch(&rt, batch(too_many)),
        Err(MarketError::TooMany {
            what: "offers".into(),
            max: 500
        })
    );
    rt.caller.set(candid::Principal::from_slice(&[77; 29]));
    assert!(matches!(
        create_batch(&rt, batch(good())),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(state(), before);

    // The most a call may carry is accepted.
    act_for(&rt, &SECRET);
    let most: Vec<OfferInput> = (0..MAX_OFFERS_PER_CALL as u64)
        .map(|i| input(item.id, now + (i + 2) * HOUR, now + (i + 3) * HOUR, 1))
        .collect();
    assert_eq!(create_batch(&rt, batch(most)).unwrap().len(), 500);
}

#[test]
fn windows_may_touch_and_closed_or_ended_offers_block_nothing() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let a = register_item(&rt, &SECRET, "a", "4D.large");
    let b = register_item(&rt, &SECRET, "b", "4D.large");
    // A window may start in the past; adjacent windows do not overlap.
    let first = create(&rt, create_arg(a.id, now - HOUR, now + HOUR)).unwrap();
    create(&rt, create_arg(a.id, now + HOUR, now + 2 * HOUR)).unwrap();
    assert_eq!(
        create(&rt, create_arg(a.id, now + HOUR - 1, now + HOUR + 1)),
        Err(MarketError::OfferOverlap { offer_id: first.id })
    );
    withdraw(&rt, withdraw_arg(first.id)).unwrap();
    create(&rt, create_arg(a.id, now - HOUR, now + HOUR)).unwrap();

    // At its end an offer the task queue has not expired yet no longer blocks its window.
    let ended = create(&rt, create_arg(b.id, now, now + HOUR)).unwrap();
    rt.time.set(now + HOUR);
    create(&rt, create_arg(b.id, now, now + 2 * HOUR)).unwrap();
    assert_eq!(get(ended.id).unwrap().status, OfferStatus::Open);
    let longest = create_arg(b.id, now + 2 * HOUR, now + 2 * HOUR + MAX_WINDOW_NS);
    create(&rt, longest).unwrap();
}

#[test]
fn withdraw_rejects_the_offers_holds_and_nothing_else() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let offer = create(&rt, create_arg(item.id, now, now + 4 * HOUR)).unwrap();
    let other = create(&rt, create_arg(item.id, now + 4 * HOUR, now + 8 * HOUR)).unwrap();
    let held = booked_execution(&item, offer.id, now, now + HOUR, Phase::Offered);
    let accepted = booked_execution(&item, offer.id, now + HOUR, now + 2 * HOUR, Phase::Accepted);
    let elsewhere = booked_execution(
        &item,
        other.id,
        now + 4 * HOUR,
        now + 5 * HOUR,
        Phase::Offered,
    );

    rt.time.set(now + 1);
    let withdrawn = withdraw(&rt, withdraw_arg(offer.id)).unwrap();
    assert_eq!(withdrawn.status, OfferStatus::Withdrawn);
    assert_eq!(withdrawn.updated_at_ns, now + 1);
    assert_eq!(store::offer(offer.id), Some(withdrawn));
    let rejected = store::execution(held.id).unwrap();
    assert_eq!(rejected.phase, Phase::Rejected);
    assert_eq!(
        rejected.reason.as_deref(),
        Some("offer withdrawn by its provider")
    );
    assert_eq!(
        store::execution(accepted.id).unwrap().phase,
        Phase::Accepted
    );
    assert_eq!(
        store::execution(elsewhere.id).unwrap().phase,
        Phase::Offered
    );
    assert_eq!(
        index::item_open_offers(item.id)
            .iter()
            .map(|o| o.offer_id)
            .collect::<Vec<_>>(),
        [other.id]
    );
    let offer_entry = audit::entry(audit::len() - 1).unwrap();
    assert_eq!(offer_entry.entity, Entity::Offer(offer.id));
    assert_eq!(
        (offer_entry.from.as_str(), offer_entry.to.as_str()),
        ("open", "withdrawn")
    );
    assert_eq!(last_audit().entity, Entity::Execution(held.id));
}

#[test]
fn withdraw_refuses_bad_calls_and_changes_nothing() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let offer = create(&rt, create_arg(item.id, now, now + HOUR)).unwrap();
    let claimed = create(&rt, create_arg(item.id, now + HOUR, now + 2 * HOUR)).unwrap();
    close_as_older_canisters_did(claimed.id);
    register_item(&rt, &OTHER_SECRET, "node-9", "4D.large");
    let before = state();
    assert!(matches!(
        withdraw(&rt, withdraw_arg(offer.id)),
        Err(MarketError::NotAuthorized { .. })
    ));
    act_for(&rt, &SECRET);
    let mut foreign = withdraw_arg(offer.id);
    foreign.provider = key_input(&OTHER_SECRET);
    assert!(matches!(
        withdraw(&rt, foreign),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(
        withdraw(&rt, withdraw_arg(99)),
        Err(MarketError::UnknownOffer { id: 99 })
    );
    assert_eq!(
        withdraw(&rt, withdraw_arg(claimed.id)),
        Err(MarketError::OfferClosed {
            offer_id: claimed.id,
            status: OfferStatus::Claimed
        })
    );
    assert_eq!(state(), before);
    withdraw(&rt, withdraw_arg(offer.id)).unwrap();
    assert_eq!(
        withdraw(&rt, withdraw_arg(offer.id)),
        Err(MarketError::OfferClosed {
            offer_id: offer.id,
            status: OfferStatus::Withdrawn
        })
    );
}

/// An offer claimed whole by a lease, as canisters before leases booked only their window
/// stored it.
fn close_as_older_canisters_did(offer_id: u64) {
    let mut offer = get(offer_id).unwrap();
    offer.status = OfferStatus::Claimed;
    store::put_offer(&offer);
    index::remove(offer_id);
}

#[test]
fn an_offer_claimed_by_an_older_canister_stays_closed() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let offer = create(&rt, create_arg(item.id, now, now + HOUR)).unwrap();
    close_as_older_canisters_did(offer.id);
    let before = state();
    // Its expiry task later finds it closed, and a rebuilt index leaves it out.
    rt.time.set(now + HOUR);
    expire(&rt, offer.id);
    assert_eq!(state(), before);
    index::rebuild();
    assert_eq!(index::len(), 0);
}

#[test]
fn expire_closes_only_open_offers_whose_window_ended() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let item = register_item(&rt, &SECRET, "node-1", "4D.large");
    let offer = create(&rt, create_arg(item.id, now, now + HOUR)).unwrap();
    let before = state();
    expire(&rt, offer.id);
    rt.time.set(now + HOUR - 1);
    expire(&rt, offer.id);
    expire(&rt, 99);
    assert_eq!(state(), before);

    rt.time.set(now + HOUR);
    expire(&rt, offer.id);
    let expired = get(offer.id).unwrap();
    assert_eq!(expired.status, OfferStatus::Expired);
    assert_eq!(index::len(), 0);
    let entry = last_audit();
    assert_eq!(entry.actor, Actor::Canister);
    assert_eq!(
        (entry.from.as_str(), entry.to.as_str()),
        ("open", "expired")
    );
    let after = state();
    expire(&rt, offer.id);
    assert_eq!(state(), after);
}

#[test]
fn list_filters_and_pages() {
    let rt = FakeRuntime::new();
    let now = rt.time();
    let a = register_item(&rt, &SECRET, "a", "4D.large");
    let b = register_item(&rt, &SECRET, "b", "4D.large");
    let theirs = register_item(&rt, &OTHER_SECRET, "c", "4D.large");
    let mut arg = create_arg(theirs.id, now, now + HOUR);
    arg.provider = key_input(&OTHER_SECRET);
    create(&rt, arg).unwrap(); // 1
    act_for(&rt, &SECRET);
    for i in 0..3 {
        let start = now + i * HOUR;
        create(&rt, create_arg(a.id, start, start + HOUR)).unwrap(); // 2, 4, 6
        create(&rt, create_arg(b.id, start, start + HOUR)).unwrap(); // 3, 5, 7
    }
    withdraw(&rt, withdraw_arg(4)).unwrap();

    let ids = |arg: OffersListArg| {
        let page = list(&rt, arg).unwrap();
        let ids: Vec<u64> = page.offers.iter().map(|o| o.id).collect();
        (ids, page.next)
    };
    assert_eq!(
        ids(OffersListArg::default()),
        (vec![1, 2, 3, 4, 5, 6, 7], None)
    );
    let of_a = OffersListArg {
        item_id: Some(a.id),
        limit: Some(2),
        ..Default::default()
    };
    assert_eq!(ids(of_a.clone()), (vec![2, 4], Some(4)));
    assert_eq!(
        ids(OffersListArg {
            after: Some(4),
            ..of_a.clone()
        }),
        (vec![6], None)
    );
    assert_eq!(
        ids(OffersListArg {
            status: Some(OfferStatus::Open),
            ..of_a
        }),
        (vec![2, 6], Some(6))
    );
    assert_eq!(
        ids(OffersListArg {
            provider: Some(key_input(&OTHER_SECRET)),
            ..Default::default()
        }),
        (vec![1], None)
    );
    assert_eq!(
        ids(OffersListArg {
            provider: Some(key_input(&SECRET)),
            status: Some(OfferStatus::Open),
            after: Some(2),
            limit: Some(3),
            ..Default::default()
        }),
        (vec![3, 5, 6], Some(6))
    );
    assert_eq!(
        ids(OffersListArg {
            item_id: Some(theirs.id),
            provider: Some(key_input(&SECRET)),
            ..Default::default()
        }),
        (vec![], None)
    );
    assert!(matches!(
        list(
            &rt,
            OffersListArg {
                provider: Some(ProviderKeyInput::Pem("nope".into())),
                ..Default::default()
            }
        ),
        Err(MarketError::InvalidKey { .. })
    ));
    assert!(matches!(
        list(
            &rt,
            OffersListArg {
                limit: Some(0),
                ..Default::default()
            }
        ),
        Err(MarketError::InvalidArgument { .. })
    ));
    assert!(matches!(
        list(
            &rt,
            OffersListArg {
                limit: Some(crate::market::MAX_PAGE + 1),
                ..Default::default()
            }
        ),
        Err(MarketError::TooMany { .. })
    ));
}

#[test]
fn the_global_caps_on_items_and_open_offers_refuse_growth_and_change_nothing() {
    let rt = FakeRuntime::new();
    crate::config::apply(crate::config::InitArg {
        max_items: Some(2),
        max_open_offers: Some(1),
        ..Default::default()
    })
    .unwrap();
    let now = rt.time();
    let item = register_item(&rt, &SECRET, "node-1", "4D.large");
    register_item(&rt, &SECRET, "node-2", "4D.large");
    // Re-registering a known resource is an update, which a full market still takes.
    register_item(&rt, &SECRET, "node-1", "4D.large");
    let third = InventoryRegisterArg {
        provider: key_input(&SECRET),
        items: vec![crate::market::inventory::testing::input(
            "node-3", "4D.large",
        )],
    };
    assert_eq!(
        inventory::register(&rt, third),
        Err(MarketError::CapacityReached {
            what: "items".into(),
            max: 2,
        })
    );
    assert_eq!(store::item_count(), 2);
    create(&rt, create_arg(item.id, now + HOUR, now + 2 * HOUR)).unwrap();
    let refused = create(&rt, create_arg(item.id, now + 3 * HOUR, now + 4 * HOUR));
    assert_eq!(
        refused,
        Err(MarketError::CapacityReached {
            what: "open offers".into(),
            max: 1,
        })
    );
    assert_eq!(index::len(), 1);
}
