//! Availability windows (issue 17): `items` items, each with one open offer for 30 days and a
//! fragmented calendar, then the instructions of matching, accepting, ending and reclaiming a
//! lease, `availability` and `products` through the wasm, each beside its target.
//!
//! The calendar. Booking slot k (k = 0..20) is the day from 12 h + k·36 h after now: twenty
//! days booked with twelve free hours between them, to the offer's last instant. The cheapest
//! 90 % of the items (price at most the 90th percentile) have every slot booked; the dearest
//! 10 % only slots 12..20, so they are free for the month's first 18 days. A day's request
//! from now therefore steps over `fit::MAX_STEPS` bookings of every cheap item before it finds
//! a dear one: the worst case of an as-soon-as-possible search.
//!
//! Slots 3 and 11 are leases (an offerset of one offer, accepted); the others are holds
//! (offersets of 100 offers, their lifetime set to a day so they outlive the measures). The
//! wasm is too slow to book 200 k windows, so the state is built NATIVELY through the
//! canister's own code (as the limits drill does, on a thread of its own so its state is
//! apart from the native catalog's), `pre_upgrade` writes the snapshots, and the real wasm's
//! `post_upgrade` loads that stable memory on the ic0 host. Every figure is a call through
//! the wasm on the host's meter.
//!
//! Targets: issue 17's 50 M for matching (`offerset_request`, `lease_by_sku`) and for an
//! `availability` answer, 10 M for `execution_accept` and for the other one-lease updates
//! (`lease_end`, `lease_reclaim`), a tenth of the IC's query limit for `products`. Rows
//! indented under a figure break it down (floors and differences between calls).

use crate::market::{delegate, item_input, mix, provider, IMAGE, SECRET, SKUS};
use crate::report::{human, Report};
use candid::utils::ArgumentEncoder;
use candid::{CandidType, Deserialize, Principal};
use ic0_host::{limits, Host, InstructionLimits, DEFAULT_TIME_NANOS};
use marketplace::api::*;
use marketplace::market::offerset::fit::MAX_STEPS;
use marketplace::market::{delegation, inventory, lease, offers, offerset, policy};
use marketplace::runtime::FakeRuntime;
use marketplace::time::{DAY_NS, HOUR_NS, SECOND_NS};
use serde_bytes::ByteBuf;
use std::time::{Duration, Instant};

const WASM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../target/wasm/marketplace.wasm.gz"
);

/// Issue 17: matching at 10 k items with fragmented windows.
const MATCH_TARGET: f64 = 50e6;
/// An availability page, one item or a SKU's page of items.
const AVAILABILITY_TARGET: f64 = 50e6;
/// Accepting an offer; ending and reclaiming a lease are of its kind (one lease's records).
const LEASE_TARGET: f64 = 10e6;
/// The SKU view: a tenth of the IC's query limit.
const PRODUCTS_TARGET: f64 = limits::INSTRUCTIONS_QUERY as f64 / 10.0;

const OFFER_NS: u64 = 30 * DAY_NS;
const SLOTS: u64 = 20;
const FIRST_SLOT_NS: u64 = 12 * HOUR_NS;
const SLOT_NS: u64 = 36 * HOUR_NS;
const BOOKING_NS: u64 = DAY_NS;
/// Slots from which the dearest items are booked too.
const DEAR_FROM_SLOT: u64 = 12;
/// Slots booked by accepted leases; the others by holds.
const LEASE_SLOTS: [u64; 2] = [3, 11];
const HOLDS_PER_REQUEST: u32 = 100;
const PER_CALL: usize = 500;
/// A lease of the consumer's: the policy's bound on active leases, with room.
const LEASES_PER_CONSUMER: u64 = 5_000;

fn slot_start(now: u64, k: u64) -> u64 {
    now + FIRST_SLOT_NS + k * SLOT_NS
}

fn consumer(i: u64) -> Principal {
    Principal::self_authenticating(format!("bench windows consumer {i}"))
}

fn lessee_key() -> ByteBuf {
    ByteBuf::from(vec![7; 32])
}

/// What the native fill built.
struct Filled {
    stable: Vec<u8>,
    items: u64,
    /// Items with every slot booked (priced at most `p90`).
    cheap: u64,
    p90: u64,
    holds: u64,
    leases: u64,
    /// The cheapest item: its calendar is fully booked.
    cheapest_item: u64,
    /// The dear items (free for the month's first 18 days) and their SKUs.
    dear: Vec<(u64, String)>,
    time: Duration,
}

/// The state, built natively on a thread of its own (the canister's state is thread-local).
fn fill(items: u32) -> Filled {
    std::thread::Builder::new()
        .name("windows fill".into())
        .stack_size(64 << 20)
        .spawn(move || fill_here(items))
        .expect("a thread for the fill")
        .join()
        .expect("the native fill")
}

fn fill_here(items: u32) -> Filled {
    let started = Instant::now();
    let rt = FakeRuntime::new();
    rt.time.set(DEFAULT_TIME_NANOS);
    rt.controllers.borrow_mut().push(Host::default_controller());
    let now = DEFAULT_TIME_NANOS;
    rt.caller.set(delegate());
    delegation::delegate(
        &rt,
        delegation::signed(&SECRET, &FakeRuntime::CANISTER_ID, delegate(), true, 1),
    )
    .expect("market_delegate");
    policy::set(PoliciesUpdate {
        max_open_offersets_per_principal: Some(10_000),
        max_active_leases_per_principal: Some(10_000),
        max_offers_per_offerset: Some(HOLDS_PER_REQUEST),
        max_held_items_per_principal: Some(100_000),
        // Holds outlive the measures (the host's clock stays near `now`).
        offer_ttl_seconds: Some(DAY_NS / SECOND_NS),
        ..PoliciesUpdate::default()
    })
    .expect("policies_set");

    let inputs: Vec<ItemInput> = (0..u64::from(items)).map(item_input).collect();
    let mut registered: Vec<Item> = Vec::with_capacity(inputs.len());
    for chunk in inputs.chunks(PER_CALL) {
        let arg = InventoryRegisterArg {
            provider: provider(),
            items: chunk.to_vec(),
        };
        registered.extend(inventory::register(&rt, arg).expect("inventory_register"));
    }
    let offer_inputs: Vec<OfferInput> = registered
        .iter()
        .map(|item| OfferInput {
            terms: None,
            item_id: item.id,
            start_ns: now,
            end_ns: now + OFFER_NS,
            price_per_hour: 20 * u64::from(item.attributes.cores) + mix(item.id * 8) % 500,
            properties: vec![],
        })
        .collect();
    let mut prices: Vec<(u64, u64)> = offer_inputs
        .iter()
        .map(|o| (o.price_per_hour, o.item_id))
        .collect();
    for chunk in offer_inputs.chunks(PER_CALL) {
        let arg = OffersCreateArg {
            provider: provider(),
            offers: chunk.to_vec(),
        };
        offers::create_batch(&rt, arg).expect("offers_create");
    }
    prices.sort_unstable();
    let p90 = prices[(prices.len() * 9 / 10).min(prices.len() - 1)].0;
    let cheap = prices.iter().filter(|(p, _)| *p <= p90).count() as u64;
    let cheapest_item = prices[0].1;
    let dear = registered
        .iter()
        .zip(&offer_inputs)
        .filter(|(_, offer)| offer.price_per_hour > p90)
        .map(|(item, _)| (item.id, item.sku.clone()))
        .collect();

    let (mut holds, mut leases) = (0, 0);
    let bar = crate::progress::bar(SLOTS, "windows: booking calendars (native)");
    for k in 0..SLOTS {
        let request = |offers: u32| ResourceRequest {
            start_ns: Some(slot_start(now, k)),
            duration_seconds: BOOKING_NS / SECOND_NS,
            image: IMAGE.into(),
            offers: Some(offers),
            max_price_per_hour: (k < DEAR_FROM_SLOT).then_some(p90),
            ..ResourceRequest::default()
        };
        if LEASE_SLOTS.contains(&k) {
            loop {
                rt.caller
                    .set(consumer(1_000 * k + leases / LEASES_PER_CONSUMER));
                let view = offerset::request(&rt, request(1)).expect("offerset_request");
                let Some(&execution_id) = view.offerset.execution_ids.first() else {
                    break;
                };
                lease::accept(
                    &rt,
                    AcceptArg {
                        execution_id,
                        lessee_key: Some(lessee_key()),
                        lessee_key_hex: None,
                    },
                )
                .expect("execution_accept");
                leases += 1;
            }
        } else {
            rt.caller.set(consumer(1_000 * k));
            loop {
                let view =
                    offerset::request(&rt, request(HOLDS_PER_REQUEST)).expect("offerset_request");
                let n = view.offerset.execution_ids.len() as u32;
                holds += u64::from(n);
                if n < HOLDS_PER_REQUEST {
                    break;
                }
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    marketplace::lifecycle::pre_upgrade().expect("native pre_upgrade");
    Filled {
        stable: marketplace::memory::stable_bytes(),
        items: u64::from(items),
        cheap,
        p90,
        holds,
        leases,
        cheapest_item,
        dear,
        time: started.elapsed(),
    }
}

/// A call through the wasm whose reply is `Result<T, MarketError>`, and its instructions.
fn call<A: ArgumentEncoder, T: CandidType + for<'a> Deserialize<'a>>(
    host: &mut Host,
    query: bool,
    caller: Principal,
    method: &str,
    args: A,
) -> (T, u64) {
    let bytes = candid::encode_args(args).unwrap();
    let reply = if query {
        host.query(caller, method, &bytes)
    } else {
        host.update(caller, method, &bytes)
    }
    .unwrap_or_else(|r| panic!("{method}: {r}"));
    let result: Result<T, MarketError> =
        candid::decode_one(&reply).unwrap_or_else(|e| panic!("{method} reply: {e}"));
    let value = result.unwrap_or_else(|e| panic!("{method}: {e:?}"));
    (value, host.last_instructions())
}

/// The instructions of an update the canister refuses (its reply an `Err`).
fn refused<A: CandidType>(host: &mut Host, caller: Principal, method: &str, arg: A) -> u64 {
    let reply = host
        .update(caller, method, &candid::encode_one(arg).unwrap())
        .unwrap_or_else(|r| panic!("{method}: {r}"));
    let result: Result<Execution, MarketError> = candid::decode_one(&reply).unwrap();
    assert!(result.is_err(), "{method} was refused");
    host.last_instructions()
}

fn request(host: &mut Host, who: u64, request: ResourceRequest) -> (OffersetView, u64) {
    call(host, false, consumer(who), "offerset_request", (request,))
}

/// Offers of an offerset that start later than asked (moved by the search).
fn moved(view: &OffersetView, asked: Option<u64>, now: u64) -> usize {
    let asked = asked.unwrap_or(now);
    view.offers.iter().filter(|o| o.start_ns != asked).count()
}

pub fn run(items: u32, report: &mut Report) {
    let items = items.max(10);
    let wasm =
        std::fs::read(WASM).unwrap_or_else(|e| panic!("{WASM}: {e}; run scripts/build.sh first"));
    let filled = fill(items);
    let size = format!("{} items", human(filled.items as f64));
    report.info(
        format!("windows: calendars booked natively [{size}]"),
        format!(
            "{} holds + {} leases, {:.0} s",
            human(filled.holds as f64),
            human(filled.leases as f64),
            filled.time.as_secs_f64()
        ),
    );
    report.info(
        "windows: items fully booked (20 days in 20 slots) / dear",
        format!(
            "{} / {} (price ≤ {} / above)",
            filled.cheap,
            filled.items - filled.cheap,
            filled.p90
        ),
    );

    let mut host = Host::new();
    host.set_time(DEFAULT_TIME_NANOS);
    host.set_instruction_limits(InstructionLimits {
        install: u64::MAX / 4,
        ..InstructionLimits::default()
    });
    let no_arg = candid::encode_one(None::<InitArg>).unwrap();
    let stable_mib = filled.stable.len() >> 20;
    host.install_on_stable(&wasm, filled.stable, &no_arg)
        .unwrap_or_else(|r| panic!("post_upgrade on the native state: {r}"));
    report.info(
        format!("windows: post_upgrade on that state [{stable_mib} MiB stable]"),
        human(host.last_instructions() as f64),
    );
    let now = host.time();
    let day = DAY_NS / SECOND_NS;
    let six_hours = 6 * 3600;
    let steps = MAX_STEPS;
    let cheap = filled.cheap;

    // (a) As soon as possible, a day: every cheap item's search steps over MAX_STEPS bookings
    // (no twelve-hour gap takes a day) before the dear items, free now, are found.
    let asap = ResourceRequest {
        duration_seconds: day,
        image: IMAGE.into(),
        offers: Some(3),
        ..ResourceRequest::default()
    };
    let (worst, instructions) = request(&mut host, 1, asap.clone());
    assert_answered_within_budget(&worst);
    report.at_most(
        format!("wasm instr., offerset_request asap 1 day, worst [{size}, {cheap}×{steps} steps]"),
        instructions as f64,
        MATCH_TARGET,
        "",
    );
    let asap_worst = instructions;
    // (b) As soon as possible, six hours: the first gap (now to 12 h) takes it.
    let (view, instructions) = request(
        &mut host,
        2,
        ResourceRequest {
            duration_seconds: six_hours,
            ..asap.clone()
        },
    );
    assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
    report.at_most(
        format!("wasm instr., offerset_request asap 6 h, first gap [{size}]"),
        instructions as f64,
        MATCH_TARGET,
        "",
    );
    // (c) A fixed start inside slot 8 (booked on cheap items): exactly, each cheap item one
    // calendar lookup; with alternative_starts, six hours move to the nearest gap at once, a
    // day searches both ways over every cheap item.
    let start = slot_start(now, 8) + HOUR_NS;
    let fixed = ResourceRequest {
        start_ns: Some(start),
        ..asap.clone()
    };
    let (view, instructions) = request(&mut host, 3, fixed.clone());
    assert_answered_within_budget(&view);
    report.at_most(
        format!("wasm instr., offerset_request fixed start 1 day, exact [{size}]"),
        instructions as f64,
        MATCH_TARGET,
        "",
    );
    let fixed_exact = instructions;
    let (view, instructions) = request(
        &mut host,
        4,
        ResourceRequest {
            duration_seconds: six_hours,
            alternative_starts: Some(3),
            ..fixed.clone()
        },
    );
    assert_answered_within_budget(&view);
    report.at_most(
        format!(
            "wasm instr., offerset_request fixed 6 h, alternative_starts 3 [{} moved]",
            moved(&view, Some(start), now)
        ),
        instructions as f64,
        MATCH_TARGET,
        "",
    );
    let (view, instructions) = request(
        &mut host,
        5,
        ResourceRequest {
            alternative_starts: Some(3),
            ..fixed.clone()
        },
    );
    assert_answered_within_budget(&view);
    report.at_most(
        format!("wasm instr., offerset_request fixed 1 day, alternative_starts 3, worst [{size}]"),
        instructions as f64,
        MATCH_TARGET,
        "",
    );
    let fixed_alternatives = instructions;
    // (d) Nobody offers for free: every open offer examined, no calendar looked at.
    let (view, instructions) = request(
        &mut host,
        6,
        ResourceRequest {
            max_price_per_hour: Some(0),
            ..asap.clone()
        },
    );
    assert_eq!(view.offerset.result, OffersetResult::No, "{view:?}");
    report.at_most(
        format!("wasm instr., offerset_request nobody meets (no calendar read) [{size}]"),
        instructions as f64,
        MATCH_TARGET,
        "",
    );
    let walk = instructions;
    // Where the instructions go: the walk over the offers, one calendar lookup per cheap item
    // (fixed start, exact), MAX_STEPS more (as soon as possible) or both ways (alternatives).
    let per = |a: u64, b: u64, n: u64| human((a.saturating_sub(b)) as f64 / n.max(1) as f64);
    report.info(
        "  per offer examined (walk, filters)",
        human(walk as f64 / filled.items as f64),
    );
    report.info(
        "  per cheap item, fixed start exact less the walk (1 lookup)",
        per(fixed_exact, walk, cheap),
    );
    report.info(
        format!("  per search step, asap less fixed exact ({cheap}×{steps} steps)"),
        per(asap_worst, fixed_exact, cheap * steps as u64),
    );
    report.info(
        "  per cheap item, alternatives less fixed exact (both ways)",
        per(fixed_alternatives, fixed_exact, cheap),
    );

    // Accepting the cheapest offer of a request that found three (the worst one above may
    // have stopped at its budget): its siblings are rejected.
    let (found, _) = request(
        &mut host,
        8,
        ResourceRequest {
            duration_seconds: six_hours,
            ..asap.clone()
        },
    );
    assert_eq!(found.offers.len(), 3, "{found:?}");
    let accepted = found.offers[0].id;
    let (_, instructions): (Execution, _) = call(
        &mut host,
        false,
        consumer(8),
        "execution_accept",
        (AcceptArg {
            execution_id: accepted,
            lessee_key: Some(lessee_key()),
            lessee_key_hex: None,
        },),
    );
    report.at_most(
        format!("wasm instr., execution_accept (2 siblings rejected) [{size}]"),
        instructions as f64,
        LEASE_TARGET,
        "",
    );

    // Reading one execution back (a stable record decoded, the reply encoded): the unit most
    // of accept's work is made of.
    let (_, read): (Execution, _) =
        call(&mut host, true, consumer(8), "execution_get", (accepted,));
    report.info(
        "  execution_get of that lease (one record read)",
        human(read as f64),
    );
    // Where accept's instructions go: an update refused at once (the message's floor: decode,
    // guards, whatever every update does), and accepting an offerset of one offer (no sibling).
    let floor = refused(&mut host, consumer(1), "lease_end", u64::MAX);
    report.info(
        "  update floor: lease_end of an unknown lease (refused)",
        human(floor as f64),
    );
    let (single, _) = request(
        &mut host,
        10,
        ResourceRequest {
            duration_seconds: six_hours,
            offers: Some(1),
            ..asap.clone()
        },
    );
    let (_, alone): (Execution, _) = call(
        &mut host,
        false,
        consumer(10),
        "execution_accept",
        (AcceptArg {
            execution_id: single.offers[0].id,
            lessee_key: Some(lessee_key()),
            lessee_key_hex: None,
        },),
    );
    report.info(
        "  execution_accept of a single offer (no sibling)",
        human(alone as f64),
    );
    report.info(
        "  per sibling rejected",
        human(instructions.saturating_sub(alone) as f64 / 2.0),
    );

    // lease_by_sku leases now: six hours fit the first gap of the SKU's cheapest item; a day
    // passes over the SKU's cheap items (booked from 12 h) to a dear one.
    // The SKU of a dear item the worst request did not hold: free now for a day.
    let held: Vec<u64> = worst.offers.iter().map(|o| o.item_id).collect();
    let free_sku = filled
        .dear
        .iter()
        .find(|(id, _)| !held.contains(id))
        .map(|(_, sku)| sku.clone())
        .expect("a dear item left free");
    let by_sku = |duration_seconds| LeaseBySkuArg {
        sku: if duration_seconds == day {
            free_sku.clone()
        } else {
            SKUS[3].into()
        },
        duration_seconds,
        image: IMAGE.into(),
        lessee_key: Some(lessee_key()),
        lessee_key_hex: None,
        max_price_per_hour: None,
        project: None,
    };
    let (short, instructions): (Execution, _) = call(
        &mut host,
        false,
        consumer(7),
        "lease_by_sku",
        (by_sku(six_hours),),
    );
    report.at_most(
        format!("wasm instr., lease_by_sku 6 h (first gap) [{size}]"),
        instructions as f64,
        MATCH_TARGET,
        "",
    );
    let (_, instructions): (Execution, _) = call(
        &mut host,
        false,
        consumer(8),
        "lease_by_sku",
        (by_sku(day),),
    );
    report.at_most(
        format!("wasm instr., lease_by_sku 1 day (past the SKU's booked) [{size}]"),
        instructions as f64,
        MATCH_TARGET,
        "",
    );

    // The leases taken now start on the queue's timer; then one ends early and one is
    // reclaimed by its provider.
    host.tick();
    let (_, instructions): (Execution, _) =
        call(&mut host, false, consumer(7), "lease_end", (short.id,));
    report.at_most(
        format!("wasm instr., lease_end (time given back) [{size}]"),
        instructions as f64,
        LEASE_TARGET,
        "",
    );
    let (_, instructions): (Execution, _) = call(
        &mut host,
        false,
        delegate(),
        "lease_reclaim",
        (ReclaimArg {
            provider: provider(),
            execution_id: accepted,
            notice_seconds: None,
            reason: "bench".into(),
        },),
    );
    report.at_most(
        format!("wasm instr., lease_reclaim (the policy's notice) [{size}]"),
        instructions as f64,
        LEASE_TARGET,
        "",
    );

    // availability over the offers' month: the cheapest item (twenty bookings, twenty-one
    // windows), then a SKU's items a page of 100 and of 200 (the most) at a time.
    let month = |item_id: Option<u64>, sku: Option<&str>, limit: Option<u32>| AvailabilityArg {
        item_id,
        sku: sku.map(Into::into),
        from_ns: now,
        to_ns: now + OFFER_NS,
        after: None,
        limit,
    };
    let (page, instructions): (AvailabilityPage, _) = call(
        &mut host,
        true,
        consumer(9),
        "availability",
        (month(Some(filled.cheapest_item), None, None),),
    );
    let windows: usize = page.items.iter().map(|i| i.windows.len()).sum();
    report.at_most(
        format!("wasm instr., availability one item [{windows} windows]"),
        instructions as f64,
        AVAILABILITY_TARGET,
        "",
    );
    for limit in [100, 200] {
        let (page, instructions): (AvailabilityPage, _) = call(
            &mut host,
            true,
            consumer(9),
            "availability",
            (month(None, Some(SKUS[0]), Some(limit)),),
        );
        let windows: usize = page.items.iter().map(|i| i.windows.len()).sum();
        report.at_most(
            format!(
                "wasm instr., availability SKU page of {limit} [{} items, {} windows]",
                page.items.len(),
                human(windows as f64)
            ),
            instructions as f64,
            AVAILABILITY_TARGET,
            "",
        );
    }

    // The SKU view, counted in full (the query limit lifted).
    host.set_instruction_limits(InstructionLimits {
        query: u64::MAX / 2,
        ..InstructionLimits::default()
    });
    let reply = host
        .query(consumer(9), "products", &candid::encode_args(()).unwrap())
        .unwrap_or_else(|r| panic!("products: {r}"));
    let products: Vec<Product> = candid::decode_one(&reply).expect("products reply");
    report.at_most(
        format!(
            "wasm instr., products query [{size}, {} SKUs]",
            products.len()
        ),
        host.last_instructions() as f64,
        PRODUCTS_TARGET,
        "",
    );
}

/// Offers, or a No that says the search stopped at the request's budget of calendar lookups
/// (`offerset::fit::MAX_LOOKUPS`): fragmented calendars on the cheapest items may hide free
/// dearer ones from one request, never make it cost more.
fn assert_answered_within_budget(view: &OffersetView) {
    let stopped = view
        .offerset
        .messages
        .iter()
        .any(|m| m.text.starts_with("the search stopped after"));
    assert!(
        view.offerset.result == OffersetResult::Yes || stopped,
        "{view:?}"
    );
}
