//! Fixed sequences through the same model and checks, for cases random operations reach too
//! rarely: a tie between an earlier and a later free start, the grid widening a window, a
//! private offer, and reclaims before and after a lease's start.

use super::*;

fn request(consumer: u8, start_s: i64, duration_s: u64, alternatives: Option<u32>) -> Op {
    Op::Request {
        consumer,
        start_s: Some(start_s),
        duration_s,
        offers: Some(1),
        sku: None,
        min_cores: None,
        max_price: None,
        image: "ubuntu",
        alternatives,
    }
}

fn register(resource: u8) -> Op {
    Op::Register {
        provider: 0,
        delegate: 0,
        resource,
        sku: SKUS[0],
        cores: 8,
    }
}

fn advance(seconds: u64) -> Op {
    Op::Advance {
        seconds,
        timely: true,
    }
}

#[test]
fn model_alternative_starts_grid_and_reclaim_scenario() {
    let live = |n| Pick { live: true, n };
    let scenario = vec![
        register(0),
        // Item 1: a day on a 15 min grid.
        Op::CreateOffer {
            who: Who::Owner(0),
            item: 0,
            start_min: 0,
            len_min: 1440,
            price: 100,
            terms: Some(TermsPick {
                min_s: None,
                step_s: Some(900),
                visible: None,
            }),
        },
        // Execution 1: [1h, 2h).
        request(0, 3600, 3600, None),
        // Execution 2: booked at 1h; [0, 1h) and [2h, 3h) are as near: the earlier wins.
        request(1, 3600, 3600, Some(1)),
        // Execution 3: only [2h, 3h) is left near.
        request(2, 3600, 3600, Some(2)),
        // Execution 4: [3h 3m 20s, 3h 33m 20s) widened to the grid: [3h, 3h 45m).
        request(0, 11_000, 1800, None),
        // Item 2, cheaper, private to consumer 1: consumer 2 gets item 1's next free time.
        register(1),
        Op::CreateOffer {
            who: Who::Owner(0),
            item: 1,
            start_min: 0,
            len_min: 1440,
            price: 50,
            terms: Some(TermsPick {
                min_s: Some(3600),
                step_s: None,
                visible: Some(Visible::Consumers(vec![1])),
            }),
        },
        request(2, 600, 3600, Some(2)),
        Op::Accept {
            exec: live(0),
            caller: Caller::Owner,
            bad_key: false,
        },
        Op::Accept {
            exec: live(0),
            caller: Caller::Owner,
            bad_key: false,
        },
        advance(5),
        Op::SetPolicy(PolicyChange {
            max_open_offersets: None,
            max_active_leases: None,
            offer_ttl_seconds: None,
            rebuild_seconds: None,
            stuck_timeout_seconds: None,
            max_lease_seconds: None,
            allowed_images: None,
            reclaim_notice_seconds: Some(600),
        }),
        // Execution 1 (WAITING for 1h) and execution 2 (AVAILABLE) reclaimed in 10 min.
        Op::Reclaim {
            exec: live(0),
            who: Who::Owner(0),
            notice_s: Some(600),
        },
        Op::Reclaim {
            exec: live(1),
            who: Who::Owner(1),
            notice_s: None,
        },
        advance(1200),
    ];
    std::thread::spawn(move || {
        let mut world = World::new();
        for (at, op) in scenario.iter().enumerate() {
            if let Err(report) = world.step(at, op, true) {
                panic!("{report}");
            }
        }
        let window = |id| store::execution(id).map(|e| (rel(e.start_ns), rel(e.end_ns)));
        // A tie went to the earlier start, [0, 1h); the reclaim ended it at its deadline.
        assert_eq!(window(2), Some((0, 605)));
        assert_eq!(window(3), Some((7200, 10_800)));
        assert_eq!(window(4), Some((10_800, 13_500)), "widened to the grid");
        let phase = |id| store::execution(id).map(|e| e.phase);
        let item = store::execution(5).map(|e| e.item_id);
        assert_eq!(
            item,
            Some(1),
            "the cheaper private offer is not consumer 2's"
        );
        assert_eq!(
            phase(1),
            Some(Phase::Cancelled),
            "reclaimed before its start"
        );
        assert_eq!(phase(2), Some(Phase::Completed), "reclaimed while it ran");
    })
    .join()
    .expect("the scenario passes");
}
