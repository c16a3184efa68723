//! `offers_create`, end to end: a provider publishes a fleet's availability in one call (up to
//! 500 offers), all or nothing: one bad offer, or two offers of the batch overlapping on one
//! item, refuses the whole call and changes nothing.

mod common;

use candid::Principal;
use common::market::*;
use common::*;

/// Most offers one call may carry.
const MAX_OFFERS: usize = 500;

fn offers_create(
    m: &mut Market,
    caller: Principal,
    offers: Vec<OfferInput>,
) -> MarketResult<Vec<Offer>> {
    let arg = OffersCreateArg {
        provider: m.provider.key(),
        offers,
    };
    m.canister.market_update(caller, "offers_create", arg)
}

fn input(item_id: u64, start_ns: u64, end_ns: u64, price: u64) -> OfferInput {
    OfferInput {
        terms: None,
        item_id,
        start_ns,
        end_ns,
        price_per_hour: price,
        properties: vec![Property {
            key: "region".into(),
            value: "moc-kzn".into(),
        }],
    }
}

/// Registers `n` items of `sku` in one call, with 8 to 64 cores.
fn fleet(m: &mut Market, sku: &str, n: usize) -> Vec<Item> {
    let inputs = (0..n)
        .map(|i| {
            let cores = 8 << (i % 4);
            Market::item_input(
                sku,
                &format!("fleet-{i}"),
                attributes(cores, 4 * cores as u64, 500, 0),
            )
        })
        .collect();
    let arg = m.register_arg(inputs);
    let delegate = m.delegate;
    m.canister
        .inventory_register(delegate, arg)
        .expect("inventory_register")
}

/// Five consecutive day-long windows for each item, priced by item and window.
fn five_days_each(items: &[Item], from_ns: u64) -> Vec<OfferInput> {
    items
        .iter()
        .enumerate()
        .flat_map(|(i, item)| {
            (0..5u64).map(move |day| {
                let start = from_ns + day * DAY_NS;
                input(
                    item.id,
                    start,
                    start + DAY_NS,
                    100 + (i as u64 * 7 + day * 13) % 50,
                )
            })
        })
        .collect()
}

#[test]
fn a_fleet_is_offered_in_one_call_and_matched_and_expired_like_single_offers() {
    let mut m = Market::new();
    let items = fleet(&mut m, LARGE, MAX_OFFERS / 5);
    let now = m.now();
    let inputs = five_days_each(&items, now);
    assert_eq!(inputs.len(), MAX_OFFERS);
    let delegate = m.delegate;
    let created = offers_create(&mut m, delegate, inputs.clone()).expect("offers_create");

    // In input order, with consecutive ids, as stored.
    assert_eq!(created.len(), MAX_OFFERS);
    let first = created[0].id;
    for (at, (offer, input)) in created.iter().zip(&inputs).enumerate() {
        assert_eq!(offer.id, first + at as u64);
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
        assert_eq!(offer.provider_pem, m.provider.pem());
    }
    assert_eq!(
        m.canister.offer_get(created[417].id),
        Ok(created[417].clone())
    );
    let of_item = m
        .canister
        .offers_list(OffersListArg {
            item_id: Some(items[3].id),
            ..OffersListArg::default()
        })
        .expect("offers_list");
    assert_eq!(of_item.offers, created[15..20].to_vec());
    let created_entries = m.audit(AuditArg {
        entity: Some(Entity::Offer(created[42].id)),
        ..AuditArg::default()
    });
    assert_eq!(created_entries.len(), 1);
    assert_eq!(created_entries[0].to, "open");

    // Products and matching see them like offers made one at a time.
    let products = m.canister.products();
    assert_eq!(products.len(), 1);
    let cheapest_now = inputs
        .iter()
        .filter(|o| o.start_ns <= now)
        .map(|o| o.price_per_hour)
        .min();
    assert_eq!(products[0].leasable_now, items.len() as u32);
    assert_eq!(products[0].min_price_per_hour, cheapest_now);
    let view = m.request(
        consumer("a"),
        ResourceRequest {
            min_cores: Some(64),
            ..request(Some(now + 2 * DAY_NS), 3600)
        },
    );
    assert_eq!(view.offerset.result, OffersetResult::Yes);
    assert_eq!(view.offers.len(), 3);
    for offer in &view.offers {
        assert_eq!(offer.attributes.cores, 64);
        let made_from = &created[(offer.offer_id - first) as usize];
        assert_eq!(made_from.start_ns, now + 2 * DAY_NS);
    }

    // Each expires at its own end, on the task queue's timer.
    m.advance_to(now + DAY_NS);
    let expired = |m: &mut Market, at: usize| m.canister.offer_get(created[at].id).unwrap().status;
    assert_eq!(expired(&mut m, 0), OfferStatus::Expired);
    assert_eq!(expired(&mut m, 495), OfferStatus::Expired);
    assert_eq!(expired(&mut m, 1), OfferStatus::Open);
    assert_eq!(expired(&mut m, 499), OfferStatus::Open);
}

/// `call` must be refused with an error `check` accepts, and change nothing.
fn refused(
    m: &mut Market,
    call: impl FnOnce(&mut Market) -> MarketResult<Vec<Offer>>,
    check: impl FnOnce(&MarketError) -> bool,
) {
    let before = m.snapshot(&[]);
    let reply = call(m);
    match &reply {
        Err(e) if check(e) => {}
        other => panic!("unexpected reply: {other:?}"),
    }
    assert_eq!(m.snapshot(&[]), before, "a refused batch changed state");
}

/// An `InvalidArgument` whose message starts with `prefix`.
fn starts_with(error: &MarketError, prefix: &str) -> bool {
    matches!(error, MarketError::InvalidArgument { message } if message.starts_with(prefix))
}

#[test]
fn one_bad_offer_or_an_overlap_inside_the_batch_refuses_it_all() {
    let mut m = Market::new();
    let items = fleet(&mut m, LARGE, 3);
    let now = m.now();
    let delegate = m.delegate;
    let existing = m.offer(items[0].id, now, now + DAY_NS, 100);
    // Three good offers: a bad one added to them refuses all four.
    let good = vec![
        input(items[0].id, now + DAY_NS, now + 2 * DAY_NS, 100),
        input(items[1].id, now, now + DAY_NS, 100),
        input(items[2].id, now, now + DAY_NS, 100),
    ];
    let with = move |bad: OfferInput| {
        let mut offers = good.clone();
        offers.insert(1, bad);
        move |m: &mut Market| offers_create(m, delegate, offers)
    };

    // Two offers of the batch overlap on one item.
    refused(
        &mut m,
        with(input(items[2].id, now + DAY_NS / 2, now + 2 * DAY_NS, 90)),
        |e| starts_with(e, "offers[3] overlaps offers[1]"),
    );
    // One overlaps an open offer.
    refused(
        &mut m,
        with(input(items[0].id, now + DAY_NS / 2, now + DAY_NS + 1, 90)),
        |e| {
            *e == MarketError::OfferOverlap {
                offer_id: existing.id,
            }
        },
    );
    refused(&mut m, with(input(999_999, now, now + DAY_NS, 90)), |e| {
        *e == MarketError::UnknownItem { id: 999_999 }
    });
    refused(
        &mut m,
        with(input(items[1].id, now + 3 * DAY_NS, now + 2 * DAY_NS, 90)),
        |e| matches!(e, MarketError::InvalidWindow { message } if message.starts_with("offers[1]")),
    );
    let mut nameless = input(items[1].id, now + 3 * DAY_NS, now + 4 * DAY_NS, 90);
    nameless.properties[0].key.clear();
    refused(&mut m, with(nameless), |e| {
        starts_with(e, "offers[1]: properties[0].key")
    });

    // Another provider's item.
    let mut other = Provider::new(8);
    let other_delegate = Principal::self_authenticating(b"provider-8 delegate");
    m.canister
        .delegate(&mut other, other_delegate, true)
        .expect("market_delegate");
    let theirs = m
        .canister
        .inventory_register(
            other_delegate,
            InventoryRegisterArg {
                provider: other.key(),
                items: vec![Market::item_input(
                    LARGE,
                    "theirs",
                    attributes(8, 32, 500, 0),
                )],
            },
        )
        .expect("inventory_register")
        .remove(0);
    refused(&mut m, with(input(theirs.id, now, now + DAY_NS, 90)), |e| {
        matches!(e, MarketError::NotAuthorized { .. })
    });

    // No offers, too many, a caller that is not the provider's delegate.
    refused(
        &mut m,
        |m| offers_create(m, delegate, vec![]),
        |e| matches!(e, MarketError::InvalidArgument { .. }),
    );
    let too_many: Vec<OfferInput> = (0..=MAX_OFFERS as u64)
        .map(|i| {
            input(
                items[1].id,
                now + (i + 2) * DAY_NS,
                now + (i + 3) * DAY_NS,
                90,
            )
        })
        .collect();
    refused(
        &mut m,
        |m| offers_create(m, delegate, too_many),
        |e| {
            *e == MarketError::TooMany {
                what: "offers".into(),
                max: MAX_OFFERS as u32,
            }
        },
    );
    refused(
        &mut m,
        |m| {
            offers_create(
                m,
                stranger(),
                vec![input(items[1].id, now, now + DAY_NS, 90)],
            )
        },
        |e| matches!(e, MarketError::NotAuthorized { .. }),
    );

    // The good offers alone go through.
    let good = vec![
        input(items[0].id, now + DAY_NS, now + 2 * DAY_NS, 100),
        input(items[1].id, now, now + DAY_NS, 100),
        input(items[2].id, now, now + DAY_NS, 100),
    ];
    let created = offers_create(&mut m, delegate, good).expect("offers_create");
    assert_eq!(created.len(), 3);
    assert_eq!(created[0].id, existing.id + 1);
}
