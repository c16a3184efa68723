use super::*;
use crate::market::lease::accept;
use crate::market::offerset::testing::*;
use crate::market::offerset::{self};
use crate::market::store;
use crate::market::types::*;
use crate::runtime::FakeRuntime;
use crate::time::DAY_NS;

fn of_item(item_id: u64, from_ns: u64, to_ns: u64) -> AvailabilityArg {
    AvailabilityArg {
        item_id: Some(item_id),
        sku: None,
        from_ns,
        to_ns,
        after: None,
        limit: None,
    }
}

fn windows(page: &AvailabilityPage) -> Vec<(u64, u64, u64)> {
    page.items
        .iter()
        .flat_map(|item| {
            item.windows
                .iter()
                .map(|w| (item.item_id, w.start_ns, w.end_ns))
        })
        .collect()
}

fn lease(rt: &FakeRuntime, start_ns: u64, seconds: u64) -> Execution {
    let ask = ResourceRequest {
        start_ns: Some(start_ns),
        offers: Some(1),
        ..ask(seconds)
    };
    let view = offerset::request(rt, ask).unwrap();
    let arg = AcceptArg {
        execution_id: view.offers[0].id,
        lessee_key: Some(vec![5; 32].into()),
        lessee_key_hex: None,
    };
    accept(rt, arg).unwrap()
}

#[test]
fn an_item_shows_its_offers_minus_its_bookings() {
    let rt = market();
    let t0 = rt.time.get();
    let node = item(&rt, "n1", "2C.small", 8);
    let month = offer(&rt, node.id, t0, t0 + 30 * DAY_NS, 100);
    let next = offer(&rt, node.id, t0 + 40 * DAY_NS, t0 + 41 * DAY_NS, 90);
    lease(&rt, t0 + DAY_NS, 2 * 3600);
    let page = query(&rt, of_item(node.id, t0, t0 + 60 * DAY_NS)).unwrap();
    assert_eq!(
        windows(&page),
        [
            (node.id, t0, t0 + DAY_NS),
            (node.id, t0 + DAY_NS + 2 * HOUR, t0 + 30 * DAY_NS),
            (node.id, t0 + 40 * DAY_NS, t0 + 41 * DAY_NS),
        ]
    );
    let item = &page.items[0];
    assert_eq!((item.sku.as_str(), item.truncated), ("2C.small", false));
    assert_eq!(
        item.windows
            .iter()
            .map(|w| (w.offer_id, w.price_per_hour))
            .collect::<Vec<_>>(),
        [(month.id, 100), (month.id, 100), (next.id, 90)]
    );
    // The range clips the windows.
    let clipped = query(&rt, of_item(node.id, t0 + HOUR, t0 + DAY_NS + 3 * HOUR)).unwrap();
    assert_eq!(
        windows(&clipped),
        [
            (node.id, t0 + HOUR, t0 + DAY_NS),
            (node.id, t0 + DAY_NS + 2 * HOUR, t0 + DAY_NS + 3 * HOUR),
        ]
    );
    assert_eq!(page.next, None);
}

#[test]
fn a_sku_is_paged_by_item_and_private_offers_show_only_to_whom_they_name() {
    let rt = market();
    let t0 = rt.time.get();
    let ids: Vec<u64> = (0..3)
        .map(|n| offered(&rt, &format!("n{n}"), 100 + n).0.id)
        .collect();
    let hidden = item(&rt, "n9", "2C.small", 8);
    let terms = OfferTerms {
        visible_to: Some(vec![bob()]),
        ..OfferTerms::default()
    };
    offer_with(&rt, hidden.id, (t0, t0 + DAY_NS), 50, Some(terms));
    let arg = |after| AvailabilityArg {
        item_id: None,
        sku: Some("2c.SMALL".into()),
        from_ns: t0,
        to_ns: t0 + DAY_NS,
        after,
        limit: Some(2),
    };
    let first = query(&rt, arg(None)).unwrap();
    let item_ids =
        |page: &AvailabilityPage| page.items.iter().map(|i| i.item_id).collect::<Vec<_>>();
    assert_eq!(
        (item_ids(&first), first.next),
        (ids[..2].to_vec(), Some(ids[1]))
    );
    let second = query(&rt, arg(first.next)).unwrap();
    // The private offer's item is scanned but shows nothing to alice.
    assert_eq!((item_ids(&second), second.next), (vec![ids[2]], None));
    let bobs = calling(&rt, bob(), || query(&rt, arg(first.next))).unwrap();
    assert_eq!(item_ids(&bobs), [ids[2], hidden.id]);
}

#[test]
fn bad_ranges_and_arguments_are_typed_errors() {
    let rt = market();
    let t0 = rt.time.get();
    for (from, to) in [(t0, t0), (t0 + 1, t0), (t0, t0 + 367 * DAY_NS)] {
        assert!(matches!(
            query(&rt, of_item(1, from, to)),
            Err(MarketError::InvalidWindow { .. })
        ));
    }
    let both = AvailabilityArg {
        sku: Some("2C.small".into()),
        ..of_item(1, t0, t0 + 1)
    };
    let neither = AvailabilityArg {
        item_id: None,
        ..of_item(1, t0, t0 + 1)
    };
    for arg in [both, neither] {
        assert!(matches!(
            query(&rt, arg),
            Err(MarketError::InvalidArgument { .. })
        ));
    }
    let zero = AvailabilityArg {
        item_id: None,
        sku: Some("2C.small".into()),
        limit: Some(0),
        ..of_item(1, t0, t0 + 1)
    };
    assert!(query(&rt, zero).is_err());
    // An unknown item has no free time.
    assert_eq!(query(&rt, of_item(99, t0, t0 + 1)).unwrap().items, []);
}

#[test]
fn a_fragmented_calendar_is_listed_up_to_the_bound() {
    let rt = market();
    let t0 = rt.time.get();
    let node = item(&rt, "n1", "2C.small", 8);
    offer(&rt, node.id, t0, t0 + DAY_NS, 100);
    for k in 0..100u64 {
        store::book(
            node.id,
            store::Booking {
                start_ns: t0 + k * 10 * MINUTE + 5 * MINUTE,
                end_ns: t0 + k * 10 * MINUTE + 9 * MINUTE,
                execution_id: 1_000 + k,
            },
        );
    }
    let page = query(&rt, of_item(node.id, t0, t0 + DAY_NS)).unwrap();
    let item = &page.items[0];
    assert_eq!(
        (item.windows.len(), item.truncated),
        (MAX_WINDOWS_PER_ITEM, true)
    );
    assert_eq!(
        (item.windows[1].start_ns, item.windows[1].end_ns),
        (t0 + 9 * MINUTE, t0 + 15 * MINUTE)
    );
}

#[test]
fn windows_are_narrowed_to_the_grid_from_now_and_delegates_see_private_offers() {
    let rt = market();
    let t0 = rt.time.get();
    let node = item(&rt, "n1", "2C.small", 8);
    let terms = OfferTerms {
        granularity_seconds: Some(3600),
        visible_to: Some(vec![bob()]),
        ..OfferTerms::default()
    };
    offer_with(
        &rt,
        node.id,
        (t0, t0 + DAY_NS + 30 * MINUTE),
        100,
        Some(terms),
    );
    // A booking ending off the grid (as an early end leaves it) at 1:10.
    store::book(
        node.id,
        store::Booking {
            start_ns: t0,
            end_ns: t0 + 70 * MINUTE,
            execution_id: 999,
        },
    );
    rt.time.set(t0 + 5 * MINUTE);
    let seen = |who| {
        calling(&rt, who, || {
            query(&rt, of_item(node.id, t0, t0 + 2 * DAY_NS))
        })
    };
    // From the next grid point after the booking to the offer's own end (off the grid).
    let expected = [(node.id, t0 + 2 * HOUR, t0 + DAY_NS + 30 * MINUTE)];
    for who in [bob(), provider(), admin()] {
        assert_eq!(windows(&seen(who).unwrap()), expected);
    }
    assert_eq!(seen(alice()).unwrap().items, []);
    let too_many = AvailabilityArg {
        item_id: None,
        sku: Some("2C.small".into()),
        limit: Some(MAX_ITEMS_PER_PAGE + 1),
        ..of_item(1, t0, t0 + 1)
    };
    assert!(matches!(
        query(&rt, too_many),
        Err(MarketError::TooMany { .. })
    ));
}
