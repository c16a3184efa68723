//! `market_self_check` through the built wasm: controllers only, typed errors for bad pages,
//! no violation on a market with records in every state, and what a page costs.

mod common;

use candid::Principal;
use common::market::*;
use common::*;
use ic0_host::driver::Driver;
use ic0_host::Host;
use std::cell::RefCell;
use std::rc::Rc;

const CAP: u32 = 500;
/// The IC's instruction limit of a query.
const QUERY_LIMIT: u64 = 5_000_000_000;

/// Items offered for a day, offersets holding them (20 executions each), and leases: one
/// running, one accepted for later, one ended, one cancelled; `items` items in all.
fn busy_market(items: usize) -> Market {
    fill(Market::new(), items)
}

fn fill(mut m: Market, items: usize) -> Market {
    let inputs: Vec<ItemInput> = (0..items)
        .map(|i| Market::item_input(SMALL, &format!("r{i}"), attributes(4, 16, 100, 0)))
        .collect();
    let mut registered = Vec::new();
    for chunk in inputs.chunks(500) {
        let arg = m.register_arg(chunk.to_vec());
        registered.extend(
            m.canister
                .inventory_register(m.delegate, arg)
                .expect("inventory_register"),
        );
    }
    let now = m.now();
    let offers: Vec<OfferInput> = registered
        .iter()
        .enumerate()
        .map(|(n, item)| OfferInput {
            terms: None,
            item_id: item.id,
            start_ns: now,
            end_ns: now + DAY_NS,
            price_per_hour: 100 + n as u64,
            properties: vec![],
        })
        .collect();
    for chunk in offers.chunks(500) {
        let arg = OffersCreateArg {
            provider: m.provider.key(),
            offers: chunk.to_vec(),
        };
        let created: MarketResult<Vec<Offer>> =
            m.canister.market_update(m.delegate, "offers_create", arg);
        created.expect("offers_create");
    }
    let running = m.lease(consumer("running"), now, 3600);
    let later = m.lease(consumer("later"), now + 2 * HOUR_NS, 3600);
    let ended = m.lease(consumer("ended"), now, 3600);
    let cancelled = m.lease(consumer("cancelled"), now + HOUR_NS, 3600);
    m.advance(5 * SECOND_NS);
    m.canister
        .lease_end(consumer("ended"), ended.id)
        .expect("lease_end");
    let cancel = CancelArg {
        execution_id: cancelled.id,
        reason: "changed plans".into(),
    };
    m.canister
        .execution_cancel(consumer("cancelled"), cancel)
        .expect("execution_cancel");
    // Holds: offersets of 20 offers each, for consumers enough to hold a tenth of the items.
    for n in 0..items / 200 {
        let ask = ResourceRequest {
            offers: Some(20),
            ..request(Some(now + 4 * HOUR_NS), 3600)
        };
        let view = m.request(consumer(&format!("holder-{n}")), ask);
        assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
    }
    m.advance(5 * SECOND_NS);
    assert_eq!(m.phase(running.id), Phase::Available);
    assert_eq!(m.phase(later.id), Phase::Waiting);
    m
}

#[test]
fn controllers_check_every_page_and_everyone_else_is_refused() {
    let mut m = busy_market(40);
    let whole = m.canister.self_check_walk(Some(CAP), |_, _| {});
    assert_eq!(whole.violations, vec![]);
    assert_eq!(whole.pages, 1);
    let by_default = m.canister.self_check_walk(None, |_, _| {});
    assert_eq!(by_default.violations, vec![]);
    assert_eq!(by_default.checked, whole.checked);
    let one_by_one = m.canister.self_check_walk(Some(1), |_, page| {
        assert!(page.checked >= 1, "{page:?}");
    });
    assert_eq!(one_by_one.violations, vec![]);
    assert_eq!(one_by_one.checked, whole.checked);
    assert!(one_by_one.pages > 40, "{one_by_one:?}");

    for caller in [
        stranger(),
        Principal::anonymous(),
        m.delegate,
        consumer("running"),
    ] {
        let refused = m
            .canister
            .market_self_check(caller, SelfCheckArg::default());
        assert!(
            matches!(refused, Err(MarketError::NotAuthorized { .. })),
            "{caller}: {refused:?}"
        );
    }
}

#[test]
fn bad_pages_are_typed_errors() {
    let mut m = Market::new();
    let controller = m.controller();
    let mut page = |cursor, limit| {
        m.canister
            .market_self_check(controller, SelfCheckArg { cursor, limit })
    };
    assert!(matches!(
        page(None, Some(0)),
        Err(MarketError::InvalidArgument { .. })
    ));
    assert!(matches!(
        page(None, Some(CAP + 1)),
        Err(MarketError::TooMany { max: CAP, .. })
    ));
    assert!(matches!(
        page(Some(u64::MAX), None),
        Err(MarketError::InvalidArgument { .. })
    ));
    let garbage = m
        .canister
        .driver
        .query(
            controller,
            "market_self_check",
            b"DIDL\x01\x6d\x7f".to_vec(),
        )
        .expect("a reply, not a reject");
    let reply: MarketResult<SelfCheckPage> = candid::decode_one(&garbage).unwrap();
    assert!(
        matches!(reply, Err(MarketError::InvalidArgument { .. })),
        "{reply:?}"
    );
}

/// One page at the cap, and the dearest record read (one-record pages, each with the query's
/// own overhead; a page at the cap costs less than the cap times that): both far below the
/// query limit. Figures in target/hardening/self_check.txt.
#[test]
fn a_page_at_the_cap_stays_far_below_the_query_limit() {
    let (m, host) = Market::on_host();
    let mut m = fill(m, 600);
    let mut pages = Vec::new();
    let at_cap = m.canister.self_check_walk(Some(CAP), |_, page| {
        pages.push((page.checked, host.borrow().last_instructions()));
    });
    assert_eq!(at_cap.violations, vec![]);
    assert!(pages[0].0 >= CAP, "the first page is full: {pages:?}");
    let full = pages
        .iter()
        .map(|(_, instructions)| *instructions)
        .max()
        .unwrap_or(0);
    let mut dearest = 0;
    let single = m.canister.self_check_walk(Some(1), |_, page| {
        dearest = dearest.max(host.borrow().last_instructions() / u64::from(page.checked));
    });
    assert_eq!(single.checked, at_cap.checked);
    let bound = u64::from(CAP) * dearest;
    let line = format!(
        "self_check: records={} largest_page_at_cap_instructions={full} dearest_record_instructions={dearest} cap_bound={bound}",
        at_cap.checked
    );
    println!("{line}");
    assert!(full < QUERY_LIMIT / 10, "{line}");
    assert!(bound < QUERY_LIMIT / 2, "{line}");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/target/hardening");
    std::fs::create_dir_all(dir).expect("create target/hardening");
    std::fs::write(format!("{dir}/self_check.txt"), format!("{line}\n")).expect("write");
}

/// The `self-check` build (`target/wasm/marketplace-self-check.wasm`, which `scripts/build.sh`
/// builds with `--features self-check`): the same market, every update and timer run checked
/// whole, passes; and an update's cost grows with the records it checks.
#[test]
fn the_self_check_build_checks_the_whole_market_after_every_update() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/wasm/marketplace-self-check.wasm"
    );
    let wasm =
        std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e} (scripts/build.sh builds it)"));
    let host = Rc::new(RefCell::new(Host::new()));
    let mut driver: Box<dyn Driver> = Box::new(SharedHost(host.clone()));
    driver
        .install(&wasm, candid::encode_one(None::<InitArg>).unwrap())
        .expect("install");
    let refused_update = |m: &mut Market| {
        let arg = OfferWithdrawArg {
            provider: m.provider.key(),
            offer_id: 999_999,
        };
        let refused: MarketResult<Offer> =
            m.canister.market_update(m.delegate, "offer_withdraw", arg);
        assert!(matches!(refused, Err(MarketError::UnknownOffer { .. })));
        host.borrow().last_instructions()
    };
    let mut m = Market::on(Canister { driver });
    let empty = refused_update(&mut m);
    let mut m = fill(m, 200);
    let busy = refused_update(&mut m);
    let walk = m.canister.self_check_walk(Some(CAP), |_, _| {});
    assert_eq!(walk.violations, vec![]);
    // A refused update reads nothing of the market, but the check reads every record.
    assert!(
        busy > empty + 100 * walk.checked,
        "{empty} -> {busy} for {walk:?}"
    );
    println!(
        "self-check build: a refused update {empty} -> {busy} instructions with {} records",
        walk.checked
    );
}
