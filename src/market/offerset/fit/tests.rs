use super::*;
use crate::market::lease::{accept, end_now};
use crate::market::offerset::request;
use crate::market::offerset::testing::*;
use crate::market::types::*;
use crate::market::{offers, MarketError};
use crate::time::DAY_NS;

fn accept_arg(execution_id: u64) -> AcceptArg {
    AcceptArg {
        execution_id,
        lessee_key: Some(vec![5; 32].into()),
        lessee_key_hex: None,
    }
}

fn at(start_ns: u64, duration_seconds: u64) -> ResourceRequest {
    ResourceRequest {
        start_ns: Some(start_ns),
        offers: Some(1),
        ..ask(duration_seconds)
    }
}

fn window_of(view: &OffersetView) -> (u64, u64) {
    (view.offers[0].start_ns, view.offers[0].end_ns)
}

#[test]
fn the_grid_rounds_down_and_up_from_the_offer_start() {
    let grid = Grid::new(1_000, 100);
    assert_eq!((grid.down(1_000), grid.up(1_000)), (1_000, 1_000));
    assert_eq!((grid.down(1_250), grid.up(1_250)), (1_200, 1_300));
    assert_eq!((grid.down(1_300), grid.up(1_300)), (1_300, 1_300));
    // Before the origin, and with no grid, times stay as they are.
    assert_eq!((grid.down(900), grid.up(900)), (900, 900));
    let none = Grid::new(0, 0);
    assert_eq!((grid.whole_steps(250), none.whole_steps(250)), (300, 250));
    assert_eq!((none.down(1_234), none.up(1_234)), (1_234, 1_234));
    // Near the end of time the step saturates rather than wrapping.
    assert_eq!(grid.up(u64::MAX - 1), u64::MAX);
}

#[test]
fn a_two_hour_lease_of_a_thirty_day_offer_leaves_the_rest_offered() {
    let rt = market();
    let t0 = rt.time.get();
    let node = item(&rt, "n1", "2C.small", 8);
    let month = offer(&rt, node.id, t0, t0 + 30 * DAY_NS, 100);
    let view = request(&rt, at(t0, 2 * 3600)).unwrap();
    let lease = accept(&rt, accept_arg(view.offers[0].id)).unwrap();
    assert_eq!((lease.start_ns, lease.end_ns), (t0, t0 + 2 * HOUR));
    assert_eq!(offers::get(month.id).unwrap().status, OfferStatus::Open);

    // Bob, as soon as possible, gets the same item from the end of alice's lease.
    let bobs = calling(&rt, bob(), || request(&rt, ask(3600))).unwrap();
    assert_eq!(bobs.offers[0].item_id, node.id);
    assert_eq!(window_of(&bobs), (t0 + 2 * HOUR, t0 + 3 * HOUR));

    // A fixed start after the lease is free too; the lease's own window is not.
    let after = calling(&rt, bob(), || request(&rt, at(t0 + 5 * HOUR, 3600))).unwrap();
    assert_eq!(window_of(&after), (t0 + 5 * HOUR, t0 + 6 * HOUR));
    let during = calling(&rt, admin(), || request(&rt, at(t0 + HOUR, 3600))).unwrap();
    assert_eq!(during.offerset.result, OffersetResult::No);
}

#[test]
fn a_lease_ended_early_gives_its_time_back() {
    let rt = market();
    let t0 = rt.time.get();
    let node = item(&rt, "n1", "2C.small", 8);
    offer(&rt, node.id, t0, t0 + DAY_NS, 100);
    let view = request(&rt, at(t0, 10 * 3600)).unwrap();
    let lease = accept(&rt, accept_arg(view.offers[0].id)).unwrap();
    run_at(&rt, t0 + HOUR);
    end_now(&rt, lease.id).unwrap();
    // While the node is cleaned its booking ends now; the rest of the ten hours is offered.
    assert_eq!(
        store::item_bookings(node.id)
            .iter()
            .map(|b| (b.start_ns, b.end_ns))
            .collect::<Vec<_>>(),
        [(t0, t0 + HOUR)]
    );
    let again = calling(&rt, bob(), || request(&rt, at(t0 + 2 * HOUR, 3600))).unwrap();
    assert_eq!(window_of(&again), (t0 + 2 * HOUR, t0 + 3 * HOUR));
}

#[test]
fn windows_snap_to_the_offer_grid_and_respect_its_shortest_lease() {
    let rt = market();
    let t0 = rt.time.get();
    let node = item(&rt, "n1", "2C.small", 8);
    let terms = OfferTerms {
        min_duration_seconds: Some(1800),
        granularity_seconds: Some(900),
        visible_to: None,
        visible_to_projects: None,
    };
    offer_with(&rt, node.id, (t0, t0 + DAY_NS), 100, Some(terms));
    // 20 minutes from 7 past is widened to the quarter hours around it, and is too short.
    let short = request(&rt, at(t0 + 7 * MINUTE, 20 * 60)).unwrap();
    assert_eq!(short.offerset.result, OffersetResult::No);
    assert!(short
        .offerset
        .messages
        .iter()
        .any(|m| m.text == "1 open offers take only longer leases"));
    let view = request(&rt, at(t0 + 7 * MINUTE, 40 * 60)).unwrap();
    assert_eq!(window_of(&view), (t0, t0 + 60 * MINUTE));
    // A full hour is billed.
    assert_eq!(view.offers[0].total_price, 100);
}

#[test]
fn a_booked_start_moves_to_the_nearest_free_window_only_when_asked() {
    let rt = market();
    let t0 = rt.time.get();
    let node = item(&rt, "n1", "2C.small", 8);
    offer(&rt, node.id, t0, t0 + DAY_NS, 100);
    // Bob holds [t0 + 1 h, t0 + 3 h).
    calling(&rt, bob(), || request(&rt, at(t0 + HOUR, 2 * 3600))).unwrap();

    let exact = request(&rt, at(t0 + 2 * HOUR, 3600)).unwrap();
    assert_eq!(exact.offerset.result, OffersetResult::No);

    // Nearest to t0 + 2 h: [t0, t0 + 1 h) is 2 h earlier, t0 + 3 h is 1 h later.
    let flexible = ResourceRequest {
        alternative_starts: Some(1),
        ..at(t0 + 2 * HOUR, 3600)
    };
    let view = request(&rt, flexible.clone()).unwrap();
    assert_eq!(window_of(&view), (t0 + 3 * HOUR, t0 + 4 * HOUR));
    assert!(view
        .offerset
        .messages
        .iter()
        .any(|m| m.level == Level::Warn && m.text.contains("booked at the start asked for")));

    // Asked at t0 + 90 min: [t0, t0 + 1 h) is 90 min earlier, t0 + 4 h (after alice's new
    // hold) 150 min later.
    let earlier = ResourceRequest {
        start_ns: Some(t0 + 90 * MINUTE),
        ..flexible
    };
    let view = calling(&rt, admin(), || request(&rt, earlier)).unwrap();
    assert_eq!(window_of(&view), (t0, t0 + HOUR));
}

#[test]
fn a_fragmented_calendar_bounds_the_search() {
    let rt = market();
    let t0 = rt.time.get();
    let node = item(&rt, "n1", "2C.small", 8);
    offer(&rt, node.id, t0, t0 + DAY_NS, 100);
    // Bookings every 10 minutes, 9 minutes long, past the bound: no 5-minute gap follows.
    for k in 0..(MAX_STEPS as u64 + 4) {
        store::book(
            node.id,
            store::Booking {
                start_ns: t0 + k * 10 * MINUTE,
                end_ns: t0 + k * 10 * MINUTE + 9 * MINUTE,
                execution_id: 1_000 + k,
            },
        );
    }
    let open = crate::market::index::item_open_offers(node.id)[0].clone();
    let want = Window {
        start_ns: t0,
        end_ns: t0 + 5 * MINUTE,
    };
    assert_eq!(fit(&open, want, Search::Later, &mut 100), Fit::Booked);
    // A 1-minute lease fits the first gap.
    let want = Window {
        start_ns: t0,
        end_ns: t0 + MINUTE,
    };
    assert_eq!(
        fit(&open, want, Search::Later, &mut 100),
        Fit::Free {
            window: Window {
                start_ns: t0 + 9 * MINUTE,
                end_ns: t0 + 10 * MINUTE
            },
            moved: true
        }
    );
}

#[test]
fn private_offers_are_seen_and_held_only_by_whom_they_name() {
    let rt = market();
    let t0 = rt.time.get();
    let node = item(&rt, "n1", "2C.small", 8);
    let terms = OfferTerms {
        visible_to: Some(vec![bob()]),
        ..OfferTerms::default()
    };
    let private = offer_with(&rt, node.id, (t0, t0 + DAY_NS), 100, Some(terms));
    let alices = request(&rt, ask(3600)).unwrap();
    assert_eq!(alices.offerset.result, OffersetResult::No);
    assert!(alices
        .offerset
        .messages
        .iter()
        .any(|m| m.text == "1 open offers are private to other consumers"));
    assert_eq!(
        offers::get_as_seen(&rt, private.id),
        Err(MarketError::UnknownOffer { id: private.id })
    );
    let listed = offers::list(&rt, OffersListArg::default()).unwrap();
    assert!(listed.offers.is_empty());

    let bobs = calling(&rt, bob(), || request(&rt, ask(3600))).unwrap();
    assert_eq!(bobs.offers[0].offer_id, private.id);
    for who in [bob(), provider(), admin()] {
        assert!(calling(&rt, who, || offers::get_as_seen(&rt, private.id)).is_ok());
        let page = calling(&rt, who, || offers::list(&rt, OffersListArg::default())).unwrap();
        assert_eq!(page.offers.len(), 1);
    }
}

#[test]
fn a_moved_window_keeps_the_asked_length_in_whole_steps() {
    let rt = market();
    let t0 = rt.time.get();
    let node = item(&rt, "n1", "2C.small", 8);
    let terms = OfferTerms {
        granularity_seconds: Some(3600),
        ..OfferTerms::default()
    };
    offer_with(&rt, node.id, (t0, t0 + DAY_NS), 100, Some(terms));
    // Booked until 1:10 (an end off the grid, as a reclaim or an early end leaves it).
    store::book(
        node.id,
        store::Booking {
            start_ns: t0,
            end_ns: t0 + 70 * MINUTE,
            execution_id: 999,
        },
    );
    let open = crate::market::index::item_open_offers(node.id)[0].clone();
    // An hour asked at 0:10 would be widened to 0:00-2:00; moved, it is 2:00-3:00.
    let want = Window {
        start_ns: t0 + 10 * MINUTE,
        end_ns: t0 + 70 * MINUTE,
    };
    assert_eq!(
        fit(&open, want, Search::Later, &mut 100),
        Fit::Free {
            window: Window {
                start_ns: t0 + 2 * HOUR,
                end_ns: t0 + 3 * HOUR
            },
            moved: true
        }
    );
    // A spent budget finds nothing.
    assert_eq!(fit(&open, want, Search::Later, &mut 1), Fit::Booked);
}
