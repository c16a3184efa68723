//! Issue 12, item 7, through the wasm: the global caps set in the init argument. Minted keys
//! and principals can fill a canister with providers, offerings, items and open offers; past
//! each cap a change that would add more gets `CapacityReached`, changes nothing, and an
//! upgrade argument raises the cap.

mod common;

use common::market::*;
use common::*;

fn small_caps() -> InitArg {
    InitArg {
        max_providers: Some(1),
        max_offerings: Some(1),
        max_items: Some(2),
        max_open_offers: Some(1),
        ..InitArg::default()
    }
}

/// A catalog of `n` offerings (their keys are the same for every provider).
fn catalog(n: u32) -> Vec<u8> {
    marketplace::catalog::synthetic::provider(1, 0, n).csv
}

fn capacity(what: &str, max: u64) -> CatalogError {
    CatalogError::CapacityReached {
        what: what.into(),
        max,
    }
}

#[test]
fn past_each_global_cap_growth_is_refused_unchanged_until_an_upgrade_raises_it() {
    let mut m = Market::on(Canister::install(Some(small_caps())));
    // Catalog: one provider with one offering fills both catalog caps.
    let mut first = Provider::new(1);
    m.canister
        .replace(&mut first, &catalog(1))
        .expect("the first catalog fits");
    let before = m.canister.digest();
    let mut second = Provider::new(2);
    assert_eq!(
        m.canister.replace(&mut second, &catalog(1)),
        Err(capacity("providers", 1))
    );
    assert_eq!(
        m.canister.upsert(&mut first, &catalog(2)),
        Err(capacity("offerings", 1))
    );
    assert_eq!(m.canister.digest(), before);

    // Market: two items, one open offer.
    let now = m.now();
    let a = m.register("2C.small", "node-a", attributes(2, 8, 100, 0));
    m.register("2C.small", "node-b", attributes(2, 8, 100, 0));
    let offer = |item_id, start_ns| OfferCreateArg {
        terms: None,
        provider: m.provider.key(),
        item_id,
        start_ns,
        end_ns: start_ns + HOUR_NS,
        price_per_hour: 100,
        properties: vec![],
    };
    let first_offer = offer(a.id, now + HOUR_NS);
    let later_offer = offer(a.id, now + 3 * HOUR_NS);
    m.canister
        .offer_create(m.delegate, first_offer)
        .expect("the first offer fits");
    let before = m.canister.digest();
    let third = m.register_arg(vec![Market::item_input(
        "2C.small",
        "node-c",
        attributes(2, 8, 100, 0),
    )]);
    assert_eq!(
        m.canister.inventory_register(m.delegate, third.clone()),
        Err(MarketError::CapacityReached {
            what: "items".into(),
            max: 2,
        })
    );
    assert_eq!(
        m.canister.offer_create(m.delegate, later_offer.clone()),
        Err(MarketError::CapacityReached {
            what: "open offers".into(),
            max: 1,
        })
    );
    assert_eq!(m.canister.digest(), before);

    // The controllers raise the caps with an upgrade argument; the same calls now pass.
    let raised = InitArg {
        max_providers: Some(2),
        max_offerings: Some(10),
        max_items: Some(3),
        max_open_offers: Some(2),
        ..InitArg::default()
    };
    m.canister
        .driver
        .upgrade(&wasm(), candid::encode_one(Some(raised)).unwrap())
        .expect("upgrade");
    m.canister
        .replace(&mut second, &catalog(1))
        .expect("a second provider fits");
    m.canister
        .inventory_register(m.delegate, third)
        .expect("a third item fits");
    m.canister
        .offer_create(m.delegate, later_offer)
        .expect("a second offer fits");
    let config = m.canister.status().config;
    assert_eq!((config.max_providers, config.max_items), (2, 3));
}

#[test]
fn a_cap_out_of_range_fails_the_install() {
    let mut driver = ic0_host::driver::from_env();
    let arg = InitArg {
        max_open_offers: Some(0),
        ..InitArg::default()
    };
    let refused = driver.install(&wasm(), candid::encode_one(Some(arg)).unwrap());
    let message = refused.expect_err("a zero cap is refused").message;
    assert!(
        message.contains("max_open_offers must be in 1..=2000000"),
        "{message}"
    );
}

#[test]
fn a_change_feed_window_out_of_range_fails_the_install() {
    let mut driver = ic0_host::driver::from_env();
    let arg = InitArg {
        change_feed_window: Some(24_999),
        ..InitArg::default()
    };
    let refused = driver.install(&wasm(), candid::encode_one(Some(arg)).unwrap());
    let message = refused
        .expect_err("a window below a catalog is refused")
        .message;
    assert!(
        message.contains("change_feed_window must be in 25000..=10000000"),
        "{message}"
    );
}
