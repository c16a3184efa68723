//! Issue 17 end to end, through the wasm with Candid in and out: an offer is an availability
//! window whose holds and leases book only their own sub-windows, the rest staying offered;
//! offer terms (shortest lease, a grid, private offers); `alternative_starts`; the
//! `availability` query; `lease_reclaim` with the policy's notice; and terms and private
//! visibility in the matching index across an upgrade.

mod common;

use candid::Principal;
use common::market::*;
use common::*;

// --- helpers ---

fn friend() -> Principal {
    consumer("friend")
}

fn terms(
    min_s: Option<u64>,
    step_s: Option<u64>,
    visible_to: Option<Vec<Principal>>,
) -> OfferTerms {
    OfferTerms {
        min_duration_seconds: min_s,
        granularity_seconds: step_s,
        visible_to,
        visible_to_projects: None,
    }
}

/// `availability` of one item in `[from_ns, to_ns)`, as `caller` sees it.
fn item_availability(
    m: &mut Market,
    caller: Principal,
    item_id: u64,
    from_ns: u64,
    to_ns: u64,
) -> MarketResult<AvailabilityPage> {
    let arg = AvailabilityArg {
        item_id: Some(item_id),
        sku: None,
        from_ns,
        to_ns,
        after: None,
        limit: None,
    };
    m.canister.market_query(caller, "availability", arg)
}

/// The free windows of one item, `(start, end)`, as `caller` sees them (none: not listed).
/// The grid point at or after `t` of a grid of `step` from `origin`.
fn grid_up(t: u64, origin: u64, step: u64) -> u64 {
    origin + (t.saturating_sub(origin)).div_ceil(step) * step
}

fn free(
    m: &mut Market,
    caller: Principal,
    item_id: u64,
    from_ns: u64,
    to_ns: u64,
) -> Vec<(u64, u64)> {
    let page = item_availability(m, caller, item_id, from_ns, to_ns).expect("availability");
    assert!(page.next.is_none(), "{page:?}");
    assert!(page.items.len() <= 1, "{page:?}");
    page.items
        .iter()
        .flat_map(|item| {
            assert_eq!(item.item_id, item_id);
            assert!(!item.truncated, "{item:?}");
            item.windows.iter().map(|w| (w.start_ns, w.end_ns))
        })
        .collect()
}

fn sku_availability(
    m: &mut Market,
    sku: &str,
    from_ns: u64,
    to_ns: u64,
    after: Option<u64>,
    limit: Option<u32>,
) -> MarketResult<AvailabilityPage> {
    let arg = AvailabilityArg {
        item_id: None,
        sku: Some(sku.into()),
        from_ns,
        to_ns,
        after,
        limit,
    };
    m.canister.market_query(user(), "availability", arg)
}

/// Offers `item_id` for `[start_ns, end_ns)` at `price` with `terms`, as the delegate.
fn offer_with(
    m: &mut Market,
    item_id: u64,
    start_ns: u64,
    end_ns: u64,
    price: u64,
    t: OfferTerms,
) -> MarketResult<Offer> {
    let arg = OfferCreateArg {
        terms: Some(t),
        ..m.offer_arg(item_id, start_ns, end_ns, price)
    };
    let delegate = m.delegate;
    m.canister.offer_create(delegate, arg)
}

fn offer_get_as(m: &mut Market, caller: Principal, id: u64) -> MarketResult<Offer> {
    m.canister.market_query(caller, "offer_get", id)
}

fn listed_offers_as(m: &mut Market, caller: Principal) -> Vec<u64> {
    let page: OfferPage = m
        .canister
        .market_query(caller, "offers_list", all_offers())
        .expect("offers_list");
    page.offers.iter().map(|o| o.id).collect()
}

fn reclaim_arg(
    m: &Market,
    execution_id: u64,
    notice_seconds: Option<u64>,
    reason: &str,
) -> ReclaimArg {
    ReclaimArg {
        provider: m.provider.key(),
        execution_id,
        notice_seconds,
        reason: reason.into(),
    }
}

fn reclaim(m: &mut Market, caller: Principal, arg: ReclaimArg) -> MarketResult<Execution> {
    m.canister.market_update(caller, "lease_reclaim", arg)
}

fn reclaim_as(
    m: &mut Market,
    caller: Principal,
    execution_id: u64,
    notice_seconds: Option<u64>,
    reason: &str,
) -> MarketResult<Execution> {
    let arg = reclaim_arg(m, execution_id, notice_seconds, reason);
    reclaim(m, caller, arg)
}

/// Requests one offer of `sku` for `[start_ns, start_ns + duration_s)` and accepts it.
fn lease_sku(
    m: &mut Market,
    who: Principal,
    sku: &str,
    start_ns: u64,
    duration_s: u64,
) -> Execution {
    let view = m.request(who, of_sku(sku, start_ns, duration_s));
    assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
    m.accept(who, view.offerset.execution_ids[0], &lessee_key(1))
}

fn texts(view: &OffersetView) -> Vec<String> {
    view.offerset
        .messages
        .iter()
        .map(|m| m.text.clone())
        .collect()
}

fn has_text(view: &OffersetView, level: Level, needle: &str) -> bool {
    view.offerset
        .messages
        .iter()
        .any(|m| m.level == level && m.text.contains(needle))
}

fn of_sku(sku: &str, start_ns: u64, duration_s: u64) -> ResourceRequest {
    ResourceRequest {
        sku: Some(sku.into()),
        ..one_offer(start_ns, duration_s)
    }
}

// --- 1. the market scenario of the issue ---

#[test]
fn a_30_day_offer_stays_offered_around_a_two_hour_lease_and_gets_its_window_back_after_it() {
    let mut m = Market::new();
    let now0 = m.now();
    let end = now0 + 30 * DAY_NS;
    let (item, offer) = m.offered_item(LARGE, "server-30-days", 16, 100, 30);
    assert_eq!((offer.start_ns, offer.end_ns), (now0, end));

    // Consumer a leases two hours from an hour from now.
    let a = consumer("a");
    let start = now0 + HOUR_NS;
    let lease_a = m.lease(a, start, 2 * 3600);
    assert_eq!(
        (lease_a.start_ns, lease_a.end_ns),
        (start, start + 2 * HOUR_NS)
    );
    assert_eq!(lease_a.offer_id, offer.id);
    // The offer is not claimed: the rest of it stays offered.
    assert_eq!(
        m.canister.offer_get(offer.id).unwrap().status,
        OfferStatus::Open
    );
    let windows = free(&mut m, user(), item.id, now0, end);
    assert_eq!(windows, vec![(now0, start), (start + 2 * HOUR_NS, end)]);
    let page = item_availability(&mut m, user(), item.id, now0, end).unwrap();
    assert_eq!(page.items[0].sku, LARGE);
    for w in &page.items[0].windows {
        assert_eq!((w.offer_id, w.price_per_hour), (offer.id, 100));
        assert_eq!((w.min_duration_seconds, w.granularity_seconds), (0, 0));
    }

    // The booked window is not offered to anyone else.
    let c = consumer("c");
    let refused = m.request(c, one_offer(start + HOUR_NS, 3600));
    assert_eq!(refused.offerset.result, OffersetResult::No, "{refused:?}");
    assert!(has_fail(&refused.offerset.messages));
    assert!(
        has_text(
            &refused,
            Level::Info,
            "already held or leased in the window"
        ),
        "{:?}",
        texts(&refused)
    );

    // Another consumer gets the same item (same offer) for a later window and leases it.
    let b = consumer("b");
    let view = m.request(b, one_offer(start + 3 * HOUR_NS, 3600));
    assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
    assert_eq!(offered_items(&view), vec![item.id]);
    assert_eq!(view.offers[0].offer_id, offer.id);
    let lease_b = m.accept(b, view.offers[0].id, &lessee_key(2));
    assert_eq!(
        (lease_b.start_ns, lease_b.end_ns),
        (start + 3 * HOUR_NS, start + 4 * HOUR_NS)
    );
    assert_eq!(
        m.canister.offer_get(offer.id).unwrap().status,
        OfferStatus::Open
    );
    assert_eq!(
        free(&mut m, user(), item.id, now0, end),
        vec![
            (now0, start),
            (start + 2 * HOUR_NS, start + 3 * HOUR_NS),
            (start + 4 * HOUR_NS, end)
        ]
    );

    // While a's lease runs the offer stays open, and its free time is around the leases.
    m.advance_to(start);
    m.advance(SECOND_NS);
    assert_eq!(m.phase(lease_a.id), Phase::Available);
    assert_eq!(
        m.canister.offer_get(offer.id).unwrap().status,
        OfferStatus::Open
    );
    let now = m.now();
    assert_eq!(
        free(&mut m, user(), item.id, now, end),
        vec![
            (start + 2 * HOUR_NS, start + 3 * HOUR_NS),
            (start + 4 * HOUR_NS, end)
        ]
    );
    // As soon as possible: a request without a start takes the item's first free time.
    let d = consumer("d");
    let asap = m.request(
        d,
        ResourceRequest {
            offers: Some(1),
            ..request(None, 3600)
        },
    );
    assert_eq!(asap.offerset.result, OffersetResult::Yes, "{asap:?}");
    assert_eq!(offered_items(&asap), vec![item.id]);
    assert_eq!(
        (asap.offers[0].start_ns, asap.offers[0].end_ns),
        (start + 2 * HOUR_NS, start + 3 * HOUR_NS)
    );
    m.assert_no_double_booking(item.id);

    // After a's lease completes (d's hold expired long before), its window is free again.
    m.advance_to(start + 2 * HOUR_NS);
    m.advance(SECOND_NS);
    assert_eq!(m.phase(lease_a.id), Phase::Completed);
    assert_eq!(m.phase(asap.offers[0].id), Phase::Expired);
    assert_eq!(
        m.canister.offer_get(offer.id).unwrap().status,
        OfferStatus::Open
    );
    // Time already past is not listed: the free window starts now.
    let now = m.now();
    assert_eq!(
        free(&mut m, user(), item.id, start, end),
        vec![(now, start + 3 * HOUR_NS), (start + 4 * HOUR_NS, end)]
    );

    // b's lease runs and completes too: the whole offer is free again, still open.
    m.advance_to(start + 3 * HOUR_NS);
    m.advance(SECOND_NS);
    assert_eq!(m.phase(lease_b.id), Phase::Available);
    m.advance_to(start + 4 * HOUR_NS);
    m.advance(SECOND_NS);
    assert_eq!(m.phase(lease_b.id), Phase::Completed);
    assert_eq!(
        m.canister.offer_get(offer.id).unwrap().status,
        OfferStatus::Open
    );
    let now = m.now();
    assert_eq!(free(&mut m, user(), item.id, now0, end), vec![(now, end)]);
    m.assert_no_double_booking(item.id);

    // When the offer's window ends it expires and nothing is free any more.
    m.advance_to(end);
    m.advance(SECOND_NS);
    assert_eq!(
        m.canister.offer_get(offer.id).unwrap().status,
        OfferStatus::Expired
    );
    assert_eq!(free(&mut m, user(), item.id, now0, end + DAY_NS), vec![]);
}

// --- 2. terms ---

#[test]
fn offer_terms_widen_windows_to_the_grid_and_refuse_leases_shorter_than_the_shortest() {
    let mut m = Market::new();
    let now0 = m.now();
    let item = m.register(LARGE, "grid-node", attributes(16, 64, 500, 0));
    let given = terms(Some(7200), Some(3600), None);
    let offer = offer_with(
        &mut m,
        item.id,
        now0,
        now0 + 10 * DAY_NS,
        100,
        given.clone(),
    )
    .expect("offer_create");
    assert_eq!(offer.terms, Some(given.clone()));
    assert_eq!(m.canister.offer_get(offer.id).unwrap().terms, Some(given));
    let page = item_availability(&mut m, user(), item.id, now0, now0 + 10 * DAY_NS).unwrap();
    let w = &page.items[0].windows;
    assert_eq!(w.len(), 1);
    assert_eq!(
        (w[0].min_duration_seconds, w[0].granularity_seconds),
        (7200, 3600)
    );

    // Two hours from 1h30: widened to the hour grid, 1h..4h.
    let a = consumer("a");
    let view = m.request(a, one_offer(now0 + 90 * MINUTE_NS, 7200));
    assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
    let held = &view.offers[0];
    assert_eq!(
        (held.start_ns, held.end_ns),
        (now0 + HOUR_NS, now0 + 4 * HOUR_NS)
    );
    assert_eq!(held.total_price, 300);
    // The hour left before it is shorter than the offer's shortest lease: not offered.
    assert_eq!(
        free(&mut m, user(), item.id, now0, now0 + 10 * DAY_NS),
        vec![(now0 + 4 * HOUR_NS, now0 + 10 * DAY_NS)]
    );

    // One hour is shorter than the offer takes: No, and the message says why.
    let b = consumer("b");
    let short = m.request(b, one_offer(now0 + 10 * HOUR_NS, 3600));
    assert_eq!(short.offerset.result, OffersetResult::No, "{short:?}");
    assert!(has_fail(&short.offerset.messages));
    assert!(
        has_text(&short, Level::Info, "1 open offers take only longer leases"),
        "{:?}",
        texts(&short)
    );
    assert!(short.offers.is_empty());
}

#[test]
fn invalid_offer_terms_are_typed_errors_that_change_nothing() {
    let mut m = Market::new();
    let now0 = m.now();
    let item = m.register(LARGE, "bad-terms", attributes(16, 64, 500, 0));
    let other = m.register(SMALL, "bad-terms-2", attributes(2, 8, 100, 0));
    let end = now0 + DAY_NS;
    let many: Vec<Principal> = (0..33u8)
        .map(|i| Principal::self_authenticating([i; 8]))
        .collect();
    let cases: Vec<(&str, OfferTerms)> = vec![
        ("granularity 0", terms(None, Some(0), None)),
        ("granularity over a day", terms(None, Some(86_401), None)),
        ("min below 60", terms(Some(59), None, None)),
        ("min longer than the offer", terms(Some(86_401), None, None)),
        ("empty visible_to", terms(None, None, Some(vec![]))),
        ("33 in visible_to", terms(None, None, Some(many))),
        (
            "anonymous in visible_to",
            terms(None, None, Some(vec![friend(), Principal::anonymous()])),
        ),
    ];
    let before = m.canister.digest();
    for (what, t) in cases {
        let refused = offer_with(&mut m, item.id, now0, end, 100, t);
        match (what, &refused) {
            ("33 in visible_to", Err(MarketError::TooMany { what, max })) => {
                assert_eq!((what.as_str(), *max), ("terms.visible_to", 32));
            }
            ("33 in visible_to", _) => panic!("{what}: {refused:?}"),
            (_, Err(MarketError::InvalidArgument { message })) => {
                assert!(message.starts_with("terms."), "{what}: {message}");
            }
            _ => panic!("{what}: {refused:?}"),
        }
        assert_eq!(m.canister.digest(), before, "{what} changed state");
    }
    // A batch with one bad offer creates none of them.
    let batch = OffersCreateArg {
        provider: m.provider.key(),
        offers: vec![
            OfferInput {
                terms: Some(terms(Some(3600), Some(600), None)),
                item_id: other.id,
                start_ns: now0,
                end_ns: end,
                price_per_hour: 10,
                properties: vec![],
            },
            OfferInput {
                terms: Some(terms(None, Some(0), None)),
                item_id: item.id,
                start_ns: now0,
                end_ns: end,
                price_per_hour: 10,
                properties: vec![],
            },
        ],
    };
    let delegate = m.delegate;
    let refused: MarketResult<Vec<Offer>> =
        m.canister.market_update(delegate, "offers_create", batch);
    assert!(
        matches!(refused, Err(MarketError::InvalidArgument { .. })),
        "{refused:?}"
    );
    assert_eq!(m.canister.digest(), before, "a refused batch changed state");
    assert!(m
        .canister
        .offers_list(all_offers())
        .unwrap()
        .offers
        .is_empty());

    // The edges are accepted: 60 s, a grid of one day, 32 principals, min = the offer's length.
    let edge = terms(Some(86_400), Some(86_400), Some(vec![friend(); 32]));
    offer_with(&mut m, item.id, now0, end, 100, edge).expect("edge terms");
    let edge = terms(Some(60), Some(1), None);
    offer_with(&mut m, other.id, now0, end, 10, edge).expect("edge terms");
}

// --- 3. private offers ---

#[test]
fn a_private_offer_is_seen_and_held_only_by_those_it_names_its_providers_delegate_and_controllers()
{
    let mut m = Market::new();
    let now0 = m.now();
    let end = now0 + 5 * DAY_NS;
    let item = m.register(SMALL, "private-node", attributes(2, 8, 100, 0));
    let private = offer_with(
        &mut m,
        item.id,
        now0,
        end,
        50,
        terms(None, None, Some(vec![friend()])),
    )
    .expect("offer_create");
    let public_item = m.register(LARGE, "public-node", attributes(16, 64, 500, 0));
    let public = m.offer(public_item.id, now0, end, 100);
    let (delegate, controller) = (m.delegate, m.controller());

    // offer_get: unknown to others, seen by the friend, the delegate and a controller.
    for who in [stranger(), user(), consumer("other")] {
        assert_eq!(
            offer_get_as(&mut m, who, private.id),
            Err(MarketError::UnknownOffer { id: private.id })
        );
        assert!(offer_get_as(&mut m, who, public.id).is_ok());
    }
    for who in [friend(), delegate, controller] {
        let seen = offer_get_as(&mut m, who, private.id).expect("seen");
        assert_eq!(seen.terms.unwrap().visible_to, Some(vec![friend()]));
    }
    // offers_list: the same.
    assert_eq!(listed_offers_as(&mut m, stranger()), vec![public.id]);
    let by_item = OffersListArg {
        item_id: Some(item.id),
        ..all_offers()
    };
    let page: OfferPage = m
        .canister
        .market_query(stranger(), "offers_list", by_item.clone())
        .unwrap();
    assert!(page.offers.is_empty(), "{page:?}");
    let page: OfferPage = m
        .canister
        .market_query(friend(), "offers_list", by_item)
        .unwrap();
    assert_eq!(page.offers.len(), 1);
    for who in [friend(), delegate, controller] {
        let mut ids = listed_offers_as(&mut m, who);
        ids.sort();
        assert_eq!(ids, vec![private.id, public.id], "{who}");
    }
    // availability: nothing for others, the window for the friend and a controller.
    assert_eq!(free(&mut m, stranger(), item.id, now0, end), vec![]);
    let page = sku_availability(&mut m, SMALL, now0, end, None, None).unwrap();
    assert!(page.items.is_empty(), "{page:?}");
    for who in [friend(), controller] {
        assert_eq!(free(&mut m, who, item.id, now0, end), vec![(now0, end)]);
    }

    // Holdable only by the friend: others (the delegate too) get No saying why.
    for who in [stranger(), delegate] {
        let refused = m.request(who, of_sku(SMALL, now0 + HOUR_NS, 3600));
        assert_eq!(refused.offerset.result, OffersetResult::No, "{refused:?}");
        assert!(
            has_text(
                &refused,
                Level::Info,
                "1 open offers are private to other consumers"
            ),
            "{:?}",
            texts(&refused)
        );
    }
    // Without a SKU the stranger gets only the public offer.
    let view = m.request(
        stranger(),
        ResourceRequest {
            offers: Some(5),
            ..request(Some(now0 + HOUR_NS), 3600)
        },
    );
    assert_eq!(offered_items(&view), vec![public_item.id]);
    let held = m.request(friend(), of_sku(SMALL, now0 + HOUR_NS, 3600));
    assert_eq!(held.offerset.result, OffersetResult::Yes, "{held:?}");
    assert_eq!(offered_items(&held), vec![item.id]);
    assert_eq!(held.offers[0].offer_id, private.id);
    let lease = m.accept(friend(), held.offers[0].id, &lessee_key(3));
    assert_eq!(lease.consumer, friend());
    assert_eq!(
        free(&mut m, friend(), item.id, now0, end),
        vec![(now0, now0 + HOUR_NS), (now0 + 2 * HOUR_NS, end)]
    );
    assert_eq!(free(&mut m, stranger(), item.id, now0, end), vec![]);
}

/// The offer's terms say a private offer is seen by "its provider's delegates and the
/// controllers" besides those it names, and `offer_get` and `offers_list` show it to the
/// delegate; `availability` does not.
#[test]
fn a_private_offer_shows_in_availability_to_its_providers_delegate() {
    let mut m = Market::new();
    let now0 = m.now();
    let end = now0 + 5 * DAY_NS;
    let item = m.register(SMALL, "private-node", attributes(2, 8, 100, 0));
    offer_with(
        &mut m,
        item.id,
        now0,
        end,
        50,
        terms(None, None, Some(vec![friend()])),
    )
    .expect("offer_create");
    let delegate = m.delegate;
    assert_eq!(
        free(&mut m, delegate, item.id, now0, end),
        vec![(now0, end)]
    );
}

// --- 4. alternative_starts ---

#[test]
fn alternative_starts_move_a_booked_start_to_the_nearest_free_window() {
    let mut m = Market::new();
    let now0 = m.now();
    let (item, offer) = m.offered_item(LARGE, "alt-node", 16, 100, 10);
    let a = consumer("a");
    // a leases 3h..5h.
    let lease = m.lease(a, now0 + 3 * HOUR_NS, 2 * 3600);
    assert_eq!(lease.end_ns, now0 + 5 * HOUR_NS);

    // b asks for 4h..5h: booked; without alternatives, No.
    let b = consumer("b");
    let refused = m.request(b, one_offer(now0 + 4 * HOUR_NS, 3600));
    assert_eq!(refused.offerset.result, OffersetResult::No, "{refused:?}");
    assert!(
        has_text(&refused, Level::Info, "already held or leased"),
        "{:?}",
        texts(&refused)
    );
    // With one: the nearest free start is 5h (1h later; 2h..3h is 2h earlier).
    let moved = m.request(
        b,
        ResourceRequest {
            alternative_starts: Some(1),
            ..one_offer(now0 + 4 * HOUR_NS, 3600)
        },
    );
    assert_eq!(moved.offerset.result, OffersetResult::Yes, "{moved:?}");
    assert_eq!(offered_items(&moved), vec![item.id]);
    assert_eq!(moved.offers[0].offer_id, offer.id);
    assert_eq!(
        (moved.offers[0].start_ns, moved.offers[0].end_ns),
        (now0 + 5 * HOUR_NS, now0 + 6 * HOUR_NS)
    );
    assert!(
        has_text(
            &moved,
            Level::Warn,
            &format!(
                "item {} is booked at the start asked for: offered from",
                item.id
            )
        ),
        "{:?}",
        texts(&moved)
    );

    // c asks for 2h30..3h30: the nearest free start is earlier, 2h (30 min before; 6h after).
    let c = consumer("c");
    let earlier = m.request(
        c,
        ResourceRequest {
            alternative_starts: Some(1),
            ..one_offer(now0 + 150 * MINUTE_NS, 3600)
        },
    );
    assert_eq!(earlier.offerset.result, OffersetResult::Yes, "{earlier:?}");
    assert_eq!(
        (earlier.offers[0].start_ns, earlier.offers[0].end_ns),
        (now0 + 2 * HOUR_NS, now0 + 3 * HOUR_NS)
    );
    assert!(has_text(
        &earlier,
        Level::Warn,
        "is booked at the start asked for"
    ));
    // A free start is not moved and says nothing about it.
    let d = consumer("d");
    let exact = m.request(
        d,
        ResourceRequest {
            alternative_starts: Some(1),
            ..one_offer(now0 + 8 * HOUR_NS, 3600)
        },
    );
    assert_eq!(exact.offers[0].start_ns, now0 + 8 * HOUR_NS);
    assert!(!exact
        .offerset
        .messages
        .iter()
        .any(|m| m.level == Level::Warn));
    m.assert_no_double_booking(item.id);
}

// --- 5. lease_reclaim ---

#[test]
fn a_provider_reclaims_a_lease_with_the_policys_notice_and_the_consumer_sees_it_at_once() {
    let mut m = Market::new();
    let (item, _) = m.offered_item(LARGE, "reclaim-node", 16, 100, 10);
    let (short_item, _) = m.offered_item(SMALL, "reclaim-short", 2, 10, 10);
    let a = consumer("a");
    let now0 = m.now();
    let lease = lease_sku(&mut m, a, LARGE, now0, 24 * 3600);
    let c = consumer("c");
    let short = lease_sku(&mut m, c, SMALL, now0, 1800);
    assert_eq!(short.item_id, short_item.id);
    m.advance(SECOND_NS);
    assert_eq!(m.phase(lease.id), Phase::Available);
    assert_eq!(m.phase(short.id), Phase::Available);
    assert_eq!(m.canister.policies().reclaim_notice_seconds, Some(3600));
    let delegate = m.delegate;

    // Refusals change nothing.
    let before = m.canister.digest();
    let arg = reclaim_arg(&m, lease.id, None, "maintenance");
    for who in [stranger(), a] {
        let refused = reclaim(&mut m, who, arg.clone());
        assert!(
            matches!(refused, Err(MarketError::NotAuthorized { .. })),
            "{refused:?}"
        );
    }
    let refused = reclaim_as(&mut m, delegate, lease.id, Some(3599), "soon");
    match refused {
        Err(MarketError::InvalidArgument { message }) => {
            assert!(message.contains("at least 3600"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let refused = reclaim_as(&mut m, delegate, short.id, None, "ends sooner");
    assert!(
        matches!(refused, Err(MarketError::InvalidWindow { .. })),
        "{refused:?}"
    );
    let refused = reclaim_as(&mut m, delegate, 9_999, None, "none");
    assert!(
        matches!(refused, Err(MarketError::UnknownExecution { id: 9_999 })),
        "{refused:?}"
    );
    assert_eq!(
        m.canister.digest(),
        before,
        "a refused reclaim changed state"
    );

    // The delegate reclaims with the default notice: the consumer sees it at once.
    let t = m.now();
    let deadline = t + HOUR_NS;
    let reclaimed = reclaim(&mut m, delegate, arg).expect("lease_reclaim");
    let expected = Reclaim {
        noticed_at_ns: t,
        ends_at_ns: deadline,
        reason: "maintenance".into(),
    };
    assert_eq!(reclaimed.reclaim, Some(expected.clone()));
    assert_eq!(reclaimed.end_ns, deadline);
    let seen = m
        .canister
        .execution_get(a, lease.id)
        .expect("execution_get");
    assert_eq!(
        (seen.reclaim, seen.end_ns),
        (Some(expected.clone()), deadline)
    );
    assert_eq!(seen.phase, Phase::Available);
    let seen = m.canister.lease_get(a, lease.id).expect("lease_get");
    assert_eq!(seen.lease_end_ns, deadline);
    assert_eq!(seen.reclaim, Some(expected));
    // The time after the deadline is offered again at once.
    let offer_end = now0 + 10 * DAY_NS;
    assert_eq!(
        free(&mut m, user(), item.id, t, offer_end),
        vec![(deadline, offer_end)]
    );

    // Twice, and extending a reclaimed lease, are refused and change nothing.
    let before = m.canister.digest();
    let again = reclaim_as(&mut m, delegate, lease.id, None, "again");
    assert!(
        matches!(again, Err(MarketError::InvalidArgument { .. })),
        "{again:?}"
    );
    let extend = ExtendArg {
        execution_id: lease.id,
        new_end_ns: t + 2 * DAY_NS,
    };
    let refused = m.canister.lease_extend(a, extend);
    assert!(
        matches!(refused, Err(MarketError::InvalidArgument { .. })),
        "{refused:?}"
    );
    assert_eq!(m.canister.digest(), before, "a refused call changed state");

    // At the deadline the lease ends, saying why.
    m.advance_to(deadline);
    m.advance(SECOND_NS);
    let ended = m.canister.execution_get(a, lease.id).unwrap();
    assert_eq!(ended.phase, Phase::Completed);
    assert_eq!(
        ended.reason.as_deref(),
        Some("reclaimed by the provider: maintenance")
    );
    m.assert_no_double_booking(item.id);
}

#[test]
fn the_reclaim_notice_is_a_policy_controllers_set_and_a_lease_not_yet_started_is_cancelled() {
    let mut m = Market::new();
    let (item, _) = m.offered_item(LARGE, "notice-node", 16, 100, 10);
    let controller = m.controller();
    assert_eq!(m.canister.policies().reclaim_notice_seconds, Some(3600));
    let before = m.canister.digest();
    let update = PoliciesUpdate {
        reclaim_notice_seconds: Some(600),
        ..PoliciesUpdate::default()
    };
    let refused = m.canister.policies_set(stranger(), update.clone());
    assert!(
        matches!(refused, Err(MarketError::NotAuthorized { .. })),
        "{refused:?}"
    );
    let too_long = PoliciesUpdate {
        reclaim_notice_seconds: Some(30 * 86_400 + 1),
        ..PoliciesUpdate::default()
    };
    let refused = m.canister.policies_set(controller, too_long);
    assert!(
        matches!(refused, Err(MarketError::InvalidArgument { .. })),
        "{refused:?}"
    );
    assert_eq!(m.canister.digest(), before);
    let set = m
        .canister
        .policies_set(controller, update)
        .expect("policies_set");
    assert_eq!(set.reclaim_notice_seconds, Some(600));
    assert_eq!(m.canister.policies().reclaim_notice_seconds, Some(600));

    // A lease starting in 20 minutes, reclaimed with 10 minutes' notice.
    let a = consumer("a");
    let now0 = m.now();
    let start = now0 + 20 * MINUTE_NS;
    let lease = m.lease(a, start, 2 * 3600);
    let delegate = m.delegate;
    let refused = reclaim_as(&mut m, delegate, lease.id, Some(599), "x");
    assert!(
        matches!(refused, Err(MarketError::InvalidArgument { .. })),
        "{refused:?}"
    );
    let reclaimed = reclaim_as(&mut m, delegate, lease.id, None, "sold").expect("lease_reclaim");
    let deadline = now0 + 10 * MINUTE_NS;
    assert_eq!(reclaimed.reclaim.as_ref().unwrap().ends_at_ns, deadline);
    let seen = m.canister.execution_get(a, lease.id).unwrap();
    assert_eq!(seen.reclaim, reclaimed.reclaim);
    m.advance_to(deadline);
    m.advance(SECOND_NS);
    let ended = m.canister.execution_get(a, lease.id).unwrap();
    assert_eq!(ended.phase, Phase::Cancelled);
    assert_eq!(
        ended.reason.as_deref(),
        Some("reclaimed by the provider: sold")
    );
    // Its window is offered again, and the lease never starts.
    let offer_end = now0 + 10 * DAY_NS;
    let now = m.now();
    assert_eq!(
        free(&mut m, user(), item.id, now, offer_end),
        vec![(now, offer_end)]
    );
    m.advance_to(start + MINUTE_NS);
    assert_eq!(m.phase(lease.id), Phase::Cancelled);
    assert_eq!(m.item(item.id).lease_id, None);
}

// --- 6. availability paging and arguments ---

#[test]
fn availability_pages_a_skus_items_and_checks_its_arguments() {
    let mut m = Market::new();
    let now0 = m.now();
    let end = now0 + 2 * DAY_NS;
    let inputs = (0..5)
        .map(|i| Market::item_input(SMALL, &format!("page-{i}"), attributes(2, 8, 100, 0)))
        .collect();
    let arg = m.register_arg(inputs);
    let delegate = m.delegate;
    let items = m.canister.inventory_register(delegate, arg).unwrap();
    for item in &items {
        m.offer(item.id, now0, end, 10 + item.id);
    }
    let _unoffered = m.register(SMALL, "page-unoffered", attributes(2, 8, 100, 0));
    let (large, _) = m.offered_item(LARGE, "page-large", 16, 100, 2);
    let mut offered: Vec<u64> = items.iter().map(|i| i.id).collect();
    offered.sort();

    // Pages of two, "2c.SMALL" the same SKU as "2C.small".
    let mut seen = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let page = sku_availability(&mut m, "2c.SMALL", now0, end, after, Some(2)).unwrap();
        pages += 1;
        assert!(page.items.len() <= 2, "{page:?}");
        for item in &page.items {
            assert_eq!(item.sku, SMALL);
            assert_eq!(
                item.windows
                    .iter()
                    .map(|w| (w.start_ns, w.end_ns))
                    .collect::<Vec<_>>(),
                vec![(now0, end)]
            );
            seen.push(item.item_id);
        }
        match page.next {
            Some(next) => {
                assert!(after.is_none_or(|a| next > a));
                after = Some(next);
            }
            None => break,
        }
        assert!(pages < 10);
    }
    assert_eq!(seen, offered, "every offered item once, in id order");
    assert!(!seen.contains(&large.id));
    assert!((3..=4).contains(&pages), "{pages} pages");
    // The first page with the default limit: everything, no next.
    let all = sku_availability(&mut m, SMALL, now0, end, None, None).unwrap();
    assert_eq!(all.items.len(), 5);
    assert_eq!(all.next, None);

    // An item leased over the whole range asked is left out of the page.
    let a = consumer("a");
    let lease = m.lease(a, now0 + HOUR_NS, 3600);
    let page = sku_availability(
        &mut m,
        SMALL,
        now0 + HOUR_NS,
        now0 + 2 * HOUR_NS,
        None,
        None,
    )
    .unwrap();
    let ids: Vec<u64> = page.items.iter().map(|i| i.item_id).collect();
    assert_eq!(ids.len(), 4);
    assert!(!ids.contains(&lease.item_id));

    // The range: at most 366 days, and to after from.
    let max = 366 * DAY_NS;
    assert!(item_availability(&mut m, user(), large.id, now0, now0 + max).is_ok());
    for (from, to) in [(now0, now0 + max + 1), (now0, now0), (now0 + 1, now0)] {
        let refused = item_availability(&mut m, user(), large.id, from, to);
        assert!(
            matches!(refused, Err(MarketError::InvalidWindow { .. })),
            "{refused:?}"
        );
        let refused = sku_availability(&mut m, SMALL, from, to, None, None);
        assert!(
            matches!(refused, Err(MarketError::InvalidWindow { .. })),
            "{refused:?}"
        );
    }
    // Exactly one of item_id and sku; a page limit from 1 to 500; a valid SKU.
    for (item_id, sku) in [(Some(large.id), Some(SMALL.to_string())), (None, None)] {
        let arg = AvailabilityArg {
            item_id,
            sku,
            from_ns: now0,
            to_ns: end,
            after: None,
            limit: None,
        };
        let refused: MarketResult<AvailabilityPage> =
            m.canister.market_query(user(), "availability", arg);
        assert!(
            matches!(refused, Err(MarketError::InvalidArgument { .. })),
            "{refused:?}"
        );
    }
    let refused = sku_availability(&mut m, SMALL, now0, end, None, Some(0));
    assert!(
        matches!(refused, Err(MarketError::InvalidArgument { .. })),
        "{refused:?}"
    );
    let refused = sku_availability(&mut m, SMALL, now0, end, None, Some(201));
    assert!(
        matches!(&refused, Err(MarketError::TooMany { what, max: 200 }) if what == "limit"),
        "{refused:?}"
    );
    assert!(sku_availability(&mut m, SMALL, now0, end, None, Some(200)).is_ok());
    let refused = sku_availability(&mut m, "not a sku", now0, end, None, None);
    assert!(
        matches!(refused, Err(MarketError::InvalidSku { .. })),
        "{refused:?}"
    );
    // An unknown item or SKU has no free time.
    let none = item_availability(&mut m, user(), 9_999, now0, end).unwrap();
    assert_eq!((none.items.len(), none.next), (0, None));
    let none = sku_availability(&mut m, "3A.huge", now0, end, None, None).unwrap();
    assert_eq!((none.items.len(), none.next), (0, None));
}

// --- 7. upgrade ---

#[test]
fn an_upgrade_keeps_offer_terms_and_private_visibility_in_the_matching_index() {
    let mut m = Market::new();
    let now0 = m.now();
    let end = now0 + 10 * DAY_NS;
    let grid_item = m.register(LARGE, "upgrade-grid", attributes(16, 64, 500, 0));
    let grid_terms = terms(Some(7200), Some(3600), None);
    let grid = offer_with(&mut m, grid_item.id, now0, end, 100, grid_terms.clone()).unwrap();
    let private_item = m.register(SMALL, "upgrade-private", attributes(2, 8, 100, 0));
    let private_terms = terms(None, None, Some(vec![friend()]));
    let private = offer_with(
        &mut m,
        private_item.id,
        now0,
        end,
        10,
        private_terms.clone(),
    )
    .unwrap();
    // A lease on the grid item books 5h..7h.
    let a = consumer("a");
    let lease = m.lease(a, now0 + 5 * HOUR_NS, 2 * 3600);
    assert_eq!(lease.end_ns, now0 + 7 * HOUR_NS);
    // A running lease on a third item, reclaimed before the upgrade.
    let (_, _) = m.offered_item("3A.reclaim", "upgrade-reclaim", 4, 1, 10);
    let running = lease_sku(&mut m, consumer("r"), "3A.reclaim", now0, 24 * 3600);
    m.advance(SECOND_NS);
    let delegate = m.delegate;
    let reclaimed = reclaim_as(&mut m, delegate, running.id, None, "before the upgrade")
        .expect("lease_reclaim");
    let deadline = reclaimed.reclaim.as_ref().unwrap().ends_at_ns;

    m.canister
        .driver
        .upgrade(&wasm(), candid::encode_one(None::<InitArg>).unwrap())
        .expect("upgrade");
    m.advance(SECOND_NS);

    // The records.
    assert_eq!(
        m.canister.offer_get(grid.id).unwrap().terms,
        Some(grid_terms)
    );
    assert_eq!(
        offer_get_as(&mut m, stranger(), private.id),
        Err(MarketError::UnknownOffer { id: private.id })
    );
    assert_eq!(
        offer_get_as(&mut m, friend(), private.id).unwrap().terms,
        Some(private_terms)
    );
    // availability: the grid item's terms and booking, the private item to its friend only.
    let page = item_availability(&mut m, user(), grid_item.id, now0, end).unwrap();
    let windows: Vec<(u64, u64, u64, u64)> = page.items[0]
        .windows
        .iter()
        .map(|w| {
            (
                w.start_ns,
                w.end_ns,
                w.min_duration_seconds,
                w.granularity_seconds,
            )
        })
        .collect();
    assert_eq!(
        windows,
        vec![
            // From now, up to the grid's next hour (time already past is not listed).
            (
                grid_up(m.now(), now0, HOUR_NS),
                now0 + 5 * HOUR_NS,
                7200,
                3600
            ),
            (now0 + 7 * HOUR_NS, end, 7200, 3600)
        ]
    );
    assert_eq!(free(&mut m, stranger(), private_item.id, now0, end), vec![]);
    let now = m.now();
    assert_eq!(
        free(&mut m, friend(), private_item.id, now0, end),
        vec![(now, end)]
    );

    // The reclaim is kept, and its deadline still ends the lease.
    let seen = m.canister.execution_get(consumer("r"), running.id).unwrap();
    assert_eq!(seen.reclaim, reclaimed.reclaim);
    assert_eq!(seen.end_ns, deadline);

    // Matching: widened to the grid, too short refused, private held by its friend only.
    let b = consumer("b");
    let view = m.request(b, of_sku(LARGE, now0 + 90 * MINUTE_NS, 7200));
    assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
    assert_eq!(
        (view.offers[0].start_ns, view.offers[0].end_ns),
        (now0 + HOUR_NS, now0 + 4 * HOUR_NS)
    );
    let short = m.request(consumer("c"), of_sku(LARGE, now0 + 8 * HOUR_NS, 3600));
    assert_eq!(short.offerset.result, OffersetResult::No, "{short:?}");
    assert!(
        has_text(&short, Level::Info, "take only longer leases"),
        "{:?}",
        texts(&short)
    );
    // The booking survived: 5h..7h is not offered.
    let booked = m.request(consumer("d"), of_sku(LARGE, now0 + 5 * HOUR_NS, 7200));
    assert_eq!(booked.offerset.result, OffersetResult::No, "{booked:?}");
    let refused = m.request(stranger(), of_sku(SMALL, now0 + HOUR_NS, 3600));
    assert_eq!(refused.offerset.result, OffersetResult::No, "{refused:?}");
    assert!(
        has_text(&refused, Level::Info, "private to other consumers"),
        "{:?}",
        texts(&refused)
    );
    let held = m.request(friend(), of_sku(SMALL, now0 + HOUR_NS, 3600));
    assert_eq!(held.offerset.result, OffersetResult::Yes, "{held:?}");
    assert_eq!(held.offers[0].offer_id, private.id);

    m.advance_to(deadline);
    m.advance(SECOND_NS);
    let ended = m.execution(running.id);
    assert_eq!(ended.phase, Phase::Completed);
    assert_eq!(
        ended.reason.as_deref(),
        Some("reclaimed by the provider: before the upgrade")
    );
}

// --- more: extend, lease_end, reclaim edges, lease_by_sku, truncation, the grid and policies ---

#[test]
fn extend_snaps_to_the_grid_lease_end_gives_the_time_back_at_once_and_a_withdrawn_offer_refuses_extends(
) {
    let mut m = Market::new();
    let now0 = m.now();
    let end = now0 + 10 * DAY_NS;
    let item = m.register(LARGE, "extend-node", attributes(16, 64, 500, 0));
    let offer = offer_with(
        &mut m,
        item.id,
        now0,
        end,
        100,
        terms(None, Some(3600), None),
    )
    .expect("offer_create");
    let (a, b) = (consumer("a"), consumer("b"));
    let lease_a = lease_sku(&mut m, a, LARGE, now0 + HOUR_NS, 2 * 3600);
    let lease_b = lease_sku(&mut m, b, LARGE, now0 + 5 * HOUR_NS, 3600);

    // 3h30 is widened to the grid: 4h.
    let extend = |id, at| ExtendArg {
        execution_id: id,
        new_end_ns: at,
    };
    let extended = m
        .canister
        .lease_extend(a, extend(lease_a.id, now0 + 210 * MINUTE_NS))
        .expect("lease_extend");
    assert_eq!(extended.end_ns, now0 + 4 * HOUR_NS);
    assert_eq!(extended.total_price, 300);
    // Into b's lease: refused, nothing changes.
    let before = m.canister.digest();
    let refused = m
        .canister
        .lease_extend(a, extend(lease_a.id, now0 + 330 * MINUTE_NS));
    assert_eq!(
        refused,
        Err(MarketError::Booked {
            execution_id: lease_b.id
        })
    );
    assert_eq!(m.canister.digest(), before);
    assert_eq!(
        free(&mut m, user(), item.id, now0, end),
        vec![
            (now0, now0 + HOUR_NS),
            (now0 + 4 * HOUR_NS, now0 + 5 * HOUR_NS),
            (now0 + 6 * HOUR_NS, end)
        ]
    );

    // a ends its lease 10 minutes in: the rest of its window is free at once.
    m.advance_to(now0 + HOUR_NS);
    m.advance(SECOND_NS);
    assert_eq!(m.phase(lease_a.id), Phase::Available);
    m.advance(10 * MINUTE_NS);
    let t = m.now();
    let ended = m.canister.lease_end(a, lease_a.id).expect("lease_end");
    assert_eq!(ended.end_ns, t);
    assert_eq!(ended.total_price, 100, "billed to the started hour");
    // Listed from the grid's next hour: only whole steps can be booked.
    assert_eq!(
        free(&mut m, user(), item.id, t, end),
        vec![
            (grid_up(t, now0, HOUR_NS), now0 + 5 * HOUR_NS),
            (now0 + 6 * HOUR_NS, end)
        ]
    );
    // Someone else can take that time now.
    let c = consumer("c");
    let view = m.request(c, of_sku(LARGE, now0 + 2 * HOUR_NS, 3600));
    assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");

    // The provider withdraws the offer: b's lease keeps running but cannot be extended.
    let delegate = m.delegate;
    let withdraw = OfferWithdrawArg {
        provider: m.provider.key(),
        offer_id: offer.id,
    };
    m.canister
        .offer_withdraw(delegate, withdraw)
        .expect("offer_withdraw");
    let before = m.canister.digest();
    let refused = m
        .canister
        .lease_extend(b, extend(lease_b.id, now0 + 7 * HOUR_NS));
    assert_eq!(
        refused,
        Err(MarketError::OfferClosed {
            offer_id: offer.id,
            status: OfferStatus::Withdrawn
        })
    );
    assert_eq!(m.canister.digest(), before);
    assert_eq!(free(&mut m, user(), item.id, now0, end), vec![]);
    m.advance_to(now0 + 5 * HOUR_NS);
    m.advance(SECOND_NS);
    assert_eq!(m.phase(lease_b.id), Phase::Available);
}

#[test]
fn reclaim_is_refused_to_another_providers_delegate_and_for_a_hold() {
    let mut m = Market::new();
    let (_, _) = m.offered_item(LARGE, "reclaim-edge", 16, 100, 10);
    let now0 = m.now();
    let a = consumer("a");
    let lease = lease_sku(&mut m, a, LARGE, now0, 24 * 3600);
    m.advance(SECOND_NS);
    // Another provider with its own delegate.
    let mut other = Provider::new(8);
    let other_delegate = Principal::self_authenticating(b"provider-8 delegate");
    m.canister
        .delegate(&mut other, other_delegate, true)
        .expect("market_delegate");
    let before = m.canister.digest();
    // Naming the lease's provider, which it does not act for.
    let refused = reclaim_as(&mut m, other_delegate, lease.id, None, "mine");
    assert!(
        matches!(refused, Err(MarketError::NotAuthorized { .. })),
        "{refused:?}"
    );
    // Naming its own provider, whose items the lease is not on.
    let arg = ReclaimArg {
        provider: other.key(),
        ..reclaim_arg(&m, lease.id, None, "mine")
    };
    let refused = reclaim(&mut m, other_delegate, arg);
    assert!(
        matches!(refused, Err(MarketError::NotAuthorized { .. })),
        "{refused:?}"
    );
    // A hold is not a lease.
    let b = consumer("b");
    let held = m.request(b, of_sku(LARGE, now0 + 2 * DAY_NS, 3600));
    let before_hold = m.canister.digest();
    let delegate = m.delegate;
    let refused = reclaim_as(&mut m, delegate, held.offers[0].id, None, "hold");
    assert!(
        matches!(
            refused,
            Err(MarketError::WrongPhase {
                phase: Phase::Offered,
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(m.canister.digest(), before_hold);
    assert_ne!(before, before_hold, "the hold itself is stored");
    // An empty reason is refused too.
    let refused = reclaim_as(&mut m, delegate, lease.id, None, "");
    assert!(
        matches!(refused, Err(MarketError::InvalidArgument { .. })),
        "{refused:?}"
    );
    assert_eq!(m.canister.digest(), before_hold);
}

#[test]
fn lease_by_sku_honours_private_offers_and_the_shortest_lease() {
    let mut m = Market::new();
    let now0 = m.now();
    let end = now0 + 5 * DAY_NS;
    let item = m.register(SMALL, "by-sku-private", attributes(2, 8, 100, 0));
    offer_with(
        &mut m,
        item.id,
        now0,
        end,
        10,
        terms(Some(7200), None, Some(vec![friend()])),
    )
    .expect("offer_create");
    let before = m.canister.digest();
    let refused = m
        .canister
        .lease_by_sku(stranger(), by_sku(SMALL, 7200, &lessee_key(1)));
    match refused {
        Err(MarketError::NothingAvailable { messages }) => assert!(
            messages
                .iter()
                .any(|m| m.text.contains("are private to other consumers")),
            "{messages:?}"
        ),
        other => panic!("{other:?}"),
    }
    let refused = m
        .canister
        .lease_by_sku(friend(), by_sku(SMALL, 3600, &lessee_key(1)));
    match refused {
        Err(MarketError::NothingAvailable { messages }) => assert!(
            messages
                .iter()
                .any(|m| m.text.contains("take only longer leases")),
            "{messages:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(m.canister.digest(), before);
    let leased = m
        .canister
        .lease_by_sku(friend(), by_sku(SMALL, 7200, &lessee_key(1)))
        .expect("lease_by_sku");
    assert_eq!(leased.item_id, item.id);
}

#[test]
fn availability_of_a_fragmented_calendar_is_truncated_and_continues_from_the_last_window() {
    let mut m = Market::new();
    let now0 = m.now();
    let end = now0 + DAY_NS;
    let (item, _) = m.offered_item(LARGE, "fragmented", 16, 100, 1);
    // 65 one-minute holds, a minute apart, each by its own consumer.
    for i in 0..65u64 {
        let view = m.request(
            consumer(&format!("f{i}")),
            one_offer(now0 + (2 * i + 1) * MINUTE_NS, 60),
        );
        assert_eq!(view.offerset.result, OffersetResult::Yes, "{i}: {view:?}");
    }
    let page = item_availability(&mut m, user(), item.id, now0, end).unwrap();
    let first = &page.items[0];
    assert!(first.truncated);
    assert_eq!(first.windows.len(), 64);
    for (i, w) in first.windows.iter().enumerate() {
        let i = i as u64;
        assert_eq!(
            (w.start_ns, w.end_ns),
            (now0 + 2 * i * MINUTE_NS, now0 + (2 * i + 1) * MINUTE_NS)
        );
    }
    let from = first.windows.last().unwrap().end_ns;
    assert_eq!(
        free(&mut m, user(), item.id, from, end),
        vec![
            (now0 + 128 * MINUTE_NS, now0 + 129 * MINUTE_NS),
            (now0 + 130 * MINUTE_NS, end)
        ]
    );
    m.assert_no_double_booking(item.id);
}

/// `max_lease_seconds` is the longest lease (`lease_extend` refuses to pass it with the grid's
/// widening: LeaseTooLong), but a request at the limit that the grid widens is held, and can be
/// accepted, for longer.
#[test]
fn a_window_widened_to_the_grid_stays_within_the_policys_longest_lease() {
    let mut m = Market::new();
    let controller = m.controller();
    let update = PoliciesUpdate {
        max_lease_seconds: Some(7200),
        ..PoliciesUpdate::default()
    };
    m.canister
        .policies_set(controller, update)
        .expect("policies_set");
    let now0 = m.now();
    let item = m.register(LARGE, "grid-policy", attributes(16, 64, 500, 0));
    offer_with(
        &mut m,
        item.id,
        now0,
        now0 + DAY_NS,
        100,
        terms(None, Some(3600), None),
    )
    .expect("offer_create");
    // Two hours from 1h30: the grid makes it 1h..4h, three hours.
    let view = m.request(consumer("a"), of_sku(LARGE, now0 + 90 * MINUTE_NS, 7200));
    for held in &view.offers {
        assert!(
            held.end_ns - held.start_ns <= 7200 * SECOND_NS,
            "a hold of {} s, over the longest lease of 7200 s: {held:?}",
            (held.end_ns - held.start_ns) / SECOND_NS
        );
    }
}

/// A 1 h lease on a 1 h grid, reclaimed 10 minutes in with the default notice, books 0..70 min.
/// An as-soon-as-possible request for 1 h is then moved to the first free grid point, 2 h; it
/// needs 2 h..3 h there, whole steps.
#[test]
fn a_request_moved_on_a_grid_keeps_its_own_length_rounded_to_the_grid() {
    let mut m = Market::new();
    let now0 = m.now();
    let end = now0 + 10 * DAY_NS;
    let item = m.register(LARGE, "moved-on-grid", attributes(16, 64, 500, 0));
    offer_with(
        &mut m,
        item.id,
        now0,
        end,
        100,
        terms(None, Some(3600), None),
    )
    .expect("offer_create");
    let lease = lease_sku(&mut m, consumer("a"), LARGE, now0, 24 * 3600);
    m.advance(10 * MINUTE_NS);
    let delegate = m.delegate;
    let reclaimed = reclaim_as(&mut m, delegate, lease.id, None, "x").expect("lease_reclaim");
    assert_eq!(reclaimed.end_ns, now0 + 70 * MINUTE_NS);
    let asap = m.request(
        consumer("b"),
        ResourceRequest {
            sku: Some(LARGE.into()),
            offers: Some(1),
            ..request(None, 3600)
        },
    );
    assert_eq!(asap.offerset.result, OffersetResult::Yes, "{asap:?}");
    assert_eq!(
        (asap.offers[0].start_ns, asap.offers[0].end_ns),
        (now0 + 2 * HOUR_NS, now0 + 3 * HOUR_NS)
    );
}

/// After a reclaim on a gridded offer, the booking ends at the deadline, off the grid;
/// `availability` lists free time from the next grid point, and a request starting there is
/// held.
#[test]
fn the_free_time_availability_lists_after_a_reclaim_on_a_grid_can_be_requested() {
    let mut m = Market::new();
    let now0 = m.now();
    let end = now0 + 10 * DAY_NS;
    let item = m.register(LARGE, "reclaim-grid", attributes(16, 64, 500, 0));
    offer_with(
        &mut m,
        item.id,
        now0,
        end,
        100,
        terms(None, Some(3600), None),
    )
    .expect("offer_create");
    let lease = lease_sku(&mut m, consumer("a"), LARGE, now0, 24 * 3600);
    m.advance(10 * MINUTE_NS);
    let delegate = m.delegate;
    reclaim_as(&mut m, delegate, lease.id, None, "x").expect("lease_reclaim");
    let now = m.now();
    let windows = free(&mut m, user(), item.id, now, end);
    assert_eq!(windows, vec![(now0 + 2 * HOUR_NS, end)]);
    let view = m.request(consumer("b"), of_sku(LARGE, windows[0].0, 3600));
    assert_eq!(
        view.offerset.result,
        OffersetResult::Yes,
        "{:?}",
        texts(&view)
    );
}
