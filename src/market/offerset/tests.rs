use super::super::{lease, policy};
use super::testing::*;
use super::*;
use serde_bytes::ByteBuf;

/// Whether an error is the one a case expects.
type Expected = fn(&MarketError) -> bool;

fn key() -> ByteBuf {
    vec![5; 32].into()
}

#[test]
fn a_request_holds_the_cheapest_matching_items_and_a_second_consumer_gets_the_rest() {
    let rt = market();
    let t0 = rt.time.get();
    let (cheap, _) = offered(&rt, "n1", 100);
    let (middle, _) = offered(&rt, "n2", 200);
    let (dear, _) = offered(&rt, "n3", 300);
    let small = item(&rt, "n4", "2C.small", 2);
    offer(&rt, small.id, t0, t0 + 24 * HOUR, 10);
    let other = item(&rt, "n5", "4D.large", 8);
    offer(&rt, other.id, t0, t0 + 24 * HOUR, 20);

    let view = request(
        &rt,
        ResourceRequest {
            min_cores: Some(8),
            sku: Some("2c.SMALL".into()),
            offers: Some(2),
            ..ask(90 * 60)
        },
    )
    .unwrap();
    let set = &view.offerset;
    assert_eq!(set.result, OffersetResult::Yes);
    assert_eq!(set.status, OffersetStatus::Open);
    assert_eq!(set.request.sku.as_deref(), Some("2C.small"));
    assert_eq!(set.expires_at_ns, t0 + 300 * SECOND_NS);
    let items: Vec<u64> = view.offers.iter().map(|e| e.item_id).collect();
    assert_eq!(items, [cheap.id, middle.id]);
    assert_eq!(
        set.execution_ids,
        view.offers.iter().map(|e| e.id).collect::<Vec<_>>()
    );
    let first = &view.offers[0];
    assert_eq!(first.phase, Phase::Offered);
    assert_eq!((first.start_ns, first.end_ns), (t0, t0 + 90 * MINUTE));
    // 1.5 h is billed as 2 started hours.
    assert_eq!((first.price_per_hour, first.total_price), (100, 200));
    assert_eq!(first.project, alice().to_text());
    assert_eq!(first.offerset_id, Some(set.id));
    assert_eq!(first.attributes.cores, 8);
    // Consumers never see procurement details; the record has an empty list.
    assert_eq!(first.procurement_meta, None);
    assert_eq!(
        store::execution(first.id).unwrap().procurement_meta,
        Some(vec![])
    );
    assert_eq!(
        store::overlapping_booking(cheap.id, t0, t0 + 1).map(|b| b.execution_id),
        Some(first.id)
    );
    assert_eq!(store::usage(&alice()).open_offersets, 1);
    assert_eq!(phases(first.id), ["OFFERED"]);
    assert_eq!(get(&rt, set.id).unwrap(), view);

    // The held windows are not offered again: as soon as possible, bob gets the free items
    // now and the cheap one from the end of alice's hold.
    let bobs = calling(&rt, bob(), || request(&rt, ask(3600))).unwrap();
    let items: Vec<u64> = bobs.offers.iter().map(|e| e.item_id).collect();
    assert_eq!(items, [small.id, other.id, cheap.id]);
    assert_eq!(bobs.offers[2].start_ns, t0 + 90 * MINUTE);
    // With a fixed start, the held items are passed over.
    let fixed = ResourceRequest {
        start_ns: Some(t0),
        ..ask(3600)
    };
    let fixed = calling(&rt, bob(), || request(&rt, fixed)).unwrap();
    let items: Vec<u64> = fixed.offers.iter().map(|e| e.item_id).collect();
    assert_eq!(items, [dear.id]);
    // A later window on a held item is free.
    let later = ResourceRequest {
        start_ns: Some(t0 + 2 * HOUR),
        offers: Some(1),
        ..ask(3600)
    };
    let later = calling(&rt, bob(), || request(&rt, later)).unwrap();
    assert_eq!(later.offers[0].item_id, small.id);
}

#[test]
fn an_unaccepted_offerset_expires_and_releases_its_holds() {
    let rt = market();
    let t0 = rt.time.get();
    let (node, _) = offered(&rt, "n1", 100);
    let view = request(&rt, ask(3600)).unwrap();
    let id = view.offerset.id;
    let held = view.offers[0].id;

    // Before its time the task does nothing.
    expire(&rt, id);
    run_at(&rt, t0 + 299 * SECOND_NS);
    assert_eq!(store::offerset(id).unwrap().status, OffersetStatus::Open);

    run_at(&rt, t0 + 300 * SECOND_NS);
    let set = store::offerset(id).unwrap();
    assert_eq!(set.status, OffersetStatus::Expired);
    let execution = store::execution(held).unwrap();
    assert_eq!(execution.phase, Phase::Expired);
    assert_eq!(
        execution.reason.as_deref(),
        Some("not accepted within 300 s")
    );
    assert_eq!(store::item_bookings(node.id), []);
    assert_eq!(store::usage(&alice()).open_offersets, 0);
    assert_eq!(phases(held), ["OFFERED", "EXPIRED"]);

    // Idempotent: a retried task changes nothing.
    let before = snapshot();
    expire(&rt, id);
    assert_eq!(snapshot(), before);

    // The item is offered again.
    let again = calling(&rt, bob(), || request(&rt, ask(3600))).unwrap();
    assert_eq!(again.offers[0].item_id, node.id);
}

#[test]
fn an_item_still_rebuilding_is_not_offered_for_now_but_for_later() {
    let rt = market();
    let t0 = rt.time.get();
    policy::set(PoliciesUpdate {
        rebuild_seconds: Some(3600),
        ..PoliciesUpdate::default()
    })
    .unwrap();
    let (node, _) = offered(&rt, "n1", 100);
    let arg = LeaseBySkuArg {
        sku: "2C.small".into(),
        duration_seconds: 3600,
        image: "ubuntu-24.04".into(),
        lessee_key: Some(key()),
        lessee_key_hex: None,
        max_price_per_hour: None,
        project: None,
    };
    lease::lease_by_sku(&rt, arg).unwrap();
    run_at(&rt, t0);
    run_at(&rt, t0 + HOUR);
    assert_eq!(store::item(node.id).unwrap().status, ItemStatus::Rebuilding);
    // The lease booked only its hour: the rest of the day is still offered.

    let now = calling(&rt, bob(), || request(&rt, ask(3600))).unwrap();
    assert_eq!(now.offerset.result, OffersetResult::No);
    assert!(now
        .offerset
        .messages
        .iter()
        .any(|m| m.text == "1 open offers are on items not ready to start now (being rebuilt)"));
    let later = ResourceRequest {
        start_ns: Some(t0 + 2 * HOUR),
        ..ask(3600)
    };
    let later = calling(&rt, bob(), || request(&rt, later)).unwrap();
    assert_eq!(later.offers[0].item_id, node.id);
}

#[test]
fn without_a_start_an_offer_opening_later_is_taken_from_its_own_start() {
    let rt = market();
    let t0 = rt.time.get();
    let node = item(&rt, "n1", "2C.small", 8);
    offer(&rt, node.id, t0 + HOUR, t0 + 24 * HOUR, 100);

    let soonest = calling(&rt, alice(), || request(&rt, ask(7200))).unwrap();
    assert_eq!(soonest.offerset.result, OffersetResult::Yes);
    let held = &soonest.offers[0];
    assert_eq!((held.start_ns, held.end_ns), (t0 + HOUR, t0 + 3 * HOUR));
    assert_eq!(
        store::overlapping_booking(node.id, t0 + HOUR, t0 + HOUR + 1).map(|b| b.execution_id),
        Some(held.id)
    );

    // An explicit start the offer does not cover finds nothing.
    let now = ResourceRequest {
        start_ns: Some(t0),
        ..ask(7200)
    };
    let now = calling(&rt, bob(), || request(&rt, now)).unwrap();
    assert_eq!(now.offerset.result, OffersetResult::No);
}

#[test]
fn nothing_matching_is_a_stored_no_that_says_why() {
    let rt = market();
    let t0 = rt.time.get();
    offered(&rt, "n1", 500);
    let small = item(&rt, "n2", "2C.small", 1);
    offer(&rt, small.id, t0, t0 + 24 * HOUR, 10);
    let short = item(&rt, "n3", "2C.small", 8);
    offer(&rt, short.id, t0, t0 + HOUR, 10);
    let class = item(&rt, "n4", "3A.huge", 8);
    offer(&rt, class.id, t0, t0 + 24 * HOUR, 10);

    let view = request(
        &rt,
        ResourceRequest {
            min_cores: Some(4),
            max_price_per_hour: Some(100),
            sku: Some("2C.small".into()),
            ..ask(2 * 3600)
        },
    )
    .unwrap();
    let set = &view.offerset;
    assert_eq!(set.result, OffersetResult::No);
    assert_eq!(set.status, OffersetStatus::Expired);
    assert_eq!(view.offers, []);
    let texts: Vec<(Level, &str)> = set
        .messages
        .iter()
        .map(|m| (m.level, m.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        [
            (Level::Fail, "no open offer matches the request"),
            (
                Level::Info,
                "1 open offers have fewer cores, memory, storage or GPUs than asked"
            ),
            (
                Level::Info,
                "1 open offers are of another SKU or resource class"
            ),
            (
                Level::Info,
                "1 open offers do not cover the requested window"
            ),
            (
                Level::Info,
                "1 open offers cost more than the maximum price"
            ),
            (Level::Debug, "4 open offers examined"),
        ]
    );
    // Not counted, nothing to expire, but readable and recorded.
    assert_eq!(store::usage(&alice()).open_offersets, 0);
    assert_eq!(get(&rt, set.id).unwrap(), view);
    let entry = audit::entry(audit::len()).unwrap();
    assert_eq!(entry.entity, Entity::Offerset(set.id));
    assert_eq!((entry.from.as_str(), entry.to.as_str()), ("", "EXPIRED"));
    assert_eq!(entry.why, "no open offer matches the request");
}

#[test]
fn policy_refusals_are_fail_messages_and_hold_nothing() {
    let rt = market();
    offered(&rt, "n1", 100);
    policy::set(PoliciesUpdate {
        allowed_images: Some(vec!["debian-12".into()]),
        max_lease_seconds: Some(3600),
        ..PoliciesUpdate::default()
    })
    .unwrap();
    let view = request(&rt, ask(7200)).unwrap();
    assert_eq!(view.offerset.result, OffersetResult::No);
    assert_eq!(view.offerset.status, OffersetStatus::Expired);
    let fails: Vec<&str> = view
        .offerset
        .messages
        .iter()
        .filter(|m| m.level == Level::Fail)
        .map(|m| m.text.as_str())
        .collect();
    assert_eq!(
        fails,
        [
            "the image \"ubuntu-24.04\" is not among the 1 images allowed here",
            "a lease may last at most 3600 s; 7200 s were asked for",
        ]
    );
    assert_eq!(view.offers, []);
    assert_eq!(store::usage(&alice()).open_offersets, 0);
    let allowed = ResourceRequest {
        image: "debian-12".into(),
        ..ask(3600)
    };
    assert_eq!(request(&rt, allowed).unwrap().offers.len(), 1);
}

#[test]
fn bad_requests_are_typed_errors_that_change_nothing() {
    let rt = market();
    let now = rt.time.get();
    offered(&rt, "n1", 100);
    let long = "x".repeat(300);
    let cases: Vec<(ResourceRequest, Expected)> = vec![
        (ask(59), |e| {
            matches!(e, MarketError::InvalidArgument { .. })
        }),
        (
            ResourceRequest {
                image: String::new(),
                ..ask(3600)
            },
            |e| matches!(e, MarketError::InvalidArgument { .. }),
        ),
        (
            ResourceRequest {
                image: long.clone(),
                ..ask(3600)
            },
            |e| matches!(e, MarketError::InvalidArgument { .. }),
        ),
        (
            ResourceRequest {
                sku: Some("9Z.big".into()),
                ..ask(3600)
            },
            |e| matches!(e, MarketError::InvalidSku { .. }),
        ),
        (
            ResourceRequest {
                resource_class: Some(String::new()),
                ..ask(3600)
            },
            |e| matches!(e, MarketError::InvalidArgument { .. }),
        ),
        (
            ResourceRequest {
                project: Some(long),
                ..ask(3600)
            },
            |e| matches!(e, MarketError::InvalidArgument { .. }),
        ),
        (
            ResourceRequest {
                offers: Some(0),
                ..ask(3600)
            },
            |e| matches!(e, MarketError::InvalidArgument { .. }),
        ),
        (
            ResourceRequest {
                offers: Some(21),
                ..ask(3600)
            },
            |e| {
                *e == MarketError::TooMany {
                    what: "offers".into(),
                    max: 20,
                }
            },
        ),
        (
            ResourceRequest {
                start_ns: Some(now - 61 * SECOND_NS),
                ..ask(3600)
            },
            |e| matches!(e, MarketError::InvalidWindow { .. }),
        ),
        (
            ResourceRequest {
                start_ns: Some(u64::MAX - SECOND_NS),
                ..ask(3600)
            },
            |e| matches!(e, MarketError::InvalidWindow { .. }),
        ),
        (ask(u64::MAX), |e| {
            matches!(e, MarketError::InvalidWindow { .. })
        }),
    ];
    let before = snapshot();
    for (req, expected) in cases {
        let error = request(&rt, req.clone()).unwrap_err();
        assert!(expected(&error), "{req:?}: {error:?}");
        assert_eq!(snapshot(), before, "{req:?}");
    }
    let error = calling(&rt, Principal::anonymous(), || request(&rt, ask(3600)));
    assert!(matches!(error, Err(MarketError::NotAuthorized { .. })));
    assert_eq!(snapshot(), before);

    // A start up to a minute in the past is clock skew, not an error.
    let skewed = ResourceRequest {
        start_ns: Some(now - 60 * SECOND_NS),
        offers: Some(1),
        ..ask(3600)
    };
    assert_eq!(
        request(&rt, skewed).unwrap().offerset.result,
        OffersetResult::No
    );
}

#[test]
fn quotas_refuse_the_request_that_would_exceed_them() {
    let rt = market();
    offered(&rt, "n1", 100);
    offered(&rt, "n2", 100);
    policy::set(PoliciesUpdate {
        max_open_offersets_per_principal: Some(1),
        max_active_leases_per_principal: Some(1),
        ..PoliciesUpdate::default()
    })
    .unwrap();
    let one = ResourceRequest {
        offers: Some(1),
        ..ask(3600)
    };
    let first = request(&rt, one.clone()).unwrap();
    let before = snapshot();
    assert_eq!(
        request(&rt, one.clone()),
        Err(MarketError::QuotaExceeded {
            what: "open offersets".into(),
            max: 1
        })
    );
    assert_eq!(snapshot(), before);
    // A refused (No) offerset does not count.
    assert_eq!(store::usage(&alice()).open_offersets, 1);

    let accept = AcceptArg {
        execution_id: first.offers[0].id,
        lessee_key: Some(key()),
        lessee_key_hex: None,
    };
    lease::accept(&rt, accept).unwrap();
    assert_eq!(store::usage(&alice()).open_offersets, 0);
    let before = snapshot();
    assert_eq!(
        request(&rt, one),
        Err(MarketError::QuotaExceeded {
            what: "active leases".into(),
            max: 1
        })
    );
    assert_eq!(snapshot(), before);
}

#[test]
fn an_offerset_is_read_by_its_consumer_and_controllers_only() {
    let rt = market();
    offered(&rt, "n1", 100);
    let id = request(&rt, ask(3600)).unwrap().offerset.id;
    assert!(get(&rt, id).is_ok());
    let by_admin = calling(&rt, admin(), || get(&rt, id)).unwrap();
    // Controllers see procurement details.
    assert_eq!(by_admin.offers[0].procurement_meta, Some(vec![]));
    assert!(matches!(
        calling(&rt, bob(), || get(&rt, id)),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(get(&rt, 99), Err(MarketError::UnknownOfferset { id: 99 }));
}

#[test]
fn lease_windows() {
    let now = 1_000 * SECOND_NS;
    assert_eq!(
        lease_window(now, None, 60),
        Ok(Window {
            start_ns: now,
            end_ns: now + MINUTE
        })
    );
    assert!(lease_window(now, Some(now - MINUTE), 60).is_ok());
    assert!(lease_window(now, Some(now - MINUTE - 1), 60).is_err());
    assert!(lease_window(now, None, u64::MAX / SECOND_NS).is_err());
    assert!(lease_window(now, None, 59).is_err());
}
