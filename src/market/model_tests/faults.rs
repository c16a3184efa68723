//! The checks themselves, against faults planted in the stores.

use super::*;

/// The checks themselves: each fault planted directly in the stores (as a bug would leave
/// them) is reported by the named check at the next step.
#[test]
fn model_checks_catch_planted_faults() {
    type Plant = fn(&World);
    let faults: [(&str, Plant, &str); 8] = [
        (
            "a usage counter off by one",
            |_| store::update_usage(&consumer(0), |u| u.active_leases += 1),
            "usage_equals_recount",
        ),
        (
            "a running lease's booking lost",
            |_| {
                let e = store::execution(1).unwrap();
                store::unbook(e.item_id, e.start_ns, e.id);
            },
            "live_execution_has_its_booking",
        ),
        (
            "a second booking overlapping a lease",
            |_| {
                let e = store::execution(1).unwrap();
                let booking = Booking {
                    start_ns: e.start_ns + SECOND_NS,
                    end_ns: e.end_ns + SECOND_NS,
                    execution_id: 2,
                };
                store::book(e.item_id, booking);
            },
            "calendar_no_overlap",
        ),
        (
            "a phase changed without an audit entry",
            |_| {
                let mut e = store::execution(1).unwrap();
                e.phase = Phase::Completed;
                store::put_execution(&e);
            },
            "every_change_is_audited",
        ),
        (
            "an item's status changed without an audit entry",
            |_| {
                let mut item = store::item(2).unwrap();
                item.status = ItemStatus::Maintenance;
                store::put_item(&item);
            },
            "every_change_is_audited",
        ),
        (
            "a hold that outlives its expiry",
            |world| {
                let mut e = store::execution(2).unwrap();
                e.expires_at_ns = world.now() - SECOND_NS;
                store::put_execution(&e);
            },
            "hold_released_by_expiry",
        ),
        (
            "an offer withdrawn behind the matching index",
            |_| {
                let mut offer = store::offer(1).unwrap();
                offer.status = OfferStatus::Withdrawn;
                store::put_offer(&offer);
            },
            "matching_index_agrees_with_store",
        ),
        (
            "a reclaim whose deadline did not shorten the running lease",
            |world| {
                let mut e = store::execution(1).unwrap();
                e.reclaim = Some(Reclaim {
                    noticed_at_ns: world.now(),
                    ends_at_ns: e.end_ns - 60 * SECOND_NS,
                    reason: "planted".into(),
                });
                store::put_execution(&e);
            },
            "reclaimed_lease_ends_by_its_deadline",
        ),
    ];
    // Item 1 leased (execution 1 AVAILABLE, offer 1 still open), item 2 held (execution 2).
    let scenario = [
        Op::Register {
            provider: 0,
            delegate: 0,
            resource: 0,
            sku: SKUS[0],
            cores: 8,
        },
        Op::Register {
            provider: 0,
            delegate: 1,
            resource: 1,
            sku: SKUS[0],
            cores: 8,
        },
        Op::CreateOffer {
            who: Who::Owner(0),
            item: 0,
            start_min: 0,
            len_min: 1440,
            price: 100,
            terms: None,
        },
        Op::CreateOffer {
            who: Who::Owner(1),
            item: 8,
            start_min: 0,
            len_min: 1440,
            price: 200,
            terms: None,
        },
        Op::LeaseBySku {
            consumer: 0,
            sku: SKUS[0],
            duration_s: 3600,
            max_price: None,
        },
        Op::Advance {
            seconds: 5,
            timely: true,
        },
        Op::Request {
            consumer: 1,
            start_s: None,
            duration_s: 3600,
            offers: Some(1),
            sku: None,
            min_cores: None,
            max_price: None,
            image: "ubuntu",
            alternatives: None,
        },
    ];
    for (what, plant, check) in faults {
        let scenario = scenario.clone();
        let report = std::thread::spawn(move || {
            let mut world = World::new();
            for (at, op) in scenario.iter().enumerate() {
                world.step(at, op, true).expect("the scenario is sound");
            }
            let leased = store::execution(1).map(|e| e.phase);
            assert_eq!(leased, Some(Phase::Available), "the scenario leases item 1");
            assert_eq!(store::execution(2).map(|e| e.phase), Some(Phase::Offered));
            plant(&world);
            let advance = Op::Advance {
                seconds: 5,
                timely: true,
            };
            world.step(scenario.len(), &advance, true).err()
        })
        .join()
        .expect("no panic");
        let report = report.unwrap_or_else(|| panic!("{what}: not detected"));
        assert!(
            report.contains(check),
            "{what}: expected {check}, got:\n{report}"
        );
    }
}
