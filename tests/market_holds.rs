//! Issue 12, H1, end to end through the wasm: holds are free, so a few principals held a whole
//! market. With the hold caps, the attack holds at most the share a controller allows, the
//! victim still leases, the controllers' and providers' allow-lists refuse the others, and
//! every refusal leaves `state_digest` unchanged.

mod common;

use candid::Principal;
use common::market::*;
use common::*;

const ITEMS: u64 = 200;
const SKU: &str = "2C.small";

fn attacker(n: u32) -> Principal {
    Principal::self_authenticating(format!("attacker {n}"))
}

/// `ITEMS` items of `SKU`, each offered for 30 days, registered and offered in batches.
fn market() -> Market {
    let mut m = Market::new();
    let now = m.now();
    for batch in 0..ITEMS / 100 {
        let inputs = (0..100)
            .map(|i| Market::item_input(SKU, &format!("n-{batch}-{i}"), attributes(8, 32, 500, 0)))
            .collect();
        let arg = m.register_arg(inputs);
        let items = m
            .canister
            .inventory_register(m.delegate, arg)
            .expect("inventory_register");
        let offers = items
            .iter()
            .map(|item| OfferInput {
                terms: None,
                item_id: item.id,
                start_ns: now,
                end_ns: now + 30 * DAY_NS,
                price_per_hour: 100 + item.id,
                properties: vec![],
            })
            .collect();
        let arg = OffersCreateArg {
            provider: m.provider.key(),
            offers,
        };
        let created: MarketResult<Vec<Offer>> =
            m.canister.market_update(m.delegate, "offers_create", arg);
        created.expect("offers_create");
    }
    m
}

fn available(m: &mut Market) -> u32 {
    m.canister.products().iter().map(|p| p.available).sum()
}

/// Each attacker sends `requests` requests for 20 offers of `days` days; the offers held.
fn attack(m: &mut Market, attackers: std::ops::Range<u32>, requests: u32, days: u64) -> usize {
    let mut held = 0;
    for n in attackers {
        for _ in 0..requests {
            let ask = ResourceRequest {
                offers: Some(20),
                ..request(None, days * 24 * 3600)
            };
            if let Ok(view) = m.canister.offerset_request(attacker(n), ask) {
                held += view.offers.len();
            }
        }
    }
    held
}

fn share(percent: u32) -> PoliciesUpdate {
    PoliciesUpdate {
        max_held_share_per_provider_percent: Some(percent),
        ..PoliciesUpdate::default()
    }
}

#[test]
fn h1_holds_cannot_lock_the_market() {
    let mut m = market();
    let controller = m.controller();
    m.canister
        .policies_set(controller, share(50))
        .expect("policies_set");
    let victim = consumer("victim");
    // The finding: 10 principals × 5 requests × 20 offers of 21 days.
    let held_21_days = attack(&mut m, 0..10, 5, 21);
    // Then 7-day windows (the longest a hold may cover), from 10 principals and 40 more.
    let held_7_days = attack(&mut m, 0..50, 5, 7);
    let left = available(&mut m);
    let leased = m
        .canister
        .lease_by_sku(victim, by_sku(SKU, 3600, &lessee_key(1)));
    std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/target/hardening")).unwrap();
    std::fs::write(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/target/hardening/market_holds.txt"
        ),
        format!(
            "market_holds: items={ITEMS} held_21_days={held_21_days} \
             held_7_days_50_principals={held_7_days} available_after={left} \
             victim_lease_by_sku={}\n",
            if leased.is_ok() { "Ok" } else { "Err" }
        ),
    )
    .unwrap();
    assert_eq!(held_21_days, 0, "a hold covers at most 7 days");
    assert_eq!(held_7_days, ITEMS as usize / 2, "holds take half the items");
    // As soon as possible, some holds take a cheap item's next week rather than a dearer item
    // now (a hold books only its window): at least half the items stay free now.
    assert!(left >= ITEMS as u32 / 2, "{left}");
    assert!(leased.is_ok(), "{leased:?}");
}

#[test]
fn allow_lists_admit_the_listed_refuse_the_others_and_refusals_change_nothing() {
    let mut m = market();
    let controller = m.controller();
    let (listed, other) = (consumer("listed"), consumer("other"));
    // The controllers open the market to their allow-list only.
    let closed = PoliciesUpdate {
        consumers: Some(ConsumerAccess::AllowListed),
        allow_consumers: Some(vec![listed]),
        ..PoliciesUpdate::default()
    };
    let policies = m.canister.policies_set(controller, closed).unwrap();
    assert_eq!(policies.consumers, Some(ConsumerAccess::AllowListed));
    assert_eq!(m.canister.policies(), policies);
    let before = m.canister.digest();
    let refused = m.canister.offerset_request(other, request(None, 3600));
    assert!(
        matches!(refused, Err(MarketError::NotAuthorized { .. })),
        "{refused:?}"
    );
    let refused = m
        .canister
        .lease_by_sku(other, by_sku(SKU, 3600, &lessee_key(2)));
    assert!(
        matches!(refused, Err(MarketError::NotAuthorized { .. })),
        "{refused:?}"
    );
    // Only controllers change the list.
    let sneak = PoliciesUpdate {
        allow_consumers: Some(vec![other]),
        ..PoliciesUpdate::default()
    };
    assert!(matches!(
        m.canister.policies_set(other, sneak),
        Err(MarketError::NotAuthorized { .. })
    ));
    assert_eq!(m.canister.digest(), before, "a refused call changed state");
    let view = m.request(listed, request(None, 3600));
    assert_eq!(view.offerset.result, OffersetResult::Yes);

    // The provider lets only its own allow-list hold its items; strangers cannot set that.
    let everyone = PoliciesUpdate {
        consumers: Some(ConsumerAccess::Everyone),
        ..PoliciesUpdate::default()
    };
    m.canister.policies_set(controller, everyone).unwrap();
    let arg = ProviderHoldAccessArg {
        provider: m.provider.key(),
        access: Some(HoldAccess::ProviderAllowListed),
        allow: Some(vec![listed]),
        disallow: None,
    };
    let before = m.canister.digest();
    let denied: MarketResult<ProviderHoldAccess> =
        m.canister
            .market_update(other, "provider_hold_access_set", arg.clone());
    assert!(
        matches!(denied, Err(MarketError::NotAuthorized { .. })),
        "{denied:?}"
    );
    let bad = ProviderHoldAccessArg {
        allow: Some(vec![other]),
        disallow: Some(vec![other]),
        ..arg.clone()
    };
    let denied: MarketResult<ProviderHoldAccess> =
        m.canister
            .market_update(m.delegate, "provider_hold_access_set", bad);
    assert!(
        matches!(denied, Err(MarketError::InvalidArgument { .. })),
        "{denied:?}"
    );
    assert_eq!(m.canister.digest(), before, "a refused call changed state");
    let set: ProviderHoldAccess = m
        .canister
        .market_update(m.delegate, "provider_hold_access_set", arg)
        .expect("provider_hold_access_set");
    assert_eq!(
        (set.access, set.listed, set.items, set.held),
        (HoldAccess::ProviderAllowListed, 1, ITEMS as u32, 3)
    );
    // The access, its list and the hold counters are stable state: an upgrade keeps them.
    m.canister
        .driver
        .upgrade(&wasm(), candid::encode_one(None::<InitArg>).unwrap())
        .expect("upgrade");
    let passed_over = m.request(other, request(None, 3600));
    assert_eq!(passed_over.offerset.result, OffersetResult::No);
    assert!(has_fail(&passed_over.offerset.messages));
    let view = m.request(listed, request(None, 3600));
    assert_eq!(view.offerset.result, OffersetResult::Yes);
}
