use super::super::testing::*;
use super::super::*;
use crate::market::inventory;
use crate::market::{lease, offers, policy};
use crate::runtime::FakeRuntime;
use serde_bytes::ByteBuf;

const DAY_S: u64 = 24 * 3600;

fn attacker(n: u32) -> Principal {
    let mut bytes = [9u8; 29];
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    Principal::from_slice(&bytes)
}

/// `n` items of "2C.small", each offered for 30 days from now.
fn market_of(rt: &FakeRuntime, n: u32) {
    let now = rt.time.get();
    for i in 0..n {
        let item = item(rt, &format!("node-{i}"), "2C.small", 8);
        offer(
            rt,
            item.id,
            now,
            now + 30 * DAY_S * SECOND_NS,
            100 + u64::from(i),
        );
    }
}

fn available(rt: &FakeRuntime) -> u32 {
    inventory::products(rt.time.get())
        .iter()
        .map(|p| p.available)
        .sum()
}

/// Every principal in `who` sends `requests` requests for `offers` offers of `days` days.
fn attack(rt: &FakeRuntime, who: &[Principal], requests: u32, offers: u32, days: u64) -> usize {
    let mut held = 0;
    for attacker in who {
        for _ in 0..requests {
            let ask = ResourceRequest {
                offers: Some(offers),
                ..ask(days * DAY_S)
            };
            if let Ok(view) = calling(rt, *attacker, || request(rt, ask)) {
                held += view.offers.len();
            }
        }
    }
    held
}

fn lease_one(rt: &FakeRuntime) -> Result<Execution, MarketError> {
    let arg = LeaseBySkuArg {
        sku: "2C.small".into(),
        duration_seconds: 3600,
        image: "ubuntu-24.04".into(),
        lessee_key: Some(ByteBuf::from(vec![5; 32])),
        lessee_key_hex: None,
        max_price_per_hour: None,
        project: None,
    };
    calling(rt, bob(), || lease::lease_by_sku(rt, arg))
}

/// The recount the counters must equal: OFFERED executions per consumer and per provider.
fn assert_counters_match_a_recount(principals: &[Principal]) {
    let mut by_consumer = std::collections::BTreeMap::<Principal, u32>::new();
    let mut by_provider = std::collections::BTreeMap::new();
    store::for_each_execution(|e| {
        if e.phase == Phase::Offered {
            *by_consumer.entry(e.consumer).or_default() += 1;
            *by_provider
                .entry(store::provider_key(&e.provider_pem))
                .or_insert(0u32) += 1;
        }
    });
    for p in principals {
        assert_eq!(
            store::consumer_holds(p),
            by_consumer.get(p).copied().unwrap_or(0),
            "{p}"
        );
    }
    for (provider, held) in by_provider {
        assert_eq!(store::provider_holds(&provider).held, held);
    }
}

/// Issue 12, H1: 10 principals × 5 requests × 20 offers held every item for 21 days, and the
/// victim got No, NothingAvailable and available = 0. With the caps a controller of an open
/// market sets (half of a provider's items, 20 items a principal, 7-day holds), the attack
/// holds half the items at most, however many principals it mints, and the victim is served.
#[test]
fn h1_holds_cannot_lock_the_market() {
    let rt = market();
    market_of(&rt, 100);
    policy::set(PoliciesUpdate {
        max_held_share_per_provider_percent: Some(50),
        ..PoliciesUpdate::default()
    })
    .unwrap();
    let ten: Vec<Principal> = (0..10).map(attacker).collect();
    // The finding's 21-day windows are longer than a hold may cover: nothing is held.
    assert_eq!(attack(&rt, &ten, 5, 20, 21), 0);
    assert_eq!(available(&rt), 100);

    // 7-day windows, 10 principals, then 40 more: holds take half the items and stop there.
    assert_eq!(attack(&rt, &ten, 5, 20, 7), 50);
    let more: Vec<Principal> = (10..50).map(attacker).collect();
    assert_eq!(attack(&rt, &more, 5, 20, 7), 0);
    assert!(ten.iter().all(|p| store::consumer_holds(p) <= 20));
    // As soon as possible, some holds take a cheap item's next week rather than a dearer
    // item now: at least half the items stay free now.
    assert!(available(&rt) >= 50, "{}", available(&rt));
    assert_counters_match_a_recount(&ten);

    // The victim leases at once, and an offerset still gets its offers... until holds
    // reach the cap, then the FAIL says why.
    assert!(lease_one(&rt).is_ok());
    let victim = calling(&rt, bob(), || request(&rt, ask(3600))).unwrap();
    assert_eq!(victim.offerset.result, OffersetResult::No);
    assert!(victim
        .offerset
        .messages
        .iter()
        .any(|m| m.text.contains("holds may not take more of now")));
    // Once the attackers' holds expire, the victim's offerset is answered.
    run_at(&rt, rt.time.get() + 301 * SECOND_NS);
    assert_eq!(available(&rt), 99);
    let victim = calling(&rt, bob(), || request(&rt, ask(3600))).unwrap();
    assert_eq!(victim.offerset.result, OffersetResult::Yes);
    assert_counters_match_a_recount(&[bob()]);
}

#[test]
fn a_principal_holds_at_most_its_cap_and_the_request_at_the_cap_changes_nothing() {
    let rt = market();
    market_of(&rt, 10);
    policy::set(PoliciesUpdate {
        max_held_items_per_principal: Some(4),
        ..PoliciesUpdate::default()
    })
    .unwrap();
    let three = ResourceRequest {
        offers: Some(3),
        ..ask(3600)
    };
    assert_eq!(request(&rt, three.clone()).unwrap().offers.len(), 3);
    let partial = request(&rt, three.clone()).unwrap();
    assert_eq!(partial.offers.len(), 1);
    assert!(partial
        .offerset
        .messages
        .iter()
        .any(|m| m.level == Level::Warn && m.text.contains("at most 1 are offered")));
    assert_eq!(store::consumer_holds(&alice()), 4);
    let before = snapshot();
    assert_eq!(
        request(&rt, three),
        Err(MarketError::QuotaExceeded {
            what: "held items".into(),
            max: 4
        })
    );
    assert_eq!(snapshot(), before);
}

/// Holds end by accept (the siblings rejected), expiry, withdrawal, maintenance and a lease by
/// SKU (held and accepted in one message): the counters follow each.
#[test]
fn the_hold_counters_follow_every_way_a_hold_ends() {
    let rt = market();
    market_of(&rt, 8);
    let who = [alice(), bob()];
    let first = request(
        &rt,
        ResourceRequest {
            offers: Some(3),
            ..ask(3600)
        },
    )
    .unwrap();
    assert_eq!(store::consumer_holds(&alice()), 3);
    let accept = AcceptArg {
        execution_id: first.offers[0].id,
        lessee_key: Some(vec![5; 32].into()),
        lessee_key_hex: None,
    };
    lease::accept(&rt, accept).unwrap();
    assert_eq!(store::consumer_holds(&alice()), 0);
    assert_counters_match_a_recount(&who);

    let second = calling(&rt, bob(), || {
        request(
            &rt,
            ResourceRequest {
                offers: Some(3),
                ..ask(3600)
            },
        )
    })
    .unwrap();
    assert_eq!(store::consumer_holds(&bob()), 3);
    let withdrawn = second.offers[0].offer_id;
    let arg = OfferWithdrawArg {
        provider: key_input(),
        offer_id: withdrawn,
    };
    calling(&rt, provider(), || offers::withdraw(&rt, arg)).unwrap();
    assert_eq!(store::consumer_holds(&bob()), 2);
    let arg = InventorySetStatusArg {
        provider: key_input(),
        item_id: second.offers[1].item_id,
        status: ItemStatus::Maintenance,
        reason: String::new(),
    };
    calling(&rt, provider(), || inventory::set_status(&rt, arg)).unwrap();
    assert_eq!(store::consumer_holds(&bob()), 1);
    assert_counters_match_a_recount(&who);
    assert!(lease_one(&rt).is_ok());
    assert_eq!(store::consumer_holds(&bob()), 1);
    run_at(&rt, rt.time.get() + 301 * SECOND_NS);
    assert_eq!(store::consumer_holds(&bob()), 0);
    let provider_key = store::provider_key(&first.offers[0].provider_pem);
    assert_eq!(store::provider_holds(&provider_key).held, 0);
    assert_eq!(store::provider_items(&provider_key), 8);
    assert_counters_match_a_recount(&who);
}

#[test]
fn held_cap_is_the_share_rounded_down_but_at_least_one() {
    assert_eq!(held_cap(1, 50), 1);
    assert_eq!(held_cap(3, 50), 1);
    assert_eq!(held_cap(100, 50), 50);
    assert_eq!(held_cap(100, 100), 100);
    assert_eq!(held_cap(u32::MAX, 100), u32::MAX);
}

#[test]
fn a_market_open_to_allow_listed_consumers_refuses_the_others_and_changes_nothing() {
    let rt = market();
    market_of(&rt, 8);
    policy::set(PoliciesUpdate {
        consumers: Some(ConsumerAccess::AllowListed),
        allow_consumers: Some(vec![alice()]),
        ..PoliciesUpdate::default()
    })
    .unwrap();
    assert!(request(&rt, ask(3600)).is_ok());
    let before = snapshot();
    let refused = calling(&rt, bob(), || request(&rt, ask(3600)));
    assert!(matches!(refused, Err(MarketError::NotAuthorized { .. })));
    assert!(matches!(
        lease_one(&rt),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(snapshot(), before);
    policy::set(PoliciesUpdate {
        allow_consumers: Some(vec![bob()]),
        ..PoliciesUpdate::default()
    })
    .unwrap();
    assert!(lease_one(&rt).is_ok());
    policy::set(PoliciesUpdate {
        disallow_consumers: Some(vec![bob()]),
        ..PoliciesUpdate::default()
    })
    .unwrap();
    assert!(matches!(
        calling(&rt, bob(), || request(&rt, ask(3600))),
        Err(MarketError::NotAuthorized { .. })
    ));
    policy::set(PoliciesUpdate {
        consumers: Some(ConsumerAccess::Everyone),
        ..PoliciesUpdate::default()
    })
    .unwrap();
    assert!(calling(&rt, bob(), || request(&rt, ask(3600))).is_ok());
}

#[test]
fn a_provider_lets_only_its_allow_list_hold_and_only_its_delegates_say_so() {
    let rt = market();
    market_of(&rt, 4);
    let arg = |allow: Vec<Principal>, disallow: Vec<Principal>| ProviderHoldAccessArg {
        provider: key_input(),
        access: Some(HoldAccess::ProviderAllowListed),
        allow: Some(allow),
        disallow: Some(disallow),
    };
    let before = snapshot();
    assert!(matches!(
        set_provider_access(&rt, arg(vec![alice()], vec![])),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert!(matches!(
        calling(&rt, provider(), || set_provider_access(
            &rt,
            arg(vec![bob()], vec![bob()])
        )),
        Err(MarketError::InvalidArgument { .. })
    ));
    assert_eq!(snapshot(), before);
    let set = calling(&rt, provider(), || {
        set_provider_access(&rt, arg(vec![alice(), alice()], vec![]))
    })
    .unwrap();
    assert_eq!(
        (set.access, set.listed, set.items, set.held),
        (HoldAccess::ProviderAllowListed, 1, 4, 0)
    );
    let refused = calling(&rt, bob(), || request(&rt, ask(3600))).unwrap();
    assert_eq!(refused.offerset.result, OffersetResult::No);
    assert!(refused
        .offerset
        .messages
        .iter()
        .any(|m| m.text.contains("only their allow-listed consumers")));
    assert_eq!(request(&rt, ask(3600)).unwrap().offers.len(), 3);
    // Leasing at once does not get around the list either.
    assert!(matches!(
        lease_one(&rt),
        Err(MarketError::NothingAvailable { .. })
    ));
    let set = calling(&rt, provider(), || {
        set_provider_access(&rt, arg(vec![], vec![alice()]))
    })
    .unwrap();
    assert_eq!((set.listed, set.held), (0, 3));
}
