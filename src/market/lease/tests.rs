use super::super::inventory::{self, By};
use super::super::offerset::testing::*;
use super::super::{delegation, execution, offers, offerset, policy, store};
use super::timeline::{GRANTED, UNDEPLOYED};
use super::*;
use crate::catalog::provider::ProviderKeyInput;
use crate::catalog::signing;
use crate::queue;
use crate::runtime::FakeRuntime;
use crate::time::{utc, SECOND_NS};
use candid::Principal;
use serde_bytes::ByteBuf;

use Phase::*;

fn key() -> ByteBuf {
    vec![5; 32].into()
}

/// Items of a type with no provisioning backend: their leases pass PREPARING and RELEASING
/// at once (these fixtures shadow the offerset tests' `ironic_node` ones; `ironic` tests
/// below use those).
fn item(rt: &FakeRuntime, uuid: &str, sku: &str, cores: u32) -> Item {
    let input = ItemInput {
        resource_type: "vcloud_org".into(),
        resource_uuid: uuid.into(),
        sku: sku.into(),
        attributes: Attributes {
            cores,
            memory_mb: 1024 * u64::from(cores),
            resource_class: "baremetal".into(),
            ..Attributes::default()
        },
        offering_key: None,
    };
    let arg = InventoryRegisterArg {
        provider: key_input(),
        items: vec![input],
    };
    calling(rt, provider(), || inventory::register(rt, arg)).unwrap()[0].clone()
}

/// `item` offered for a day from now at `price`.
fn offered(rt: &FakeRuntime, uuid: &str, price: u64) -> (Item, Offer) {
    let item = item(rt, uuid, "2C.small", 8);
    let now = rt.time.get();
    let offer = offer(rt, item.id, now, now + 24 * HOUR, price);
    (item, offer)
}

fn accept_arg(execution_id: u64) -> AcceptArg {
    AcceptArg {
        execution_id,
        lessee_key: Some(key()),
        lessee_key_hex: None,
    }
}

fn ask_at(start_ns: u64, duration_seconds: u64) -> ResourceRequest {
    ResourceRequest {
        start_ns: Some(start_ns),
        offers: Some(1),
        ..ask(duration_seconds)
    }
}

/// Requests one offer for the window and accepts it, as the current caller.
fn leased(rt: &FakeRuntime, start_ns: u64, duration_seconds: u64) -> Execution {
    let view = offerset::request(rt, ask_at(start_ns, duration_seconds)).unwrap();
    accept(rt, accept_arg(view.offers[0].id)).unwrap()
}

fn by_sku(duration_seconds: u64) -> LeaseBySkuArg {
    LeaseBySkuArg {
        sku: "2c.small".into(),
        duration_seconds,
        image: "ubuntu-24.04".into(),
        lessee_key: Some(key()),
        lessee_key_hex: None,
        max_price_per_hour: None,
        project: Some("moc-project".into()),
    }
}

fn phase(id: u64) -> Phase {
    store::execution(id).unwrap().phase
}

fn status(item_id: u64) -> ItemStatus {
    store::item(item_id).unwrap().status
}

fn set_policies(update: PoliciesUpdate) {
    policy::set(update).unwrap();
}

#[test]
fn broker_flow_accept_one_reject_its_siblings_and_run_to_completed() {
    let rt = market();
    let t0 = rt.time.get();
    set_policies(PoliciesUpdate {
        rebuild_seconds: Some(600),
        ..PoliciesUpdate::default()
    });
    offered(&rt, "n1", 100);
    let (chosen, chosen_offer) = offered(&rt, "n2", 200);
    offered(&rt, "n3", 300);
    let request = ResourceRequest {
        start_ns: Some(t0 + HOUR),
        ..ask(2 * 3600)
    };
    let view = offerset::request(&rt, request).unwrap();
    assert_eq!(view.offers.len(), 3);
    let id = view.offers[1].id;

    let accepted = accept(&rt, accept_arg(id)).unwrap();
    assert_eq!(accepted.phase, Waiting);
    assert_eq!(accepted.lessee_key, Some(key()));
    assert_eq!(accepted.procurement_meta, None);
    assert_eq!(phases(id), ["OFFERED", "ACCEPTED", "WAITING"]);
    for sibling in [view.offers[0].id, view.offers[2].id] {
        let sibling = store::execution(sibling).unwrap();
        assert_eq!(sibling.phase, Rejected);
        assert_eq!(
            sibling.reason.as_deref(),
            Some("a sibling offer was accepted")
        );
        assert_eq!(store::item_bookings(sibling.item_id), []);
    }
    let set = store::offerset(view.offerset.id).unwrap();
    assert_eq!(set.status, OffersetStatus::Accepted { execution_id: id });
    // The lease books only its window: the rest of its offer stays offered.
    assert_eq!(
        store::offer(chosen_offer.id).unwrap().status,
        OfferStatus::Open
    );
    assert_eq!(
        store::item_bookings(chosen.id)
            .iter()
            .map(|b| (b.start_ns, b.end_ns, b.execution_id))
            .collect::<Vec<_>>(),
        [(t0 + HOUR, t0 + 3 * HOUR, id)]
    );
    let usage = store::usage(&alice());
    assert_eq!((usage.open_offersets, usage.active_leases), (0, 1));

    // The offerset's expiry finds it accepted and does nothing.
    run_at(&rt, t0 + 10 * MINUTE);
    assert_eq!(
        store::offerset(set.id).unwrap().status,
        OffersetStatus::Accepted { execution_id: id }
    );
    assert_eq!(phase(id), Waiting);

    run_at(&rt, t0 + HOUR);
    assert_eq!(phase(id), Available);
    let item = store::item(chosen.id).unwrap();
    assert_eq!((item.status, item.lease_id), (ItemStatus::Leased, Some(id)));

    run_at(&rt, t0 + 3 * HOUR);
    assert_eq!(phase(id), Completed);
    assert_eq!(status(chosen.id), ItemStatus::Rebuilding);
    assert_eq!(store::item_bookings(chosen.id), []);
    assert_eq!(store::usage(&alice()).active_leases, 0);
    assert_eq!(
        phases(id),
        [
            "OFFERED",
            "ACCEPTED",
            "WAITING",
            "PREPARING",
            "AVAILABLE",
            "RELEASING",
            "COMPLETED"
        ]
    );
    run_at(&rt, t0 + 3 * HOUR + 599 * SECOND_NS);
    assert_eq!(status(chosen.id), ItemStatus::Rebuilding);
    run_at(&rt, t0 + 3 * HOUR + 600 * SECOND_NS);
    let item = store::item(chosen.id).unwrap();
    assert_eq!((item.status, item.lease_id), (ItemStatus::Available, None));
}

#[test]
fn pez_flow_lease_by_sku_runs_ends_and_rebuilds() {
    let rt = market();
    let t0 = rt.time.get();
    offered(&rt, "n1", 300);
    let (cheapest, _) = offered(&rt, "n2", 100);
    let leased = lease_by_sku(&rt, by_sku(3600)).unwrap();
    assert_eq!(leased.item_id, cheapest.id);
    assert_eq!(leased.phase, Accepted);
    assert_eq!(leased.offerset_id, None);
    assert_eq!(leased.project, "moc-project");
    assert_eq!((leased.start_ns, leased.end_ns), (t0, t0 + HOUR));
    assert_eq!(leased.total_price, 100);
    assert_eq!(phases(leased.id), ["OFFERED", "ACCEPTED"]);
    assert_eq!(lease(&rt, leased.id).unwrap().task.status, "pending");

    run_at(&rt, t0);
    let view = lease(&rt, leased.id).unwrap();
    assert_eq!(view.task.status, "dispensed");
    assert_eq!(view.task.id, leased.id);
    assert_eq!(view.inventory_id, cheapest.id);
    assert_eq!(view.username, alice());
    assert_eq!(view.sku, "2C.small");
    assert_eq!(view.lease_duration_days, 1);
    assert_eq!(status(cheapest.id), ItemStatus::Leased);
    let grant = audit::entry(audit::len() - 1).unwrap();
    assert_eq!(grant.why, GRANTED);

    // With no rebuild time the item is available again in the same run.
    run_at(&rt, t0 + HOUR);
    assert_eq!(lease(&rt, leased.id).unwrap().task.status, "reclaimed");
    assert_eq!(status(cheapest.id), ItemStatus::Available);
    let item_moves: Vec<String> = (1..=audit::len())
        .filter_map(audit::entry)
        .filter(|e| e.entity == Entity::Item(cheapest.id))
        .map(|e| e.to)
        .collect();
    assert_eq!(
        item_moves,
        [
            "available",
            "reserving",
            "leased",
            "rebuilding",
            "available"
        ]
    );
}

#[test]
fn lease_by_sku_errors_are_typed_and_change_nothing() {
    let rt = market();
    offered(&rt, "n1", 100);
    set_policies(PoliciesUpdate {
        max_lease_seconds: Some(7200),
        max_active_leases_per_principal: Some(1),
        ..PoliciesUpdate::default()
    });
    let before = snapshot();
    let anonymous = calling(&rt, Principal::anonymous(), || {
        lease_by_sku(&rt, by_sku(3600))
    });
    assert!(matches!(anonymous, Err(MarketError::NotAuthorized { .. })));
    let cases = [
        (
            LeaseBySkuArg {
                sku: "2X.small".into(),
                ..by_sku(3600)
            },
            "InvalidSku",
        ),
        (
            LeaseBySkuArg {
                lessee_key: Some(vec![1; 31].into()),
                lessee_key_hex: None,
                ..by_sku(3600)
            },
            "InvalidArgument",
        ),
        (by_sku(59), "InvalidArgument"),
        (by_sku(7201), "LeaseTooLong"),
        (
            LeaseBySkuArg {
                image: String::new(),
                ..by_sku(3600)
            },
            "InvalidArgument",
        ),
        (
            LeaseBySkuArg {
                sku: "4D.large".into(),
                ..by_sku(3600)
            },
            "NothingAvailable",
        ),
        (
            LeaseBySkuArg {
                max_price_per_hour: Some(99),
                ..by_sku(3600)
            },
            "NothingAvailable",
        ),
    ];
    for (arg, expected) in cases {
        let error = lease_by_sku(&rt, arg.clone()).unwrap_err();
        assert!(
            format!("{error:?}").starts_with(expected),
            "{arg:?}: {error:?}"
        );
        assert_eq!(snapshot(), before, "{arg:?}");
    }
    let Err(MarketError::NothingAvailable { messages }) = lease_by_sku(
        &rt,
        LeaseBySkuArg {
            max_price_per_hour: Some(99),
            ..by_sku(3600)
        },
    ) else {
        panic!("expected NothingAvailable");
    };
    assert_eq!(messages[0].level, Level::Fail);
    assert_eq!(
        messages[1].text,
        "1 open offers cost more than the maximum price"
    );

    set_policies(PoliciesUpdate {
        allowed_images: Some(vec!["debian-12".into()]),
        ..PoliciesUpdate::default()
    });
    let Err(MarketError::NothingAvailable { messages }) = lease_by_sku(&rt, by_sku(3600)) else {
        panic!("expected NothingAvailable");
    };
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].level, Level::Fail);

    // The quota of active leases.
    offered(&rt, "n2", 100);
    let debian = || LeaseBySkuArg {
        image: "debian-12".into(),
        ..by_sku(3600)
    };
    lease_by_sku(&rt, debian()).unwrap();
    let before = snapshot();
    assert_eq!(
        lease_by_sku(&rt, debian()),
        Err(MarketError::QuotaExceeded {
            what: "active leases".into(),
            max: 1
        })
    );
    assert_eq!(snapshot(), before);
}

#[test]
fn accept_errors_are_typed_and_change_nothing() {
    let rt = market();
    let t0 = rt.time.get();
    let (_, first_offer) = offered(&rt, "n1", 100);
    offered(&rt, "n2", 100);
    let view = offerset::request(&rt, ask(3600)).unwrap();
    let (id, other) = (view.offers[0].id, view.offers[1].id);
    let before = snapshot();
    assert_eq!(
        accept(&rt, accept_arg(99)),
        Err(MarketError::UnknownExecution { id: 99 })
    );
    assert!(matches!(
        calling(&rt, bob(), || accept(&rt, accept_arg(id))),
        Err(MarketError::NotAuthorized { .. })
    ));
    let short_key = AcceptArg {
        execution_id: id,
        lessee_key: Some(vec![1; 31].into()),
        lessee_key_hex: None,
    };
    assert!(matches!(
        accept(&rt, short_key),
        Err(MarketError::InvalidArgument { .. })
    ));
    // The hold is over, though its expiry task has not run.
    rt.time.set(t0 + 300 * SECOND_NS);
    assert_eq!(
        accept(&rt, accept_arg(id)),
        Err(MarketError::WrongPhase {
            phase: Expired,
            action: "accept".into()
        })
    );
    rt.time.set(t0);
    set_policies(PoliciesUpdate {
        max_active_leases_per_principal: Some(1),
        ..PoliciesUpdate::default()
    });
    store::update_usage(&alice(), |usage| usage.active_leases = 1);
    let before_quota = snapshot();
    assert_eq!(
        accept(&rt, accept_arg(id)),
        Err(MarketError::QuotaExceeded {
            what: "active leases".into(),
            max: 1
        })
    );
    assert_eq!(snapshot(), before_quota);
    store::update_usage(&alice(), |usage| usage.active_leases = 0);
    set_policies(PoliciesUpdate {
        max_active_leases_per_principal: Some(10),
        ..PoliciesUpdate::default()
    });
    assert_eq!(snapshot(), before);

    // An offer closed another way (here a record from an older canister, claimed whole)
    // cannot be accepted.
    let mut claimed = offers::get(first_offer.id).unwrap();
    claimed.status = OfferStatus::Claimed;
    store::put_offer(&claimed);
    crate::market::index::remove(claimed.id);
    let before = snapshot();
    assert_eq!(
        accept(&rt, accept_arg(id)),
        Err(MarketError::OfferClosed {
            offer_id: first_offer.id,
            status: OfferStatus::Claimed
        })
    );
    assert_eq!(snapshot(), before);

    // Accepted once; then its siblings and itself are past OFFERED.
    accept(&rt, accept_arg(other)).unwrap();
    let before = snapshot();
    for (execution_id, phase) in [(other, Accepted), (id, Rejected)] {
        assert_eq!(
            accept(&rt, accept_arg(execution_id)),
            Err(MarketError::WrongPhase {
                phase,
                action: "accept".into()
            })
        );
    }
    assert_eq!(snapshot(), before);
}

#[test]
fn no_double_booking_of_a_held_or_accepted_window() {
    let rt = market();
    let t0 = rt.time.get();
    let node = item(&rt, "n1", "2C.small", 8);
    let first = offer(&rt, node.id, t0, t0 + 3 * HOUR, 100);

    // Alice and bob hold different windows of one offer; both may lease them: a lease books
    // only its own window.
    let alices = offerset::request(&rt, ask_at(t0, 3600)).unwrap();
    let held_again = calling(&rt, bob(), || offerset::request(&rt, ask_at(t0, 3600)));
    assert_eq!(held_again.unwrap().offerset.result, OffersetResult::No);
    let bobs = calling(&rt, bob(), || {
        offerset::request(&rt, ask_at(t0 + HOUR, 3600))
    })
    .unwrap();
    let bobs_hold = bobs.offers[0].id;
    accept(&rt, accept_arg(alices.offers[0].id)).unwrap();
    assert_eq!(phase(bobs_hold), Offered);
    let bobs_lease = calling(&rt, bob(), || accept(&rt, accept_arg(bobs_hold))).unwrap();
    assert_eq!((bobs_lease.phase, bobs_lease.offer_id), (Waiting, first.id));

    // Both windows are taken; the third hour is still offered.
    let view = calling(&rt, bob(), || offerset::request(&rt, ask_at(t0, 3600))).unwrap();
    assert_eq!(view.offerset.result, OffersetResult::No);
    assert!(view
        .offerset
        .messages
        .iter()
        .any(|m| m.text == "1 open offers are on items already held or leased in the window"));
    let after = calling(&rt, bob(), || {
        offerset::request(&rt, ask_at(t0 + 2 * HOUR, 3600))
    })
    .unwrap();
    assert_eq!(after.offers[0].item_id, node.id);
    // Bookings never overlap.
    let bookings = store::item_bookings(node.id);
    assert!(bookings.windows(2).all(|w| w[0].end_ns <= w[1].start_ns));
}

#[test]
fn contract_and_lease_views_follow_the_phase() {
    let rt = market();
    let t0 = rt.time.get();
    let node = item(&rt, "n1", "2C.small", 8);
    offer(&rt, node.id, t0, t0 + 72 * HOUR, 100);
    let view = offerset::request(&rt, ask_at(t0 + HOUR, 25 * 3600)).unwrap();
    let id = view.offers[0].id;
    assert_eq!(
        contract(&rt, id),
        Err(MarketError::WrongPhase {
            phase: Offered,
            action: "view as a contract".into()
        })
    );
    accept(&rt, accept_arg(id)).unwrap();
    let open = contract(&rt, id).unwrap();
    assert_eq!(open.status, ContractStatus::Open);
    assert_eq!(open.offer_id, view.offers[0].offer_id);
    assert_eq!((open.start_ns, open.end_ns), (t0 + HOUR, t0 + 26 * HOUR));
    assert_eq!(open.project, alice().to_text());
    assert_eq!(open.properties[0].key, "region");
    let pez = lease(&rt, id).unwrap();
    assert_eq!(
        (pez.lease_duration_days, pez.task.status.as_str()),
        (2, "pending")
    );

    run_at(&rt, t0 + HOUR);
    assert_eq!(contract(&rt, id).unwrap().status, ContractStatus::Fulfilled);
    run_at(&rt, t0 + 26 * HOUR);
    assert_eq!(contract(&rt, id).unwrap().status, ContractStatus::Expired);
    // The same visibility as `get`.
    assert!(calling(&rt, provider(), || contract(&rt, id)).is_ok());
    assert!(matches!(
        calling(&rt, bob(), || lease(&rt, id)),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(
        contract(&rt, 99),
        Err(MarketError::UnknownExecution { id: 99 })
    );
}

#[test]
fn cancel_in_each_phase() {
    let rt = market();
    let t0 = rt.time.get();
    for n in 1..=5 {
        offered(&rt, &format!("n{n}"), 100);
    }
    let cancel_arg = |execution_id| CancelArg {
        execution_id,
        reason: "plans changed".into(),
    };

    // OFFERED: nothing to cancel yet.
    let held = offerset::request(&rt, ask_at(t0, 3600)).unwrap().offers[0].id;
    let before = snapshot();
    assert_eq!(
        cancel(&rt, cancel_arg(held)),
        Err(MarketError::WrongPhase {
            phase: Offered,
            action: "cancel".into()
        })
    );
    let long = CancelArg {
        execution_id: held,
        reason: "x".repeat(300),
    };
    assert!(matches!(
        cancel(&rt, long),
        Err(MarketError::InvalidArgument { .. })
    ));
    assert_eq!(snapshot(), before);

    // WAITING.
    let waiting = leased(&rt, t0 + HOUR, 3600);
    let cancelled = cancel(&rt, cancel_arg(waiting.id)).unwrap();
    assert_eq!(cancelled.phase, Cancelled);
    assert_eq!(
        cancelled.reason.as_deref(),
        Some("cancelled: plans changed")
    );
    // Its window is free again (the OFFERED hold above keeps its own).
    assert!(store::item_bookings(waiting.item_id)
        .iter()
        .all(|b| b.execution_id != waiting.id));
    run_at(&rt, t0 + HOUR);
    assert_eq!(phase(waiting.id), Cancelled);
    assert_eq!(status(waiting.item_id), ItemStatus::Available);

    // ACCEPTED (its start task not run yet), by a controller; others may not.
    let now = rt.time.get();
    let accepted = leased(&rt, now, 3600);
    assert!(matches!(
        calling(&rt, bob(), || cancel(&rt, cancel_arg(accepted.id))),
        Err(MarketError::NotAuthorized { .. })
    ));
    let by_admin = CancelArg {
        execution_id: accepted.id,
        reason: String::new(),
    };
    let cancelled = calling(&rt, admin(), || cancel(&rt, by_admin)).unwrap();
    assert_eq!(cancelled.reason.as_deref(), Some("cancelled"));
    assert_eq!(
        audit::entry(audit::len()).unwrap().actor,
        Actor::Controller(admin())
    );

    // AVAILABLE: released, then cancelled; the item is rebuilt.
    let running = leased(&rt, now, 3600);
    run_at(&rt, now);
    assert_eq!(phase(running.id), Available);
    cancel(&rt, cancel_arg(running.id)).unwrap();
    assert_eq!(
        phases(running.id)[2..],
        ["PREPARING", "AVAILABLE", "RELEASING", "CANCELLED"]
    );
    assert_eq!(store::usage(&alice()).active_leases, 0);
    run_at(&rt, now);
    assert_eq!(status(running.item_id), ItemStatus::Available);

    // Final phases.
    let before = snapshot();
    assert_eq!(
        cancel(&rt, cancel_arg(running.id)),
        Err(MarketError::WrongPhase {
            phase: Cancelled,
            action: "cancel".into()
        })
    );
    assert_eq!(snapshot(), before);
}

#[test]
fn extend_within_the_offer_and_the_policy_when_nothing_is_booked() {
    let rt = market();
    let t0 = rt.time.get();
    set_policies(PoliciesUpdate {
        max_lease_seconds: Some(3 * 3600),
        ..PoliciesUpdate::default()
    });
    let node = item(&rt, "n1", "2C.small", 8);
    let first = offer(&rt, node.id, t0, t0 + 4 * HOUR, 100);
    let lease_id = leased(&rt, t0, 3600).id;
    run_at(&rt, t0);
    // Bob holds the same offer from 2.5 h.
    let bobs = calling(&rt, bob(), || {
        offerset::request(&rt, ask_at(t0 + 150 * MINUTE, 3600))
    })
    .unwrap();
    let bobs_hold = bobs.offers[0].id;

    let extended = extend(
        &rt,
        ExtendArg {
            execution_id: lease_id,
            new_end_ns: t0 + 2 * HOUR,
        },
    )
    .unwrap();
    assert_eq!(extended.end_ns, t0 + 2 * HOUR);
    assert_eq!(extended.total_price, 200);
    assert_eq!(
        store::overlapping_booking(node.id, t0 + 90 * MINUTE, t0 + 91 * MINUTE)
            .map(|b| (b.execution_id, b.end_ns)),
        Some((lease_id, t0 + 2 * HOUR))
    );
    let entry = audit::entry(audit::len()).unwrap();
    assert_eq!(
        (entry.from.as_str(), entry.to.as_str()),
        ("AVAILABLE", "AVAILABLE")
    );
    assert_eq!(entry.why, format!("extended to {}", utc(t0 + 2 * HOUR)));

    let before = snapshot();
    let to = |new_end_ns| ExtendArg {
        execution_id: lease_id,
        new_end_ns,
    };
    assert!(matches!(
        extend(&rt, to(t0 + 2 * HOUR)),
        Err(MarketError::InvalidWindow { .. })
    ));
    let Err(MarketError::InvalidWindow { message }) = extend(&rt, to(t0 + 5 * HOUR)) else {
        panic!("expected InvalidWindow");
    };
    assert!(
        message.starts_with(&format!("offer {} ends", first.id)),
        "{message}"
    );
    assert_eq!(
        extend(&rt, to(t0 + 4 * HOUR)),
        Err(MarketError::LeaseTooLong {
            max_seconds: 3 * 3600
        })
    );
    assert_eq!(
        extend(&rt, to(t0 + 3 * HOUR)),
        Err(MarketError::Booked {
            execution_id: bobs_hold
        })
    );
    assert!(matches!(
        calling(&rt, bob(), || extend(&rt, to(t0 + 140 * MINUTE))),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(snapshot(), before);

    // The task at the old end finds it extended; the new one ends it.
    run_at(&rt, t0 + HOUR);
    assert_eq!(phase(lease_id), Available);
    run_at(&rt, t0 + 2 * HOUR);
    assert_eq!(phase(lease_id), Completed);
    let before = snapshot();
    assert_eq!(
        extend(&rt, to(t0 + 140 * MINUTE)),
        Err(MarketError::WrongPhase {
            phase: Completed,
            action: "extend".into()
        })
    );
    assert_eq!(snapshot(), before);
}

#[test]
fn end_early_releases_at_once_and_bills_the_started_hours() {
    let rt = market();
    let t0 = rt.time.get();
    for n in 1..=3 {
        offered(&rt, &format!("n{n}"), 100);
    }
    let waiting = leased(&rt, t0 + HOUR, 3600);
    let running = leased(&rt, t0, 3 * 3600);
    assert_eq!(running.total_price, 300);
    run_at(&rt, t0 + 70 * MINUTE);
    let before = snapshot();
    assert!(matches!(
        calling(&rt, bob(), || end_now(&rt, running.id)),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(snapshot(), before);

    let ended = end_now(&rt, running.id).unwrap();
    assert_eq!(ended.phase, Completed);
    assert_eq!(ended.end_ns, t0 + 70 * MINUTE);
    assert_eq!(ended.total_price, 200);
    assert_eq!(status(running.item_id), ItemStatus::Rebuilding);
    assert_eq!(store::item_bookings(running.item_id), []);
    // The task at the original end finds it over.
    run_at(&rt, t0 + 3 * HOUR);
    let after = store::execution(running.id).unwrap();
    assert_eq!((after.phase, after.end_ns), (Completed, t0 + 70 * MINUTE));
    assert_eq!(after.updated_at_ns, t0 + 70 * MINUTE);

    let waiting_later = leased(&rt, t0 + 4 * HOUR, 3600);
    let before = snapshot();
    assert_eq!(
        end_now(&rt, waiting_later.id),
        Err(MarketError::WrongPhase {
            phase: Waiting,
            action: "end".into()
        })
    );
    assert_eq!(snapshot(), before);
    assert_eq!(phase(waiting.id), Completed);
}

#[test]
fn back_to_back_leases_on_one_item_wait_for_the_rebuild() {
    let rt = market();
    let t0 = rt.time.get();
    set_policies(PoliciesUpdate {
        rebuild_seconds: Some(100),
        ..PoliciesUpdate::default()
    });
    let node = item(&rt, "n1", "2C.small", 8);
    offer(&rt, node.id, t0, t0 + HOUR, 100);
    offer(&rt, node.id, t0 + HOUR, t0 + 2 * HOUR, 100);
    let first = leased(&rt, t0, 3600);
    let second = calling(&rt, bob(), || leased(&rt, t0 + HOUR, 3600));
    run_at(&rt, t0);
    assert_eq!(phase(first.id), Available);

    // The first ends as the second starts: the item is rebuilding, the second waits.
    run_at(&rt, t0 + HOUR);
    assert_eq!(phase(first.id), Completed);
    assert_eq!(status(node.id), ItemStatus::Rebuilding);
    assert_eq!(phase(second.id), Waiting);
    // It starts the moment the rebuild is over, not at its next retry.
    let rebuilt = t0 + HOUR + 100 * SECOND_NS;
    run_at(&rt, rebuilt - SECOND_NS);
    assert_eq!(phase(second.id), Waiting);
    run_at(&rt, rebuilt);
    assert_eq!(phase(second.id), Available);
    assert_eq!(store::execution(second.id).unwrap().phase_since_ns, rebuilt);
    let item = store::item(node.id).unwrap();
    assert_eq!(
        (item.status, item.lease_id),
        (ItemStatus::Leased, Some(second.id))
    );
}

#[test]
fn a_lease_whose_item_stays_busy_is_cancelled_after_the_stuck_timeout() {
    let rt = market();
    let t0 = rt.time.get();
    set_policies(PoliciesUpdate {
        rebuild_seconds: Some(3600),
        ..PoliciesUpdate::default()
    });
    let node = item(&rt, "n1", "2C.small", 8);
    offer(&rt, node.id, t0, t0 + HOUR, 100);
    offer(&rt, node.id, t0 + HOUR, t0 + 3 * HOUR, 100);
    leased(&rt, t0, 3600);
    let second = leased(&rt, t0 + HOUR, 2 * 3600);
    run_at(&rt, t0);
    run_at(&rt, t0 + HOUR);
    // The provider takes the rebuilding item out of service.
    let arg = InventorySetStatusArg {
        provider: key_input(),
        item_id: node.id,
        status: ItemStatus::Maintenance,
        reason: "disk failed".into(),
    };
    calling(&rt, provider(), || inventory::set_status(&rt, arg)).unwrap();
    let deadline = t0 + HOUR + 1800 * SECOND_NS;
    run_at(&rt, deadline - SECOND_NS);
    assert_eq!(phase(second.id), Waiting);
    run_at(&rt, deadline + 30 * SECOND_NS);
    let cancelled = store::execution(second.id).unwrap();
    assert_eq!(cancelled.phase, Cancelled);
    assert_eq!(
        cancelled.reason,
        Some(format!(
            "the item did not become ready by {}",
            utc(deadline)
        ))
    );
    assert_eq!(status(node.id), ItemStatus::Maintenance);
}

#[test]
fn a_lease_that_never_started_is_cancelled_at_its_end() {
    let rt = market();
    let t0 = rt.time.get();
    offered(&rt, "n1", 100);
    let lease = leased(&rt, t0, 60);
    // Its start task never ran (say the timer was late): the end task cancels it.
    rt.time.set(t0 + MINUTE);
    start(&rt, lease.id);
    assert_eq!(phase(lease.id), Accepted);
    finish(&rt, lease.id);
    let cancelled = store::execution(lease.id).unwrap();
    assert_eq!(cancelled.phase, Cancelled);
    assert_eq!(
        cancelled.reason.as_deref(),
        Some("the lease ended before its item was ready")
    );
    let before = snapshot();
    finish(&rt, lease.id);
    start(&rt, lease.id);
    check_stuck(&rt, lease.id);
    assert_eq!(snapshot(), before);
}

#[test]
fn stuck_preparing_fails_and_rebuilds_stuck_releasing_fails_to_maintenance() {
    let rt = market();
    let t0 = rt.time.get();
    offered(&rt, "n1", 100);
    offered(&rt, "n2", 100);
    let actor = Actor::Canister;
    // As a provisioning backend would leave them: one PREPARING, one RELEASING.
    let mut preparing = leased(&rt, t0, 3 * 3600);
    let mut releasing = leased(&rt, t0, 3 * 3600);
    let mut item = store::item(preparing.item_id).unwrap();
    item.lease_id = Some(preparing.id);
    inventory::move_item(t0, &actor, By::Market, &mut item, ItemStatus::Reserving, "").unwrap();
    execution::transition(t0, &actor, &mut preparing, Preparing, "").unwrap();
    run_at(&rt, t0);
    assert_eq!(phase(releasing.id), Available);
    releasing = store::execution(releasing.id).unwrap();
    execution::transition(t0, &actor, &mut releasing, Releasing, "").unwrap();

    // Not yet stuck: looked at again when it would be.
    rt.time.set(t0 + 1799 * SECOND_NS);
    let before = store::execution(preparing.id).unwrap();
    check_stuck(&rt, preparing.id);
    assert_eq!(store::execution(preparing.id).unwrap(), before);

    rt.time.set(t0 + 1800 * SECOND_NS);
    check_stuck(&rt, preparing.id);
    let failed = store::execution(preparing.id).unwrap();
    assert_eq!(failed.phase, Failed);
    assert_eq!(
        failed.reason.as_deref(),
        Some("provisioning did not finish within 1800 s")
    );
    assert_eq!(status(preparing.item_id), ItemStatus::Rebuilding);

    check_stuck(&rt, releasing.id);
    let failed = store::execution(releasing.id).unwrap();
    assert_eq!(failed.phase, Failed);
    assert_eq!(
        failed.reason.as_deref(),
        Some("release did not finish within 1800 s")
    );
    let item = store::item(releasing.item_id).unwrap();
    assert_eq!(
        (item.status, item.lease_id),
        (ItemStatus::Maintenance, None)
    );
    assert_eq!(store::usage(&alice()).active_leases, 0);
    run_at(&rt, t0 + 1800 * SECOND_NS);
    assert_eq!(status(preparing.item_id), ItemStatus::Available);
    assert_eq!(status(releasing.item_id), ItemStatus::Maintenance);
}

#[test]
fn procurement_meta_is_redacted_for_everyone_but_the_provider_and_controllers() {
    let rt = market();
    offered(&rt, "n1", 100);
    let id = lease_by_sku(&rt, by_sku(3600)).unwrap().id;
    let meta = vec![Property {
        key: "ticket".into(),
        value: "T-1".into(),
    }];
    let arg = |meta| SetProcurementMetaArg {
        provider: key_input(),
        execution_id: id,
        meta,
    };
    let set = calling(&rt, provider(), || {
        set_procurement_meta(&rt, arg(meta.clone()))
    });
    assert_eq!(set.unwrap().procurement_meta, Some(meta.clone()));
    assert_eq!(
        audit::entry(audit::len()).unwrap().why,
        "procurement details set"
    );

    assert_eq!(get(&rt, id).unwrap().procurement_meta, None);
    assert_eq!(lease(&rt, id).unwrap().procurement_meta, None);
    let consumer_list = ExecutionsListArg {
        role: Role::Consumer,
        provider: None,
        phase: None,
        after: None,
        limit: None,
    };
    let page = list(&rt, consumer_list).unwrap();
    assert_eq!(page.executions[0].procurement_meta, None);
    for reader in [provider(), admin()] {
        let seen = calling(&rt, reader, || get(&rt, id)).unwrap();
        assert_eq!(seen.procurement_meta, Some(meta.clone()));
        let pez = calling(&rt, reader, || lease(&rt, id)).unwrap();
        assert_eq!(pez.procurement_meta, Some(meta.clone()));
    }
    let provider_list = ExecutionsListArg {
        role: Role::Provider,
        provider: Some(key_input()),
        phase: None,
        after: None,
        limit: None,
    };
    let page = calling(&rt, provider(), || list(&rt, provider_list)).unwrap();
    assert_eq!(page.executions[0].procurement_meta, Some(meta.clone()));
    assert!(matches!(
        calling(&rt, bob(), || get(&rt, id)),
        Err(MarketError::NotAuthorized { .. })
    ));

    // Refused: too many, bad text, not the provider's, not a delegate.
    let before = snapshot();
    let many = vec![meta[0].clone(); 33];
    assert!(matches!(
        calling(&rt, provider(), || set_procurement_meta(&rt, arg(many))),
        Err(MarketError::TooMany { .. })
    ));
    let empty_key = vec![Property {
        key: String::new(),
        value: "v".into(),
    }];
    assert!(matches!(
        calling(&rt, provider(), || set_procurement_meta(
            &rt,
            arg(empty_key)
        )),
        Err(MarketError::InvalidArgument { .. })
    ));
    assert!(matches!(
        set_procurement_meta(&rt, arg(meta.clone())),
        Err(MarketError::NotAuthorized { .. })
    ));
    let (other_key, other) = other_provider(&rt);
    let foreign = SetProcurementMetaArg {
        provider: other_key,
        ..arg(meta.clone())
    };
    assert!(matches!(
        calling(&rt, other, || set_procurement_meta(&rt, foreign)),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(snapshot(), before);
}

/// A second provider with its own delegate, acting for nothing on the first's items.
fn other_provider(rt: &FakeRuntime) -> (ProviderKeyInput, Principal) {
    let secret = [8; 32];
    let delegate = Principal::from_slice(&[6; 29]);
    let arg = delegation::signed(&secret, &FakeRuntime::CANISTER_ID, delegate, true, 1);
    delegation::delegate(rt, arg).unwrap();
    let key = signing::provider_of(&secret).as_bytes().to_vec();
    (ProviderKeyInput::Raw(key.into()), delegate)
}

fn sealed(recipient_key: ByteBuf) -> SealedBox {
    SealedBox {
        recipient_key,
        ephemeral_key: vec![1; 32].into(),
        nonce: vec![2; 24].into(),
        ciphertext: vec![3; 48].into(),
    }
}

#[test]
fn credentials_are_sealed_to_the_lessee_key_and_only_their_shape_is_checked() {
    let rt = market();
    offered(&rt, "n1", 100);
    offered(&rt, "n2", 100);
    let id = lease_by_sku(&rt, by_sku(3600)).unwrap().id;
    let held = offerset::request(&rt, ask(3600)).unwrap().offers[0].id;
    let arg = |execution_id, sealed| SetConsumerMetaArg {
        provider: key_input(),
        execution_id,
        sealed,
    };
    let before = snapshot();
    let bad = [
        sealed(vec![9; 32].into()),
        SealedBox {
            ephemeral_key: vec![1; 31].into(),
            ..sealed(key())
        },
        SealedBox {
            nonce: vec![2; 16].into(),
            ..sealed(key())
        },
        SealedBox {
            ciphertext: vec![3; 15].into(),
            ..sealed(key())
        },
        SealedBox {
            ciphertext: vec![3; 4097].into(),
            ..sealed(key())
        },
    ];
    for sealed in bad {
        let result = calling(&rt, provider(), || {
            set_consumer_meta(&rt, arg(id, sealed.clone()))
        });
        assert!(
            matches!(result, Err(MarketError::InvalidArgument { .. })),
            "{sealed:?}"
        );
    }
    assert_eq!(
        calling(&rt, provider(), || set_consumer_meta(
            &rt,
            arg(held, sealed(key()))
        )),
        Err(MarketError::WrongPhase {
            phase: Offered,
            action: "set consumer meta".into()
        })
    );
    assert!(matches!(
        set_consumer_meta(&rt, arg(id, sealed(key()))),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(snapshot(), before);

    let chacha = SealedBox {
        nonce: vec![2; 12].into(),
        ..sealed(key())
    };
    for sealed in [sealed(key()), chacha] {
        let set = calling(&rt, provider(), || {
            set_consumer_meta(&rt, arg(id, sealed.clone()))
        })
        .unwrap();
        assert_eq!(set.consumer_meta, Some(sealed.clone()));
        assert_eq!(get(&rt, id).unwrap().consumer_meta, Some(sealed.clone()));
        assert_eq!(lease(&rt, id).unwrap().consumer_meta, Some(sealed));
    }
    let entry = audit::entry(audit::len()).unwrap();
    assert_eq!(entry.why, "credentials sealed to the lessee set");
    assert_eq!(
        (entry.from.as_str(), entry.to.as_str()),
        ("ACCEPTED", "ACCEPTED")
    );
}

#[test]
fn a_filtered_listing_reads_a_bounded_number_of_executions_per_call() {
    use crate::market::lease::views::MAX_SCANNED;
    let rt = market();
    offered(&rt, "n1", 100);
    let view = offerset::request(&rt, ask(3600)).unwrap();
    let template = store::execution(view.offers[0].id).unwrap();
    // A long history of rejected executions, and one accepted at its end.
    let first = template.id + 1;
    let count = 2 * MAX_SCANNED as u64 + 7;
    for id in first..first + count {
        let phase = if id == first + count - 1 {
            Accepted
        } else {
            Rejected
        };
        store::put_execution(&Execution {
            id,
            phase,
            ..template.clone()
        });
    }
    let arg = |after| ExecutionsListArg {
        role: Role::Consumer,
        provider: None,
        phase: Some(Accepted),
        after,
        limit: Some(10),
    };
    let mut after = None;
    let mut calls = 0;
    let mut found = vec![];
    loop {
        let page = list(&rt, arg(after)).unwrap();
        calls += 1;
        found.extend(page.executions.iter().map(|e| e.id));
        match page.next {
            Some(next) => {
                // Each call went at most MAX_SCANNED ids further.
                assert!(next <= after.unwrap_or(0) + MAX_SCANNED as u64, "{next}");
                after = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(found, [first + count - 1]);
    assert_eq!(calls, 3);
}

#[test]
fn lists_page_and_filter_by_phase() {
    let rt = market();
    for n in 1..=3 {
        offered(&rt, &format!("n{n}"), 100 * n);
    }
    let view = offerset::request(&rt, ask(3600)).unwrap();
    let ids: Vec<u64> = view.offers.iter().map(|e| e.id).collect();
    accept(&rt, accept_arg(ids[2])).unwrap();
    let arg = |role, phase, after, limit| ExecutionsListArg {
        role,
        provider: None,
        phase,
        after,
        limit,
    };
    let page = list(&rt, arg(Role::Consumer, None, None, Some(2))).unwrap();
    assert_eq!(
        page.executions.iter().map(|e| e.id).collect::<Vec<_>>(),
        ids[..2]
    );
    assert_eq!(page.next, Some(ids[1]));
    let rest = list(&rt, arg(Role::Consumer, None, page.next, Some(2))).unwrap();
    assert_eq!(
        rest.executions.iter().map(|e| e.id).collect::<Vec<_>>(),
        ids[2..]
    );
    assert_eq!(rest.next, None);
    let rejected = list(&rt, arg(Role::Consumer, Some(Rejected), None, Some(1))).unwrap();
    assert_eq!(rejected.executions[0].id, ids[0]);
    assert_eq!(rejected.next, Some(ids[0]));
    let accepted = list(&rt, arg(Role::Consumer, Some(Accepted), None, None)).unwrap();
    assert_eq!(accepted.executions.len(), 1);
    assert_eq!(
        calling(&rt, bob(), || list(
            &rt,
            arg(Role::Consumer, None, None, None)
        ))
        .unwrap()
        .executions,
        []
    );

    assert!(matches!(
        list(&rt, arg(Role::Provider, None, None, None)),
        Err(MarketError::InvalidArgument { .. })
    ));
    let for_provider = ExecutionsListArg {
        provider: Some(key_input()),
        ..arg(Role::Provider, None, None, None)
    };
    assert!(matches!(
        list(&rt, for_provider.clone()),
        Err(MarketError::NotAuthorized { .. })
    ));
    let page = calling(&rt, provider(), || list(&rt, for_provider)).unwrap();
    assert_eq!(page.executions.len(), 3);
    assert!(matches!(
        list(&rt, arg(Role::Consumer, None, None, Some(0))),
        Err(MarketError::InvalidArgument { .. })
    ));
    for role in [Role::Consumer, Role::Provider] {
        let anonymous = calling(&rt, Principal::anonymous(), || {
            list(&rt, arg(role, None, None, None))
        });
        assert!(matches!(anonymous, Err(MarketError::NotAuthorized { .. })));
    }
}

// --- leases of Ironic nodes (the simulated Ironic) ---

mod ironic {
    use super::super::super::offerset::testing::{self as fixtures};
    use super::*;
    use crate::ironic::client::{Ironic, Node};
    use crate::market::operations;
    use crate::provision::service as provisioning;
    use crate::provision::sim::SimIronic;
    use crate::provision::{OperationKind, OperationStatus, SimFailureArg};
    use crate::runtime::block_on;

    const STEP: u64 = 10 * SECOND_NS;

    /// An `ironic_node` item offered for a day from now.
    fn node_offered(rt: &FakeRuntime, uuid: &str) -> Item {
        fixtures::offered(rt, uuid, 100).0
    }

    fn sim_node(rt: &FakeRuntime, uuid: &str) -> Node {
        let sim = SimIronic {
            rt,
            provider: signing::provider_of(&SECRET),
        };
        block_on(sim.node(uuid)).unwrap()
    }

    /// Runs the task queue every 10 s from `from` for `seconds`; returns the last time run.
    fn run_steps(rt: &FakeRuntime, from: u64, seconds: u64) -> u64 {
        let mut at = from;
        while at <= from + seconds * SECOND_NS {
            run_at(rt, at);
            at += STEP;
        }
        at - STEP
    }

    fn operation(item_id: u64) -> operations::Operation {
        operations::get(item_id).unwrap()
    }

    fn fail_next(rt: &FakeRuntime, uuid: &str, fail_deploy: bool, fail_clean: bool) {
        let arg = SimFailureArg {
            provider: key_input(),
            server_id: uuid.into(),
            fail_deploy,
            fail_clean,
        };
        calling(rt, provider(), || provisioning::sim_set_failure(rt, arg)).unwrap();
    }

    #[test]
    fn a_lease_deploys_its_server_then_undeploys_and_cleans_it() {
        let rt = market();
        let t0 = rt.time.get();
        let node = node_offered(&rt, "n1");
        let lease = lease_by_sku(&rt, by_sku(3600)).unwrap();

        run_at(&rt, t0);
        assert_eq!(phase(lease.id), Preparing);
        assert_eq!(status(node.id), ItemStatus::Reserving);
        let deploy = operation(node.id);
        assert_eq!(deploy.kind, OperationKind::Deploy);
        assert_eq!(deploy.status, OperationStatus::InProgress);
        assert_eq!(deploy.execution_id, Some(lease.id));
        let sim = sim_node(&rt, "n1");
        assert_eq!(sim.provision_state, "deploying");
        assert_eq!(sim.lessee.as_deref(), Some("moc-project"));
        assert_eq!(sim.image_source.as_deref(), Some("ubuntu-24.04"));
        // The lessee follows it: Ironic was asked, the node last read before that.
        let seen = provisioning::status(&rt, "n1").unwrap();
        assert_eq!(seen.status, OperationStatus::InProgress);
        assert_eq!(
            (seen.provision_state.as_str(), seen.progress_percent),
            ("available", Some(0))
        );
        run_at(&rt, t0 + STEP);
        let seen = provisioning::status(&rt, "n1").unwrap();
        assert_eq!(
            (seen.provision_state.as_str(), seen.progress_percent),
            ("wait call-back", Some(50))
        );

        let done = run_steps(&rt, t0 + STEP, 60);
        assert_eq!(phase(lease.id), Available);
        let item = store::item(node.id).unwrap();
        assert_eq!(
            (item.status, item.lease_id),
            (ItemStatus::Leased, Some(lease.id))
        );
        assert_eq!(sim_node(&rt, "n1").provision_state, "active");
        let deployed = operation(node.id);
        assert_eq!(deployed.status, OperationStatus::Completed);
        assert!(deployed.completed_at_ns.unwrap() <= done);
        assert_eq!(
            super::lease(&rt, lease.id).unwrap().task.status,
            "dispensed"
        );

        // The end: RELEASING while the node is torn down and cleaned.
        run_at(&rt, t0 + HOUR);
        assert_eq!(phase(lease.id), Releasing);
        assert_eq!(status(node.id), ItemStatus::Rebuilding);
        assert_eq!(operation(node.id).kind, OperationKind::Undeploy);
        run_steps(&rt, t0 + HOUR + STEP, 80);
        let ended = store::execution(lease.id).unwrap();
        assert_eq!(ended.phase, Completed);
        assert_eq!(ended.reason, None);
        let item = store::item(node.id).unwrap();
        assert_eq!((item.status, item.lease_id), (ItemStatus::Available, None));
        let sim = sim_node(&rt, "n1");
        assert_eq!(sim.provision_state, "available");
        assert_eq!((sim.lessee, sim.image_source), (None, None));
        assert_eq!(operation(node.id).status, OperationStatus::Completed);
        assert_eq!(
            phases(lease.id),
            [
                "OFFERED",
                "ACCEPTED",
                "PREPARING",
                "AVAILABLE",
                "RELEASING",
                "COMPLETED"
            ]
        );
        let last = audit::entry(audit::len() - 1).unwrap();
        assert_eq!(last.why, UNDEPLOYED);
        assert_eq!(store::usage(&alice()).active_leases, 0);
        // Fallback steps and the stuck check left in the queue run and do nothing.
        let (audit_before, operation_before) = (audit::len(), operation(node.id));
        run_at(&rt, t0 + HOUR + 2000 * SECOND_NS);
        assert_eq!(audit::len(), audit_before);
        assert_eq!(operation(node.id), operation_before);
        // Only the offer's expiry and the lease's retention are left.
        assert_eq!(queue::queue_len(), 2);
        assert_eq!(queue::next_due(), Some(t0 + 24 * HOUR));
    }

    #[test]
    fn a_failed_deploy_fails_the_lease_with_ironics_error_and_cleans_the_node() {
        let rt = market();
        let t0 = rt.time.get();
        let node = node_offered(&rt, "n1");
        fail_next(&rt, "n1", true, false);
        let lease = lease_by_sku(&rt, by_sku(3600)).unwrap();
        run_steps(&rt, t0, 40);
        let failed = store::execution(lease.id).unwrap();
        assert_eq!(failed.phase, Failed);
        let reason = failed.reason.unwrap();
        assert!(reason.contains("simulated failure"), "{reason}");
        assert!(
            reason.contains("Deploying the image to the node failed."),
            "{reason}"
        );
        assert_eq!(store::usage(&alice()).active_leases, 0);
        // The node is cleaned, then the item is offered again.
        assert_eq!(status(node.id), ItemStatus::Rebuilding);
        assert_eq!(operation(node.id).kind, OperationKind::Undeploy);
        run_steps(&rt, t0 + 50 * SECOND_NS, 80);
        let sim = sim_node(&rt, "n1");
        assert_eq!(sim.provision_state, "available");
        assert_eq!(sim.lessee, None);
        let item = store::item(node.id).unwrap();
        assert_eq!((item.status, item.lease_id), (ItemStatus::Available, None));
        assert_eq!(phase(lease.id), Failed);
    }

    #[test]
    fn a_failed_clean_still_ends_the_lease_and_puts_the_item_in_maintenance() {
        let rt = market();
        let t0 = rt.time.get();
        let node = node_offered(&rt, "n1");
        let lease = lease_by_sku(&rt, by_sku(3600)).unwrap();
        run_steps(&rt, t0, 60);
        assert_eq!(phase(lease.id), Available);
        fail_next(&rt, "n1", false, true);
        run_steps(&rt, t0 + HOUR, 80);
        assert_eq!(phase(lease.id), Completed);
        let item = store::item(node.id).unwrap();
        assert_eq!(
            (item.status, item.lease_id),
            (ItemStatus::Maintenance, None)
        );
        let why = &fixtures_last_item_audit(node.id).why;
        assert!(why.starts_with("the node could not be cleaned: "), "{why}");
        assert!(why.contains("Cleaning the node failed."), "{why}");
        assert_eq!(sim_node(&rt, "n1").provision_state, "clean failed");
        assert_eq!(operation(node.id).status, OperationStatus::Failed);
    }

    fn fixtures_last_item_audit(item_id: u64) -> AuditEntry {
        (1..=audit::len())
            .rev()
            .filter_map(audit::entry)
            .find(|e| e.entity == Entity::Item(item_id))
            .unwrap()
    }

    #[test]
    fn cancelled_while_preparing_the_deploy_is_undone_and_the_lease_cancelled() {
        let rt = market();
        let t0 = rt.time.get();
        let node = node_offered(&rt, "n1");
        let lease = lease_by_sku(&rt, by_sku(3600)).unwrap();
        run_steps(&rt, t0, 10);
        assert_eq!(phase(lease.id), Preparing);
        let arg = CancelArg {
            execution_id: lease.id,
            reason: "wrong image".into(),
        };
        let releasing = cancel(&rt, arg).unwrap();
        assert_eq!(releasing.phase, Releasing);
        assert_eq!(status(node.id), ItemStatus::Rebuilding);
        // The deploy under way ends first (Ironic cannot tear down a node mid-deploy),
        // then the node is undeployed: the lease is never AVAILABLE.
        run_steps(&rt, t0 + 2 * STEP, 120);
        let cancelled = store::execution(lease.id).unwrap();
        assert_eq!(cancelled.phase, Cancelled);
        assert_eq!(cancelled.reason.as_deref(), Some("cancelled: wrong image"));
        assert!(!phases(lease.id).contains(&"AVAILABLE".to_string()));
        let sim = sim_node(&rt, "n1");
        assert_eq!(
            (sim.provision_state.as_str(), sim.lessee),
            ("available", None)
        );
        assert_eq!(status(node.id), ItemStatus::Available);
    }

    #[test]
    fn a_deploy_past_the_stuck_timeout_fails_and_its_node_is_cleaned() {
        let rt = market();
        let t0 = rt.time.get();
        let node = node_offered(&rt, "n1");
        let lease = lease_by_sku(&rt, by_sku(3 * 3600)).unwrap();
        run_at(&rt, t0);
        assert_eq!(phase(lease.id), Preparing);
        // Nothing ran for the whole timeout (say the timer was lost): the stuck check is
        // the last resort.
        rt.time.set(t0 + 1800 * SECOND_NS);
        check_stuck(&rt, lease.id);
        let failed = store::execution(lease.id).unwrap();
        assert_eq!(failed.phase, Failed);
        assert_eq!(
            failed.reason.as_deref(),
            Some("provisioning did not finish within 1800 s")
        );
        assert_eq!(status(node.id), ItemStatus::Rebuilding);
        run_steps(&rt, t0 + 1800 * SECOND_NS, 150);
        assert_eq!(sim_node(&rt, "n1").provision_state, "available");
        assert_eq!(status(node.id), ItemStatus::Available);
        assert_eq!(phase(lease.id), Failed);
    }

    #[test]
    fn an_image_the_provider_does_not_deploy_fails_the_lease_and_frees_the_item() {
        use crate::provision::{settings, IronicConfigureArg};
        let rt = market();
        let t0 = rt.time.get();
        let node = node_offered(&rt, "n1");
        let arg = IronicConfigureArg {
            provider: key_input(),
            endpoint: None,
            microversion: None,
            auth_token: None,
            images: Some(vec!["debian-12".into()]),
        };
        calling(&rt, provider(), || settings::configure(&rt, arg)).unwrap();
        let lease = lease_by_sku(&rt, by_sku(3600)).unwrap();
        run_at(&rt, t0);
        let failed = store::execution(lease.id).unwrap();
        assert_eq!(failed.phase, Failed);
        assert!(failed
            .reason
            .unwrap()
            .starts_with("Image ubuntu-24.04 not found"));
        // Ironic was never asked: the node is untouched, the item back on the market.
        assert_eq!(sim_node(&rt, "n1").lessee, None);
        assert_eq!(status(node.id), ItemStatus::Available);
    }
}

#[test]
fn a_lessee_key_is_given_once_as_bytes_or_as_hex() {
    let bytes: Vec<u8> = (0..32).map(|i| i * 7 + 1).collect();
    let lower: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let key = ByteBuf::from(bytes.clone());
    assert_eq!(lessee_key(Some(key.clone()), None), Ok(key.clone()));
    assert_eq!(lessee_key(None, Some(&lower)), Ok(key.clone()));
    // Either case, mixed, with whitespace around (a pasted line).
    let upper = lower.to_uppercase();
    let mixed: String = lower
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i % 3 == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect();
    for text in [
        upper.clone(),
        mixed,
        format!("  {lower}\n"),
        format!("\t{upper} "),
    ] {
        assert_eq!(lessee_key(None, Some(&text)), Ok(key.clone()), "{text:?}");
    }
    let invalid = |result: Result<ByteBuf, MarketError>| match result {
        Err(MarketError::InvalidArgument { message }) => message,
        other => panic!("not InvalidArgument: {other:?}"),
    };
    // Both, or neither.
    assert!(invalid(lessee_key(Some(key.clone()), Some(&lower))).contains("not both"));
    assert!(invalid(lessee_key(None, None)).contains("missing"));
    // Malformed hex: too short, too long, odd, inner whitespace, a prefix, not hex, not ASCII.
    let bad = [
        String::new(),
        "   ".to_string(),
        lower[..62].to_string(),
        format!("{lower}00"),
        lower[..63].to_string(),
        format!("{} {}", &lower[..32], &lower[32..]),
        format!("0x{}", &lower[..62]),
        format!("{}zz", &lower[..62]),
        format!("{}é", &lower[..62]),
        format!("{}+1", &lower[..61]),
    ];
    for text in &bad {
        let message = invalid(lessee_key(None, Some(text)));
        assert!(message.contains("lessee_key_hex"), "{text:?}: {message}");
        // The text is not echoed back.
        assert!(
            text.trim().len() < 8 || !message.contains(text.trim()),
            "{message}"
        );
    }
    // The bytes are checked as before: 32 of them.
    assert!(invalid(lessee_key(Some(vec![1; 31].into()), None)).contains("32-byte"));
    assert!(invalid(lessee_key(Some(ByteBuf::new()), None)).contains("32-byte"));
}

#[test]
fn accept_and_lease_by_sku_take_the_key_as_hex_and_refuse_both_or_neither() {
    let rt = market();
    offered(&rt, "n1", 100);
    offered(&rt, "n2", 100);
    let hex: String = key().iter().map(|b| format!("{b:02X}")).collect();
    let view = offerset::request(&rt, ask(3600)).unwrap();
    let id = view.offers[0].id;
    let before = snapshot();
    let with = |lessee_key: Option<ByteBuf>, lessee_key_hex: Option<String>| AcceptArg {
        execution_id: id,
        lessee_key,
        lessee_key_hex,
    };
    for arg in [
        with(Some(key()), Some(hex.clone())),
        with(None, None),
        with(None, Some(format!("{}g", &hex[..63]))),
        with(None, Some(hex[..62].to_string())),
    ] {
        assert!(
            matches!(
                accept(&rt, arg.clone()),
                Err(MarketError::InvalidArgument { .. })
            ),
            "{arg:?}"
        );
        assert_eq!(snapshot(), before, "{arg:?} changed something");
    }
    let accepted = accept(&rt, with(None, Some(format!(" {hex} ")))).unwrap();
    assert_eq!(accepted.lessee_key, Some(key()));
    assert_eq!(store::execution(id).unwrap().lessee_key, Some(key()));

    let before = snapshot();
    for (lessee_key, lessee_key_hex) in [(Some(key()), Some(hex.clone())), (None, None)] {
        let arg = LeaseBySkuArg {
            lessee_key,
            lessee_key_hex,
            ..by_sku(3600)
        };
        assert!(
            matches!(
                lease_by_sku(&rt, arg.clone()),
                Err(MarketError::InvalidArgument { .. })
            ),
            "{arg:?}"
        );
        assert_eq!(snapshot(), before, "{arg:?} changed something");
    }
    let leased = lease_by_sku(
        &rt,
        LeaseBySkuArg {
            lessee_key: None,
            lessee_key_hex: Some(hex.to_lowercase()),
            ..by_sku(3600)
        },
    )
    .unwrap();
    assert_eq!(leased.lessee_key, Some(key()));
}

/// A client built against the interface before `lessee_key_hex` sends `lessee_key : blob`: it
/// decodes into the `opt blob` as `Some`, with no `lessee_key_hex`.
#[test]
fn an_old_clients_blob_lessee_key_decodes_into_the_optional_one() {
    #[derive(candid::CandidType)]
    struct OldAcceptArg {
        execution_id: u64,
        lessee_key: Vec<u8>,
    }
    #[derive(candid::CandidType)]
    struct OldLeaseBySkuArg {
        sku: String,
        duration_seconds: u64,
        image: String,
        lessee_key: Vec<u8>,
        max_price_per_hour: Option<u64>,
        project: Option<String>,
    }
    let old = candid::encode_one(OldAcceptArg {
        execution_id: 7,
        lessee_key: vec![5; 32],
    })
    .unwrap();
    assert_eq!(
        candid::decode_one::<AcceptArg>(&old).unwrap(),
        AcceptArg {
            execution_id: 7,
            lessee_key: Some(key()),
            lessee_key_hex: None,
        }
    );
    let old = candid::encode_one(OldLeaseBySkuArg {
        sku: "2c.small".into(),
        duration_seconds: 3600,
        image: "ubuntu-24.04".into(),
        lessee_key: vec![5; 32],
        max_price_per_hour: None,
        project: Some("moc-project".into()),
    })
    .unwrap();
    assert_eq!(
        candid::decode_one::<LeaseBySkuArg>(&old).unwrap(),
        by_sku(3600)
    );
}
