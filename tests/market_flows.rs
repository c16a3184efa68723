//! The market end to end, through the wasm with Candid in and out: the FLOCX, pez and
//! ExecutionBroker flows, holds, cancel and extend, an upgrade during a lease, policies, who
//! reads the audit log, and no double booking when messages interleave with the task queue's timer.

mod common;

use candid::Principal;
use common::market::*;
use common::*;
use serde_bytes::ByteBuf;

#[test]
fn flocx_an_accepted_offer_is_a_contract_fulfilled_at_its_start_and_expired_at_its_end() {
    let mut m = Market::new();
    let now = m.now();
    let item = m.register(LARGE, "flocx-node-1", attributes(32, 128, 1000, 0));
    assert_eq!(
        (item.status, item.sku.as_str(), item.lease_id),
        (ItemStatus::Available, LARGE, None)
    );
    assert_eq!(item.provider_pem, m.provider.pem());
    let offer = m.offer(item.id, now, now + 2 * DAY_NS, 150);
    assert_eq!(
        (offer.item_id, offer.status, offer.resource_uuid.as_str()),
        (item.id, OfferStatus::Open, "flocx-node-1")
    );
    assert_eq!((offer.start_ns, offer.end_ns), (now, now + 2 * DAY_NS));

    // A consumer's offerset for a window starting in an hour.
    let a = consumer("a");
    let start = now + HOUR_NS;
    let end = start + 2 * HOUR_NS;
    let view = m.request(
        a,
        ResourceRequest {
            project: Some("proj-flocx".into()),
            ..one_offer(start, 2 * 3600)
        },
    );
    assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
    assert_eq!(view.offerset.status, OffersetStatus::Open);
    assert_eq!(view.offerset.consumer, a);
    assert_eq!(view.offers.len(), 1);
    let offered = &view.offers[0];
    assert_eq!(view.offerset.execution_ids, vec![offered.id]);
    assert_eq!(offered.offerset_id, Some(view.offerset.id));
    assert_eq!(
        (offered.offer_id, offered.item_id, offered.phase),
        (offer.id, item.id, Phase::Offered)
    );
    assert_eq!((offered.start_ns, offered.end_ns), (start, end));
    assert_eq!((offered.price_per_hour, offered.total_price), (150, 300));
    assert_eq!(
        (offered.consumer, offered.project.as_str()),
        (a, "proj-flocx")
    );

    // Accepted: the contract is open.
    let key = lessee_key(1);
    let accepted = m.accept(a, offered.id, &key);
    assert!(
        matches!(accepted.phase, Phase::Accepted | Phase::Waiting),
        "{accepted:?}"
    );
    assert_eq!(accepted.lessee_key, Some(key));
    let contract = m.canister.contract_get(a, offered.id).unwrap();
    assert_eq!(
        (contract.id, contract.offer_id, contract.status),
        (offered.id, offer.id, ContractStatus::Open)
    );
    assert_eq!((contract.start_ns, contract.end_ns), (start, end));
    assert_eq!(contract.project, "proj-flocx");
    assert_eq!(
        m.offerset(view.offerset.id).offerset.status,
        OffersetStatus::Accepted {
            execution_id: offered.id
        }
    );
    // The contract books only its window: the offer stays open, and the rest of it is still
    // offered to others.
    assert_eq!(
        m.canister.offer_get(offer.id).unwrap().status,
        OfferStatus::Open
    );
    let other = m.request(consumer("b"), one_offer(end, 3600));
    assert_eq!(other.offerset.result, OffersetResult::Yes, "{other:?}");
    assert_eq!(
        (other.offers[0].offer_id, other.offers[0].start_ns),
        (offer.id, end)
    );
    let overlapping = m.request(consumer("b"), one_offer(start + HOUR_NS, 3600));
    assert_ne!(
        overlapping.offerset.result,
        OffersetResult::Yes,
        "{overlapping:?}"
    );

    // Nothing moves before the start.
    m.advance_to(start - SECOND_NS);
    assert!(matches!(
        m.phase(offered.id),
        Phase::Accepted | Phase::Waiting
    ));
    assert_eq!(m.item(item.id).status, ItemStatus::Available);

    // At the start: PREPARING → AVAILABLE in one timer run; the item is leased.
    m.advance_to(start);
    assert_eq!(m.phase(offered.id), Phase::Available);
    assert_eq!(
        m.canister.contract_get(a, offered.id).unwrap().status,
        ContractStatus::Fulfilled
    );
    let leased = m.item(item.id);
    assert_eq!(
        (leased.status, leased.lease_id),
        (ItemStatus::Leased, Some(offered.id))
    );

    m.advance_to(end - SECOND_NS);
    assert_eq!(m.phase(offered.id), Phase::Available);

    // At the end: RELEASING → COMPLETED; the item is available again.
    m.advance_to(end);
    assert_eq!(m.phase(offered.id), Phase::Completed);
    assert_eq!(
        m.canister.contract_get(a, offered.id).unwrap().status,
        ContractStatus::Expired
    );
    let released = m.item(item.id);
    assert_eq!(
        (released.status, released.lease_id),
        (ItemStatus::Available, None)
    );
    let phases = m.history(Entity::Execution(offered.id));
    assert_in_order(
        &phases,
        &[
            "OFFERED",
            "ACCEPTED",
            "PREPARING",
            "AVAILABLE",
            "RELEASING",
            "COMPLETED",
        ],
    );
    let statuses = m.history(Entity::Item(item.id));
    assert_in_order(
        &statuses,
        &[
            "available",
            "reserving",
            "leased",
            "rebuilding",
            "available",
        ],
    );
}

#[test]
fn pez_products_lease_by_sku_sealed_credentials_procurement_meta_and_reclaim() {
    let mut m = Market::new();
    let now = m.now();
    let (large, _) = m.offered_item(LARGE, "pez-large-1", 32, 500, 7);
    let later = m.register(LARGE, "pez-large-2", attributes(32, 128, 1000, 0));
    m.offer(later.id, now + DAY_NS, now + 7 * DAY_NS, 900);
    let (small, _) = m.offered_item(SMALL, "pez-small-1", 2, 100, 7);
    let spare = m.register(LARGE, "pez-large-3", attributes(32, 128, 1000, 0));
    let provider = m.provider.key();
    let maintenance = m
        .canister
        .inventory_set_status(
            m.delegate,
            InventorySetStatusArg {
                provider: provider.clone(),
                item_id: spare.id,
                status: ItemStatus::Maintenance,
                reason: "disk swap".into(),
            },
        )
        .unwrap();
    assert_eq!(maintenance.status, ItemStatus::Maintenance);

    let product = |m: &mut Market, sku: &str| {
        m.canister
            .products()
            .into_iter()
            .find(|p| p.sku == sku)
            .unwrap_or_else(|| panic!("no product {sku}"))
    };
    let p = product(&mut m, LARGE);
    assert_eq!(
        (
            p.tier,
            p.tier_name.as_str(),
            p.kind.as_str(),
            p.kind_name.as_str(),
            p.size.as_str()
        ),
        (4, "MaaS", "D", "raw hardware", "large")
    );
    assert_eq!(
        (p.total, p.available, p.leasable_now, p.min_price_per_hour),
        (3, 2, 1, Some(500))
    );
    let s = product(&mut m, SMALL);
    assert_eq!(
        (s.total, s.available, s.leasable_now, s.min_price_per_hour),
        (1, 1, 1, Some(100))
    );
    assert_eq!(m.canister.products().len(), 2);

    // The dispenser: one 4D.large now, for two days.
    let c = consumer("pez");
    let key = lessee_key(9);
    let lease = m
        .canister
        .lease_by_sku(c, by_sku(LARGE, 2 * 86_400, &key))
        .unwrap();
    assert_eq!(
        (lease.item_id, lease.offerset_id, lease.consumer),
        (large.id, None, c)
    );
    assert_eq!((lease.sku.as_str(), lease.price_per_hour), (LARGE, 500));
    assert_eq!((lease.start_ns, lease.end_ns), (now, now + 2 * DAY_NS));
    assert_eq!(lease.lessee_key, Some(key.clone()));
    let dispensing = m.canister.lease_get(c, lease.id).unwrap();
    m.canister.driver.tick();
    assert_eq!(m.phase(lease.id), Phase::Available);
    assert_eq!(m.item(large.id).status, ItemStatus::Leased);
    let view = m.canister.lease_get(c, lease.id).unwrap();
    assert_eq!(
        (view.id, view.inventory_id, view.username, view.sku.as_str()),
        (lease.id, large.id, c, LARGE)
    );
    assert_eq!(view.lease_duration_days, 2);
    assert_eq!(
        (view.lease_start_ns, view.lease_end_ns),
        (now, now + 2 * DAY_NS)
    );
    assert!(!dispensing.task.status.is_empty() && !view.task.status.is_empty());
    assert_ne!(
        dispensing.task.status, view.task.status,
        "the task moves on once the item is dispensed"
    );
    assert_eq!((view.consumer_meta, view.procurement_meta), (None, None));
    let p = product(&mut m, LARGE);
    assert_eq!((p.available, p.leasable_now), (1, 0));

    // The provider seals credentials to the lessee's key and records its procurement.
    let credentials = sealed(&key);
    let meta = vec![Property {
        key: "purchase_order".into(),
        value: "PO-2026-0042".into(),
    }];
    let with_credentials = m
        .canister
        .lease_set_consumer_meta(
            m.delegate,
            SetConsumerMetaArg {
                provider: provider.clone(),
                execution_id: lease.id,
                sealed: credentials.clone(),
            },
        )
        .unwrap();
    assert_eq!(with_credentials.consumer_meta, Some(credentials.clone()));
    m.canister
        .lease_set_procurement_meta(
            m.delegate,
            SetProcurementMetaArg {
                provider: provider.clone(),
                execution_id: lease.id,
                meta: meta.clone(),
            },
        )
        .unwrap();

    // The consumer sees the credentials, never the procurement; the provider sees both.
    let seen = m.canister.lease_get(c, lease.id).unwrap();
    assert_eq!(
        (seen.consumer_meta, seen.procurement_meta),
        (Some(credentials.clone()), None)
    );
    let seen = m.canister.execution_get(c, lease.id).unwrap();
    assert_eq!(
        (seen.consumer_meta, seen.procurement_meta),
        (Some(credentials.clone()), None)
    );
    let mine = m
        .canister
        .executions_list(
            c,
            ExecutionsListArg {
                role: Role::Consumer,
                provider: None,
                phase: None,
                after: None,
                limit: None,
            },
        )
        .unwrap();
    assert_eq!(mine.executions.len(), 1);
    assert_eq!(
        (mine.executions[0].id, &mine.executions[0].procurement_meta),
        (lease.id, &None)
    );
    let delegate = m.delegate;
    let seen = m.canister.lease_get(delegate, lease.id).unwrap();
    assert_eq!(
        (seen.consumer_meta, seen.procurement_meta),
        (Some(credentials.clone()), Some(meta.clone()))
    );
    let seen = m.canister.execution_get(delegate, lease.id).unwrap();
    assert_eq!(seen.procurement_meta, Some(meta.clone()));
    let theirs = m
        .canister
        .executions_list(
            delegate,
            ExecutionsListArg {
                role: Role::Provider,
                provider: Some(provider),
                phase: Some(Phase::Available),
                after: None,
                limit: None,
            },
        )
        .unwrap();
    assert_eq!(theirs.executions.len(), 1);
    assert_eq!(theirs.executions[0].procurement_meta, Some(meta));

    // Reclaim: the consumer ends the lease; the item is rebuilt and available again.
    let ended = m.canister.lease_end(c, lease.id).unwrap();
    assert!(
        matches!(ended.phase, Phase::Releasing | Phase::Completed),
        "{ended:?}"
    );
    m.canister.driver.tick();
    assert_eq!(m.phase(lease.id), Phase::Completed);
    let item = m.item(large.id);
    assert_eq!((item.status, item.lease_id), (ItemStatus::Available, None));
    assert_eq!(product(&mut m, LARGE).available, 2);
    let history = m.item_history(large.id);
    let to: Vec<String> = history.iter().map(|(_, to)| to.clone()).collect();
    assert_in_order(&to, &["leased", "rebuilding", "available"]);
    assert_eq!(
        history.last().unwrap(),
        &("rebuilding".to_string(), "available".to_string())
    );
    assert_eq!(m.item(small.id).status, ItemStatus::Available);
}

#[test]
fn execution_broker_offers_cheapest_first_accept_rejects_siblings_and_unaccepted_offersets_expire()
{
    let mut m = Market::new();
    // Four items; the cheapest has too few cores and too little memory for the request.
    let (too_small, _) = m.offered_item(LARGE, "eb-0", 4, 50, 3);
    let (i300, _) = m.offered_item(LARGE, "eb-1", 16, 300, 3);
    let (i100, _) = m.offered_item(LARGE, "eb-2", 32, 100, 3);
    let (i200, _) = m.offered_item(LARGE, "eb-3", 64, 200, 3);
    let now = m.now();
    let start = now + HOUR_NS;
    let want = ResourceRequest {
        min_cores: Some(8),
        min_memory_mb: Some(32 * 1024),
        offers: Some(3),
        ..request(Some(start), 2 * 3600)
    };

    let a = consumer("a");
    let view = m.request(a, want.clone());
    assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
    assert_eq!(view.offerset.status, OffersetStatus::Open);
    assert_eq!(view.offerset.request, want);
    assert_eq!(view.offerset.expires_at_ns, now + OFFER_TTL_NS);
    assert_eq!(offered_items(&view), vec![i100.id, i200.id, i300.id]);
    assert_eq!(
        view.offerset.execution_ids,
        view.offers.iter().map(|e| e.id).collect::<Vec<_>>()
    );
    for offered in &view.offers {
        assert_eq!(offered.phase, Phase::Offered);
        assert!(offered.attributes.cores >= 8 && offered.attributes.memory_mb >= 32 * 1024);
        assert_eq!(
            (offered.start_ns, offered.end_ns),
            (start, start + 2 * HOUR_NS)
        );
        assert_eq!(offered.expires_at_ns, now + OFFER_TTL_NS);
        assert_eq!(offered.consumer, a);
        assert_eq!(offered.image, IMAGE);
    }
    let prices: Vec<u64> = view.offers.iter().map(|e| e.price_per_hour).collect();
    assert_eq!(prices, vec![100, 200, 300]);
    assert!(!offered_items(&view).contains(&too_small.id));
    // The consumer reads back what it was answered (a controller sees the same offerset).
    assert_eq!(m.canister.offerset_get(a, view.offerset.id).unwrap(), view);
    assert_eq!(m.offerset(view.offerset.id).offerset, view.offerset);

    // Accepting one rejects its siblings.
    let chosen = view.offerset.execution_ids[1];
    m.accept(a, chosen, &lessee_key(1));
    for sibling in [
        view.offerset.execution_ids[0],
        view.offerset.execution_ids[2],
    ] {
        let rejected = m.execution(sibling);
        assert_eq!(rejected.phase, Phase::Rejected);
        assert!(rejected.reason.is_some());
    }
    assert_eq!(
        m.offerset(view.offerset.id).offerset.status,
        OffersetStatus::Accepted {
            execution_id: chosen
        }
    );

    // Another consumer's offerset that nobody accepts expires after 300 s and lets go.
    let b = consumer("b");
    let second = m.request(b, want.clone());
    assert_eq!(offered_items(&second), vec![i100.id, i300.id]);
    m.advance(OFFER_TTL_NS - SECOND_NS);
    assert_eq!(
        m.offerset(second.offerset.id).offerset.status,
        OffersetStatus::Open
    );
    m.advance(SECOND_NS);
    let expired = m.offerset(second.offerset.id);
    assert_eq!(expired.offerset.status, OffersetStatus::Expired);
    for id in &second.offerset.execution_ids {
        let execution = m.execution(*id);
        assert_eq!(execution.phase, Phase::Expired);
        assert!(execution.reason.is_some());
    }
    let third = m.request(b, want.clone());
    assert_eq!(
        offered_items(&third),
        vec![i100.id, i300.id],
        "holds released"
    );

    // The accepted lease runs its course.
    m.advance_to(start);
    assert_eq!(m.phase(chosen), Phase::Available);
    assert_eq!(m.item(i200.id).status, ItemStatus::Leased);
    m.advance_to(start + 2 * HOUR_NS);
    assert_eq!(m.phase(chosen), Phase::Completed);
    assert_in_order(
        &m.history(Entity::Execution(chosen)),
        &[
            "OFFERED",
            "ACCEPTED",
            "PREPARING",
            "AVAILABLE",
            "RELEASING",
            "COMPLETED",
        ],
    );

    // A request nobody can meet: NO, with FAIL messages saying why.
    let start = m.now() + HOUR_NS;
    let none = m.request(
        b,
        ResourceRequest {
            min_gpus: Some(8),
            ..request(Some(start), 3600)
        },
    );
    assert_eq!(none.offerset.result, OffersetResult::No, "{none:?}");
    assert!(none.offers.is_empty() && none.offerset.execution_ids.is_empty());
    assert!(has_fail(&none.offerset.messages), "{none:?}");
}

#[test]
fn an_offerset_holds_its_items_for_its_window_against_other_consumers() {
    let mut m = Market::new();
    let (x, _) = m.offered_item(LARGE, "hold-x", 16, 100, 3);
    let (y, _) = m.offered_item(LARGE, "hold-y", 16, 200, 3);
    let start = m.now() + HOUR_NS;
    let (a, b, c) = (consumer("a"), consumer("b"), consumer("c"));

    let held = m.request(a, one_offer(start, 2 * 3600));
    assert_eq!(offered_items(&held), vec![x.id]);
    // The same window: only the other item.
    let other = m.request(
        b,
        ResourceRequest {
            offers: Some(3),
            ..request(Some(start + HOUR_NS), 3600)
        },
    );
    assert_eq!(offered_items(&other), vec![y.id]);
    // A later window is free on both.
    let later = m.request(
        b,
        ResourceRequest {
            offers: Some(3),
            ..request(Some(start + 3 * HOUR_NS), 3600)
        },
    );
    assert_eq!(offered_items(&later), vec![x.id, y.id]);
    // Once the holds expire, the window is offered again.
    m.advance(OFFER_TTL_NS);
    let again = m.request(
        c,
        ResourceRequest {
            offers: Some(3),
            ..request(Some(start), 2 * 3600)
        },
    );
    assert_eq!(offered_items(&again), vec![x.id, y.id]);
    m.assert_no_double_booking(x.id);
    m.assert_no_double_booking(y.id);
}

#[test]
fn cancel_before_the_start_and_while_available_then_the_item_is_rebuilt() {
    let mut m = Market::new();
    m.offered_item(LARGE, "cancel-x", 16, 100, 3);
    m.offered_item(LARGE, "cancel-y", 16, 200, 3);
    let a = consumer("a");

    // Before the start: CANCELLED, and the start passes without a lease.
    let start = m.now() + 2 * HOUR_NS;
    let first = m.lease(a, start, 3600);
    let cancelled = m
        .canister
        .execution_cancel(
            a,
            CancelArg {
                execution_id: first.id,
                reason: "plans changed".into(),
            },
        )
        .unwrap();
    assert_eq!(cancelled.phase, Phase::Cancelled);
    assert!(cancelled.reason.is_some());
    m.advance_to(start);
    assert_eq!(m.phase(first.id), Phase::Cancelled);
    assert_eq!(m.item(first.item_id).status, ItemStatus::Available);

    // While AVAILABLE, with a 10-minute rebuild.
    let controller = m.controller();
    m.canister
        .policies_set(
            controller,
            PoliciesUpdate {
                rebuild_seconds: Some(600),
                ..PoliciesUpdate::default()
            },
        )
        .unwrap();
    let start = m.now() + MINUTE_NS;
    let second = m.lease(a, start, 3600);
    m.advance_to(start);
    assert_eq!(m.phase(second.id), Phase::Available);
    assert_eq!(m.item(second.item_id).status, ItemStatus::Leased);
    m.canister
        .execution_cancel(
            a,
            CancelArg {
                execution_id: second.id,
                reason: "done early".into(),
            },
        )
        .unwrap();
    m.canister.driver.tick();
    assert_eq!(m.phase(second.id), Phase::Cancelled);
    assert_eq!(m.item(second.item_id).status, ItemStatus::Rebuilding);
    m.advance(600 * SECOND_NS - SECOND_NS);
    assert_eq!(m.item(second.item_id).status, ItemStatus::Rebuilding);
    m.advance(SECOND_NS);
    let item = m.item(second.item_id);
    assert_eq!((item.status, item.lease_id), (ItemStatus::Available, None));
    let to: Vec<String> = m
        .item_history(second.item_id)
        .into_iter()
        .map(|(_, to)| to)
        .collect();
    assert_in_order(&to, &["leased", "rebuilding", "available"]);
    assert_in_order(
        &m.history(Entity::Execution(second.id)),
        &["AVAILABLE", "RELEASING", "CANCELLED"],
    );
    // Nothing ends the cancelled lease a second time at its old end.
    m.advance_to(start + HOUR_NS);
    assert_eq!(m.phase(second.id), Phase::Cancelled);
}

#[test]
fn extend_moves_the_end_later_until_another_lease_is_booked_right_after() {
    let mut m = Market::new();
    let (x, first_offer) = m.offered_item(LARGE, "extend-x", 16, 100, 3);
    let (a, b) = (consumer("a"), consumer("b"));
    let t = m.now() + HOUR_NS;
    let ea = m.lease(a, t, 3600);
    assert_eq!((ea.item_id, ea.offer_id), (x.id, first_offer.id));
    // a's lease books only its hour: the offer stays open, and b leases another window of it
    // from t + 3 h.
    assert_eq!(
        m.canister.offer_get(first_offer.id).unwrap().status,
        OfferStatus::Open
    );
    let eb = m.lease(b, t + 3 * HOUR_NS, 3600);
    assert_eq!((eb.item_id, eb.offer_id), (x.id, first_offer.id));

    let extend = |new_end_ns| ExtendArg {
        execution_id: ea.id,
        new_end_ns,
    };
    let extended = m.canister.lease_extend(a, extend(t + 2 * HOUR_NS)).unwrap();
    assert_eq!((extended.start_ns, extended.end_ns), (t, t + 2 * HOUR_NS));
    assert_eq!(extended.total_price, 200);
    assert_eq!(m.execution(ea.id).end_ns, t + 2 * HOUR_NS);
    let before = m.snapshot(&[ea.id, eb.id]);
    assert_eq!(
        m.canister
            .lease_extend(a, extend(t + 3 * HOUR_NS + 30 * MINUTE_NS)),
        Err(MarketError::Booked {
            execution_id: eb.id
        })
    );
    assert_eq!(m.snapshot(&[ea.id, eb.id]), before);
    // Up to the next lease's start is fine: windows are [start, end).
    let extended = m.canister.lease_extend(a, extend(t + 3 * HOUR_NS)).unwrap();
    assert_eq!(extended.end_ns, t + 3 * HOUR_NS);
    m.assert_no_double_booking(x.id);

    // The lease ends at its new end; b's starts once the item is free again.
    m.advance_to(t);
    assert_eq!(m.phase(ea.id), Phase::Available);
    m.advance_to(t + 2 * HOUR_NS);
    assert_eq!(
        m.phase(ea.id),
        Phase::Available,
        "extended past its first end"
    );
    m.advance_to(t + 3 * HOUR_NS);
    assert_eq!(m.phase(ea.id), Phase::Completed);
    m.advance(MINUTE_NS);
    assert_eq!(m.phase(eb.id), Phase::Available);
    assert_eq!(m.item(x.id).lease_id, Some(eb.id));
    m.assert_no_double_booking(x.id);
}

#[test]
fn an_upgrade_during_a_lease_keeps_every_view_and_the_lease_ends_on_time() {
    let mut m = Market::new();
    let (x, _) = m.offered_item(LARGE, "upgrade-x", 16, 100, 3);
    let (y, _) = m.offered_item(SMALL, "upgrade-y", 2, 40, 3);
    let (a, b) = (consumer("a"), consumer("b"));
    let key = lessee_key(3);
    let start = m.now() + MINUTE_NS;
    let view = m.request(
        a,
        ResourceRequest {
            sku: Some(LARGE.into()),
            ..one_offer(start, 2 * 3600)
        },
    );
    let lease = m.accept(a, view.offerset.execution_ids[0], &key);
    assert_eq!(lease.item_id, x.id);
    m.advance_to(start);
    assert_eq!(m.phase(lease.id), Phase::Available);
    let provider = m.provider.key();
    m.canister
        .lease_set_consumer_meta(
            m.delegate,
            SetConsumerMetaArg {
                provider: provider.clone(),
                execution_id: lease.id,
                sealed: sealed(&key),
            },
        )
        .unwrap();
    m.canister
        .lease_set_procurement_meta(
            m.delegate,
            SetProcurementMetaArg {
                provider: provider.clone(),
                execution_id: lease.id,
                meta: vec![Property {
                    key: "rack".into(),
                    value: "r12".into(),
                }],
            },
        )
        .unwrap();
    let controller = m.controller();
    m.canister
        .policies_set(
            controller,
            PoliciesUpdate {
                max_active_leases_per_principal: Some(3),
                ..PoliciesUpdate::default()
            },
        )
        .unwrap();
    // An open offerset holding the other item across the upgrade.
    let held = m.request(b, one_offer(m.now() + HOUR_NS, 3600));
    assert_eq!(offered_items(&held), vec![y.id]);
    let ids = [lease.id, held.offerset.execution_ids[0]];

    let views = |m: &mut Market| {
        let delegate = m.delegate;
        (
            m.snapshot(&ids),
            m.canister.contract_get(a, lease.id),
            m.canister.lease_get(a, lease.id),
            m.canister.lease_get(delegate, lease.id),
            m.canister.execution_get(a, lease.id),
            m.canister.offerset_get(b, held.offerset.id),
            m.canister.market_delegation(m.provider.key()),
            m.canister.inventory_list(InventoryListArg {
                sku: Some(LARGE.into()),
                ..all_items()
            }),
        )
    };
    let before = views(&mut m);
    m.canister
        .driver
        .upgrade(&wasm(), candid::encode_one(None::<InitArg>).unwrap())
        .expect("upgrade");
    assert_eq!(views(&mut m), before);

    // The queue's tasks survived: the hold expires and the lease ends on time.
    m.advance(OFFER_TTL_NS);
    assert_eq!(m.phase(ids[1]), Phase::Expired);
    // The matching index was rebuilt: the released item is offered again.
    let again = m.request(b, one_offer(m.now() + HOUR_NS, 3600));
    assert_eq!(offered_items(&again), vec![y.id]);
    m.advance_to(lease.end_ns - SECOND_NS);
    assert_eq!(m.phase(lease.id), Phase::Available);
    m.advance_to(lease.end_ns);
    assert_eq!(m.phase(lease.id), Phase::Completed);
    assert_eq!(m.item(x.id).status, ItemStatus::Available);
}

#[test]
fn policies_allowed_images_and_lease_length_refuse_with_fail_messages_and_only_controllers_set_them(
) {
    let mut m = Market::new();
    assert_eq!(
        m.canister.policies(),
        marketplace::market::policy::defaults()
    );
    m.offered_item(LARGE, "policy-x", 16, 100, 30);
    let controller = m.controller();
    let set = m
        .canister
        .policies_set(
            controller,
            PoliciesUpdate {
                allowed_images: Some(vec![IMAGE.into()]),
                ..PoliciesUpdate::default()
            },
        )
        .unwrap();
    assert_eq!(set.allowed_images, vec![IMAGE.to_string()]);
    assert_eq!(
        set.max_lease_seconds,
        marketplace::market::policy::defaults().max_lease_seconds
    );
    assert_eq!(m.canister.policies(), set);

    let a = consumer("a");
    let start = m.now() + HOUR_NS;
    let refused = m.request(
        a,
        ResourceRequest {
            image: "debian-12".into(),
            ..request(Some(start), 3600)
        },
    );
    assert_eq!(refused.offerset.result, OffersetResult::No, "{refused:?}");
    assert!(refused.offers.is_empty());
    assert!(has_fail(&refused.offerset.messages), "{refused:?}");
    // Longer than the 21 days a lease may last.
    let too_long = m.request(a, request(Some(start), 22 * 86_400));
    assert_eq!(too_long.offerset.result, OffersetResult::No, "{too_long:?}");
    assert!(has_fail(&too_long.offerset.messages), "{too_long:?}");
    let allowed = m.request(a, request(Some(start), 3600));
    assert_eq!(allowed.offerset.result, OffersetResult::Yes, "{allowed:?}");

    // Only controllers change policies; a refusal changes nothing.
    for caller in [a, m.delegate, stranger()] {
        assert!(matches!(
            m.canister.policies_set(
                caller,
                PoliciesUpdate {
                    allowed_images: Some(vec![]),
                    ..PoliciesUpdate::default()
                },
            ),
            Err(MarketError::NotAuthorized { .. })
        ));
    }
    assert!(matches!(
        m.canister.policies_set(
            controller,
            PoliciesUpdate {
                offer_ttl_seconds: Some(1),
                ..PoliciesUpdate::default()
            },
        ),
        Err(MarketError::InvalidArgument { .. })
    ));
    assert_eq!(m.canister.policies(), set);
}

#[test]
fn audit_readers_see_their_own_entries_and_ranges_and_entities_filter() {
    let mut m = Market::new();
    let t0 = m.now();
    // A second provider with its own delegate and item.
    let mut other = Provider::new(8);
    let other_delegate = Principal::self_authenticating(b"provider-8 delegate");
    m.canister
        .delegate(&mut other, other_delegate, true)
        .unwrap();
    let (x, _) = m.offered_item(LARGE, "audit-x", 16, 100, 3);
    m.advance(MINUTE_NS);
    let z = m
        .canister
        .inventory_register(
            other_delegate,
            InventoryRegisterArg {
                provider: other.key(),
                items: vec![Market::item_input(
                    SMALL,
                    "audit-z",
                    attributes(2, 8, 50, 0),
                )],
            },
        )
        .unwrap()
        .remove(0);
    let now = m.now();
    m.canister
        .offer_create(
            other_delegate,
            OfferCreateArg {
                provider: other.key(),
                ..m.offer_arg(z.id, now, now + 3 * DAY_NS, 300)
            },
        )
        .unwrap();
    m.advance(MINUTE_NS);
    let (a, b) = (consumer("a"), consumer("b"));
    let lease = m.lease(a, m.now() + MINUTE_NS, 3600);
    assert_eq!(
        lease.item_id, x.id,
        "the cheapest item matching the request"
    );
    m.advance(MINUTE_NS);
    let held = m.request(
        b,
        ResourceRequest {
            sku: Some(SMALL.into()),
            ..one_offer(m.now() + HOUR_NS, 3600)
        },
    );
    assert_eq!(offered_items(&held), vec![z.id]);
    m.advance(MINUTE_NS);

    let all = m.audit(AuditArg::default());
    assert!(all.len() >= 8, "{all:?}");
    for (i, entry) in all.iter().enumerate() {
        assert_eq!(entry.seq, i as u64 + 1);
        assert!(entry.at_ns >= t0);
        if i > 0 {
            assert!(entry.at_ns >= all[i - 1].at_ns, "entries in time order");
        }
    }
    let only = |f: &dyn Fn(&AuditEntry) -> bool| -> Vec<AuditEntry> {
        all.iter().filter(|e| f(e)).cloned().collect()
    };
    let readers = [
        (a, only(&|e| e.consumer == Some(a))),
        (b, only(&|e| e.consumer == Some(b))),
        (m.delegate, only(&|e| e.provider_pem == m.provider.pem())),
        (other_delegate, only(&|e| e.provider_pem == other.pem())),
    ];
    for (reader, expected) in readers {
        assert!(!expected.is_empty());
        assert!(expected.len() < all.len());
        assert_eq!(m.canister.audit_all(reader, AuditArg::default()), expected);
    }
    assert!(m
        .canister
        .audit_all(stranger(), AuditArg::default())
        .is_empty());
    assert!(all.iter().any(
        |e| matches!(e.actor, Actor::Provider { principal, .. } if principal == other_delegate)
    ));
    assert!(all
        .iter()
        .any(|e| e.actor == Actor::Consumer(a) && e.entity == Entity::Execution(lease.id)));
    assert!(all.iter().any(|e| e.actor == Actor::Canister));

    // Pages of two walk the same entries.
    assert_eq!(
        m.audit(AuditArg {
            limit: Some(2),
            ..AuditArg::default()
        }),
        all
    );

    // A time range: the entries of the second minute (none sit on either bound).
    let (from_ns, to_ns) = (t0 + 30 * SECOND_NS, t0 + 90 * SECOND_NS);
    let ranged = m.audit(AuditArg {
        from_ns: Some(from_ns),
        to_ns: Some(to_ns),
        ..AuditArg::default()
    });
    assert!(!ranged.is_empty());
    assert_eq!(ranged, only(&|e| (from_ns..=to_ns).contains(&e.at_ns)));

    // One entity: the lease's phases; its consumer reads them, another consumer none.
    let entity = AuditArg {
        entity: Some(Entity::Execution(lease.id)),
        ..AuditArg::default()
    };
    let of_lease = m.audit(entity.clone());
    assert_eq!(of_lease, only(&|e| e.entity == Entity::Execution(lease.id)));
    assert_in_order(
        &of_lease.iter().map(|e| e.to.clone()).collect::<Vec<_>>(),
        &["OFFERED", "ACCEPTED", "PREPARING", "AVAILABLE"],
    );
    assert_eq!(m.canister.audit_all(a, entity.clone()), of_lease);
    assert!(m.canister.audit_all(b, entity.clone()).is_empty());
    assert!(m.canister.audit_all(other_delegate, entity).is_empty());
    let of_item = m.audit(AuditArg {
        entity: Some(Entity::Item(z.id)),
        ..AuditArg::default()
    });
    assert!(!of_item.is_empty());
    assert_eq!(of_item, only(&|e| e.entity == Entity::Item(z.id)));
    assert!(m
        .canister
        .audit_all(
            m.delegate,
            AuditArg {
                entity: Some(Entity::Item(z.id)),
                ..AuditArg::default()
            }
        )
        .is_empty());
}

/// Two consumers race for one item while the task queue's timer runs in the same round: at no
/// point do two live executions (holds or leases) overlap on the item.
#[test]
fn no_double_booking_when_requests_accepts_and_the_timer_interleave() {
    let (mut m, host) = Market::on_host();
    let (x, _) = m.offered_item(LARGE, "race-x", 16, 100, 3);
    let (a, b) = (consumer("a"), consumer("b"));
    let (key_a, key_b) = (lessee_key(1), lessee_key(2));
    let start = m.now() + HOUR_NS;
    let want = one_offer(start, 2 * 3600);

    // Round 1: both ask for the window, and b also tries to lease the item now, overlapping it.
    let ra = submit(&host, a, "offerset_request", want.clone());
    let rb = submit(&host, b, "offerset_request", want.clone());
    let lb = submit(&host, b, "lease_by_sku", by_sku(LARGE, 3 * 3600, &key_b));
    host.borrow_mut().tick();
    let va: OffersetView = take(&host, ra).unwrap();
    let vb: OffersetView = take(&host, rb).unwrap();
    let leased: MarketResult<Execution> = take(&host, lb);
    let winners = [&va, &vb]
        .iter()
        .filter(|v| v.offerset.result == OffersetResult::Yes)
        .count()
        + usize::from(leased.is_ok());
    assert_eq!(winners, 1, "{va:?} {vb:?} {leased:?}");
    assert_eq!(offered_items(&va), vec![x.id], "the first message wins");
    assert!(
        matches!(leased, Err(MarketError::NothingAvailable { .. })),
        "{leased:?}"
    );
    m.assert_no_double_booking(x.id);
    let ea = va.offerset.execution_ids[0];

    // Round 2: a's hold has just expired but its expiry task has not run; a's late accept,
    // b's request, the timer and b's request again all come in one round.
    m.canister
        .driver
        .advance_time(std::time::Duration::from_nanos(OFFER_TTL_NS + SECOND_NS));
    let late = submit(&host, a, "execution_accept", accept_arg(ea, &key_a));
    let rb1 = submit(&host, b, "offerset_request", want.clone());
    host.borrow_mut().tick();
    let rb2 = submit(&host, b, "offerset_request", want.clone());
    let late: MarketResult<Execution> = take(&host, late);
    assert!(
        late.is_err(),
        "an expired hold cannot be accepted: {late:?}"
    );
    let vb1: OffersetView = take(&host, rb1).unwrap();
    let vb2: OffersetView = take(&host, rb2).unwrap();
    m.assert_no_double_booking(x.id);
    assert_eq!(m.phase(ea), Phase::Expired);
    let got: Vec<&OffersetView> = [&vb1, &vb2]
        .into_iter()
        .filter(|v| v.offerset.result == OffersetResult::Yes)
        .collect();
    assert_eq!(got.len(), 1, "{vb1:?} {vb2:?}");
    let eb = got[0].offerset.execution_ids[0];

    // Round 3: b accepts while a accepts its expired offer again and asks anew.
    let acc_b = submit(&host, b, "execution_accept", accept_arg(eb, &key_b));
    let acc_a = submit(&host, a, "execution_accept", accept_arg(ea, &key_a));
    let ra2 = submit(&host, a, "offerset_request", want.clone());
    host.borrow_mut().tick();
    let acc_b: MarketResult<Execution> = take(&host, acc_b);
    assert!(acc_b.is_ok(), "{acc_b:?}");
    let acc_a: MarketResult<Execution> = take(&host, acc_a);
    assert!(acc_a.is_err(), "{acc_a:?}");
    let va2: OffersetView = take(&host, ra2).unwrap();
    assert!(!offered_items(&va2).contains(&x.id), "{va2:?}");
    m.assert_no_double_booking(x.id);

    // Round 4: at the start, a tries to lease the item now while the start task is due.
    let until_start = start - m.now();
    m.canister
        .driver
        .advance_time(std::time::Duration::from_nanos(until_start));
    let la = submit(&host, a, "lease_by_sku", by_sku(LARGE, 3600, &key_a));
    host.borrow_mut().tick();
    let la: MarketResult<Execution> = take(&host, la);
    assert!(la.is_err(), "{la:?}");
    m.assert_no_double_booking(x.id);
    let running: Vec<u64> = m
        .all_executions()
        .into_iter()
        .filter(|e| e.item_id == x.id && e.phase == Phase::Available)
        .map(|e| e.id)
        .collect();
    assert_eq!(running, vec![eb]);
    assert_eq!(m.item(x.id).lease_id, Some(eb));
}

/// The lessee's key through the wasm: `lessee_key_hex` (64 hex digits, any case, whitespace
/// around) works for `execution_accept` and `lease_by_sku`; both keys or neither, or a malformed
/// hex, is `InvalidArgument` and changes nothing; an old client's `lessee_key : blob` still
/// decodes.
#[test]
fn the_lessee_key_can_be_given_as_hex_but_only_once() {
    #[derive(candid::CandidType)]
    struct OldAcceptArg {
        execution_id: u64,
        lessee_key: Vec<u8>,
    }

    let mut m = Market::new();
    let now = m.now();
    for uuid in ["hex-node-1", "hex-node-2", "hex-node-3"] {
        let item = m.register(LARGE, uuid, attributes(32, 128, 1000, 0));
        m.offer(item.id, now, now + 2 * DAY_NS, 150);
    }
    let a = consumer("a");
    let key = lessee_key(4);
    let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let view = m.request(a, one_offer(now + HOUR_NS, 2 * 3600));
    let id = view.offers[0].id;

    let arg = |lessee_key: Option<ByteBuf>, lessee_key_hex: Option<String>| AcceptArg {
        execution_id: id,
        lessee_key,
        lessee_key_hex,
    };
    let before = m.canister.digest();
    for bad in [
        arg(Some(key.clone()), Some(hex.clone())),
        arg(None, None),
        arg(None, Some(hex[..63].to_string())),
        arg(None, Some(format!("{}xy", &hex[..62]))),
        arg(None, Some(format!("0x{hex}"))),
    ] {
        let result = m.canister.execution_accept(a, bad.clone());
        assert!(
            matches!(result, Err(MarketError::InvalidArgument { .. })),
            "{bad:?}: {result:?}"
        );
        assert_eq!(m.canister.digest(), before, "{bad:?} changed the state");
    }
    assert_eq!(
        m.canister.execution_get(a, id).unwrap().phase,
        Phase::Offered
    );

    let accepted = m
        .canister
        .execution_accept(a, arg(None, Some(format!("  {}\n", hex.to_uppercase()))))
        .expect("accept with lessee_key_hex");
    assert_eq!(accepted.lessee_key, Some(key.clone()));
    assert!(
        matches!(accepted.phase, Phase::Accepted | Phase::Waiting),
        "{accepted:?}"
    );

    // An argument encoded by a client of the interface before lessee_key_hex (`blob`).
    let view = m.request(a, one_offer(now + HOUR_NS, 2 * 3600));
    let old = candid::encode_one(OldAcceptArg {
        execution_id: view.offers[0].id,
        lessee_key: lessee_key(5).into_vec(),
    })
    .unwrap();
    let reply = m
        .canister
        .update_raw(a, "execution_accept", old)
        .expect("an old-shaped accept is not rejected");
    let accepted: MarketResult<Execution> = candid::decode_one(&reply).unwrap();
    assert_eq!(accepted.unwrap().lessee_key, Some(lessee_key(5)));

    // lease_by_sku: the same rule.
    let before = m.canister.digest();
    for (lessee_key, lessee_key_hex) in [(Some(key.clone()), Some(hex.clone())), (None, None)] {
        let bad = LeaseBySkuArg {
            lessee_key,
            lessee_key_hex,
            ..by_sku(LARGE, 1800, &key)
        };
        let result = m.canister.lease_by_sku(a, bad.clone());
        assert!(
            matches!(result, Err(MarketError::InvalidArgument { .. })),
            "{bad:?}: {result:?}"
        );
        assert_eq!(m.canister.digest(), before, "{bad:?} changed the state");
    }
    let leased = m
        .canister
        .lease_by_sku(
            a,
            LeaseBySkuArg {
                lessee_key: None,
                lessee_key_hex: Some(hex),
                ..by_sku(LARGE, 1800, &key)
            },
        )
        .expect("lease_by_sku with lessee_key_hex");
    assert_eq!(leased.lessee_key, Some(key));
}
