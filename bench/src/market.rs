//! Market figures of the canister's wasm on the ic0 host: a provider's fleet of `items` items
//! with five offers each, then the instructions of matching (`offerset_request`, `lease_by_sku`),
//! the `products` view, one queue timer message ending a batch of leases, and an upgrade.
//! Deterministic for a given wasm and scale.

use crate::progress;
use crate::report::{human, Report};
use candid::utils::ArgumentEncoder;
use candid::{CandidType, Deserialize, Principal};
use ic0_host::{limits, Host, InstructionLimits};
use marketplace::api::*;
use marketplace::catalog::signing;
use marketplace::market::delegation;
use marketplace::time::{DAY_NS, SECOND_NS};
use serde_bytes::ByteBuf;

const WASM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../target/wasm/marketplace.wasm.gz"
);

/// The upgrade's target at any market size: flat, far under the IC's 300 B.
const UPGRADE_TARGET: f64 = 10e9;

/// The targets: one match against 10 k resources and 50 k offers, and one timer message
/// (the IC's update limit) for a batch of 1 k due tasks.
const MATCH_TARGET: f64 = 50e6;
const TIMER_TARGET: f64 = limits::INSTRUCTIONS_UPDATE as f64;

const OFFERS_PER_ITEM: u64 = 5;
/// Items (and offers) per registering (offering) call: the most one call may carry.
const PER_CALL: usize = 500;
/// Leases ending at one instant, for the queue's batch (fewer on a small market).
const BATCH_LEASES: u32 = 1_000;
/// Each item's offers are consecutive windows of a week, the first starting now.
const WINDOW_NS: u64 = 7 * DAY_NS;
pub(crate) const IMAGE: &str = "ubuntu-24.04";
pub(crate) const SECRET: [u8; 32] = [9; 32];

pub(crate) const SKUS: [&str; 10] = [
    "1A.small",
    "2B.medium",
    "3C.large",
    "4D.large",
    "4D.xlarge",
    "2C.small",
    "3A.medium",
    "4E.huge",
    "1D.tiny",
    "3B.large",
];
const CLASSES: [&str; 4] = ["baremetal.small", "baremetal.large", "baremetal.gpu", ""];

pub(crate) fn delegate() -> Principal {
    Principal::self_authenticating(b"bench market provider delegate")
}

/// Consumer `i`: leases come from many consumers, as on a live market, so no one principal
/// meets its rate limit or its quota of active leases.
fn consumer(i: u32) -> Principal {
    Principal::self_authenticating(format!("bench market consumer {i}"))
}

pub(crate) fn provider() -> ProviderKeyInput {
    ProviderKeyInput::Raw(ByteBuf::from(
        signing::provider_of(&SECRET).as_bytes().to_vec(),
    ))
}

/// A fixed pseudo-random stream (splitmix64), so every run builds the same market.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub(crate) fn item_input(i: u64) -> ItemInput {
    let r = mix(i);
    let cores = 2u32 << (r % 6); // 2 to 64
                                 // One item in seven has 1 to 8 GPUs.
    let gpus = match r % 7 {
        0 => 1 + (r >> 8) as u32 % 8,
        _ => 0,
    };
    ItemInput {
        resource_type: "ironic_node".into(),
        resource_uuid: format!("bench-node-{i:06}"),
        sku: SKUS[i as usize % SKUS.len()].into(),
        attributes: Attributes {
            cores,
            memory_mb: u64::from(cores) * 4096 * (1 + (r >> 16) % 2),
            storage_gb: 250 << ((r >> 20) % 4),
            gpus,
            resource_class: CLASSES[(r >> 24) as usize % CLASSES.len()].into(),
            routable_ips: 1 + (r >> 28) as u32 % 4,
            labels: vec!["vCloud".into(), format!("rack-{}", i % 40)],
        },
        offering_key: None,
    }
}

/// Offer `k` of an item: the k-th week from `from_ns`, priced by the item's cores and a spread.
fn offer_input(item: &Item, k: u64, from_ns: u64) -> OfferInput {
    let start_ns = from_ns + k * WINDOW_NS;
    OfferInput {
        terms: None,
        item_id: item.id,
        start_ns,
        end_ns: start_ns + WINDOW_NS,
        price_per_hour: 20 * u64::from(item.attributes.cores) + mix(item.id * 8 + k) % 500,
        properties: vec![Property {
            key: "region".into(),
            value: ["moc-kzn", "moc-nyc", "eu-fra"][(item.id % 3) as usize].into(),
        }],
    }
}

/// An update whose reply is `T`, and the instructions it took; a reject panics.
fn update<A: ArgumentEncoder, T: CandidType + for<'a> Deserialize<'a>>(
    host: &mut Host,
    caller: Principal,
    method: &str,
    args: A,
) -> (T, u64) {
    let reply = host
        .update(caller, method, &candid::encode_args(args).unwrap())
        .unwrap_or_else(|r| panic!("{method}: {r}"));
    let value = candid::decode_one(&reply).unwrap_or_else(|e| panic!("{method} reply: {e}"));
    (value, host.last_instructions())
}

fn query<T: CandidType + for<'a> Deserialize<'a>>(host: &mut Host, method: &str) -> (T, u64) {
    let reply = host
        .query(consumer(0), method, &candid::encode_args(()).unwrap())
        .unwrap_or_else(|r| panic!("{method}: {r}"));
    let value = candid::decode_one(&reply).unwrap_or_else(|e| panic!("{method} reply: {e}"));
    (value, host.last_instructions())
}

/// The `products` view and its instructions, counted in full: the query limit is lifted while
/// it runs, so a view that outgrows the limit shows by how much.
fn products(host: &mut Host) -> (Vec<Product>, u64) {
    host.set_instruction_limits(InstructionLimits {
        query: u64::MAX / 2,
        ..InstructionLimits::default()
    });
    let products = query(host, "products");
    host.set_instruction_limits(InstructionLimits::default());
    products
}

fn tasks_run(host: &mut Host) -> u64 {
    query::<Status>(host, "status").0.counters.tasks_run
}

/// The market of `items` items and five times as many offers, and the wasm to upgrade it with.
fn loaded(items: u32, report: &mut Report) -> (Host, Vec<u8>) {
    let wasm =
        std::fs::read(WASM).unwrap_or_else(|e| panic!("{WASM}: {e}; run scripts/build.sh first"));
    let mut host = Host::new();
    host.install(&wasm, &candid::encode_one(None::<InitArg>).unwrap())
        .expect("install");
    host.tick();
    let arg = delegation::signed(&SECRET, &host.canister_id(), delegate(), true, 1);
    let (delegated, _): (Result<Delegation, MarketError>, _) =
        update(&mut host, delegate(), "market_delegate", (arg,));
    delegated.expect("market_delegate");
    // One consumer takes every lease of the batch.
    let policies = PoliciesUpdate {
        max_open_offersets_per_principal: Some(10_000),
        max_active_leases_per_principal: Some(10_000),
        ..PoliciesUpdate::default()
    };
    let (set, _): (Result<Policies, MarketError>, _) = update(
        &mut host,
        Host::default_controller(),
        "policies_set",
        (policies,),
    );
    set.expect("policies_set");

    let mut registered: Vec<Item> = Vec::with_capacity(items as usize);
    let mut register_instructions = 0;
    let inputs: Vec<ItemInput> = (0..u64::from(items)).map(item_input).collect();
    let bar = progress::bar(u64::from(items), "market: registering items");
    for chunk in inputs.chunks(PER_CALL) {
        let arg = InventoryRegisterArg {
            provider: provider(),
            items: chunk.to_vec(),
        };
        let (reply, instructions): (Result<Vec<Item>, MarketError>, _) =
            update(&mut host, delegate(), "inventory_register", (arg,));
        registered.extend(reply.expect("inventory_register"));
        register_instructions += instructions;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let now = host.time();
    let offers: Vec<OfferInput> = registered
        .iter()
        .flat_map(|item| (0..OFFERS_PER_ITEM).map(move |k| offer_input(item, k, now)))
        .collect();
    let mut offer_instructions = 0;
    let bar = progress::bar(offers.len() as u64, "market: creating offers");
    for chunk in offers.chunks(PER_CALL) {
        let arg = OffersCreateArg {
            provider: provider(),
            offers: chunk.to_vec(),
        };
        let (reply, instructions): (Result<Vec<Offer>, MarketError>, _) =
            update(&mut host, delegate(), "offers_create", (arg,));
        assert_eq!(reply.expect("offers_create").len(), chunk.len());
        offer_instructions += instructions;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    report.info(
        format!("wasm instructions per registered item [{}]", scale(items)),
        human((register_instructions / u64::from(items)) as f64),
    );
    report.info(
        format!(
            "wasm instructions per offer, offers_create of 500 [{}]",
            scale(items)
        ),
        human((offer_instructions / offers.len() as u64) as f64),
    );
    (host, wasm)
}

fn scale(items: u32) -> String {
    format!(
        "{} items, {} offers",
        human(f64::from(items)),
        human(f64::from(items) * OFFERS_PER_ITEM as f64)
    )
}

/// `offerset_request`: the offerset and the instructions it took.
fn request(host: &mut Host, request: ResourceRequest) -> (OffersetView, u64) {
    let (reply, instructions): (Result<OffersetView, MarketError>, _) =
        update(host, consumer(0), "offerset_request", (request,));
    (reply.expect("offerset_request"), instructions)
}

/// The "N open offers examined" count of an offerset's messages.
fn examined(view: &OffersetView) -> String {
    view.offerset
        .messages
        .iter()
        .find_map(|m| m.text.strip_suffix(" open offers examined"))
        .map_or_else(
            || "?".into(),
            |n| human(n.parse::<f64>().unwrap_or(f64::NAN)),
        )
}

fn lease_by_sku(host: &mut Host, lessee: u32, sku: &str) -> (Execution, u64) {
    let arg = LeaseBySkuArg {
        sku: sku.into(),
        duration_seconds: DAY_NS / SECOND_NS,
        image: IMAGE.into(),
        lessee_key: Some(ByteBuf::from(vec![7; 32])),
        lessee_key_hex: None,
        max_price_per_hour: None,
        project: None,
    };
    let (reply, instructions): (Result<Execution, MarketError>, _) =
        update(host, consumer(lessee), "lease_by_sku", (arg,));
    (reply.expect("lease_by_sku"), instructions)
}

pub fn run(items: u32, report: &mut Report) {
    let items = items.max(10);
    let (mut host, wasm) = loaded(items, report);
    let size = scale(items);

    // (a) What a consumer typically asks: a day on a mid-size machine, three offers.
    let typical = ResourceRequest {
        min_cores: Some(16),
        min_memory_mb: Some(64 * 1024),
        duration_seconds: DAY_NS / SECOND_NS,
        image: IMAGE.into(),
        offers: Some(3),
        ..ResourceRequest::default()
    };
    let (view, instructions) = request(&mut host, typical);
    assert_eq!(view.offerset.result, OffersetResult::Yes, "{view:?}");
    report.at_most(
        format!("wasm instr., offerset_request typical (3 offers) [{size}]"),
        instructions as f64,
        MATCH_TARGET,
        "",
    );
    // (b) Nobody offers anything for free: every open offer is examined.
    let impossible = ResourceRequest {
        duration_seconds: DAY_NS / SECOND_NS,
        image: IMAGE.into(),
        max_price_per_hour: Some(0),
        ..ResourceRequest::default()
    };
    let (view, instructions) = request(&mut host, impossible);
    assert_eq!(view.offerset.result, OffersetResult::No, "{view:?}");
    report.at_most(
        format!(
            "wasm instr., offerset_request nobody meets [{size}, {} examined]",
            examined(&view)
        ),
        instructions as f64,
        MATCH_TARGET,
        "",
    );

    let (_, instructions) = lease_by_sku(&mut host, 0, SKUS[3]);
    report.at_most(
        format!("wasm instr., lease_by_sku [{size}]"),
        instructions as f64,
        MATCH_TARGET,
        "",
    );
    let (view, instructions) = products(&mut host);
    report.at_most(
        format!("wasm instr., products query [{size}, {} SKUs]", view.len()),
        instructions as f64,
        limits::INSTRUCTIONS_QUERY as f64,
        "",
    );

    queue_batch(&mut host, items, report);

    // The upgrade saves the heap indexes and loads them back (no per-record work): the target
    // is the survival issue's, a thirtieth of the IC's limit.
    let (before, _) = products(&mut host);
    host.upgrade(&wasm, &candid::encode_one(None::<InitArg>).unwrap())
        .expect("upgrade");
    report.at_most(
        format!("wasm instr., upgrade (pre + post, index snapshots) [{size}]"),
        host.last_instructions() as f64,
        UPGRADE_TARGET,
        "",
    );
    let (after, _) = products(&mut host);
    assert_eq!(after, before, "the upgraded canister answers the same");
}

/// Leases taken at one instant for one day all end at once: the task queue's timer messages that
/// end them (EndLease, and the FinishRebuild each schedules for the same instant). The task queue
/// stops a run after 10 B instructions and goes on in the next, so a large batch takes several
/// messages; ic-cdk-timers runs each timer in a message of its own, the watchdog's catch-up
/// runs (which find nothing left to do) included.
fn queue_batch(host: &mut Host, items: u32, report: &mut Report) {
    let start = host.time();
    // `run` took one lease at this instant already.
    let leases = BATCH_LEASES.min(items / 10).max(2);
    let bar = progress::bar(u64::from(leases), "market: taking leases");
    bar.inc(1);
    for i in 1..leases {
        let (execution, _) = lease_by_sku(host, i, SKUS[i as usize % SKUS.len()]);
        assert_eq!(execution.end_ns, start + DAY_NS);
        bar.inc(1);
    }
    bar.finish_and_clear();
    // The leases start, then the offersets' expiries and the stuck checks run: what is due at
    // the end is the leases' ends alone.
    host.tick();
    host.advance_time(std::time::Duration::from_secs(3600));
    host.tick();
    host.set_time(start + DAY_NS);
    host.take_self_call_instructions();
    let ran_before = tasks_run(host);
    host.tick();
    let runs = host.take_self_call_instructions();
    let tasks = tasks_run(host) - ran_before;
    let largest = runs.iter().copied().max().unwrap_or(0);
    let total: u64 = runs.iter().sum();
    let per_task = total as f64 / tasks.max(1) as f64;
    report.at_most(
        format!(
            "wasm instr., largest timer message, {leases} leases ending [{} msgs]",
            runs.len()
        ),
        largest as f64,
        TIMER_TARGET,
        "",
    );
    report.info(
        format!("wasm instructions, all those timer messages [{tasks} tasks]"),
        human(total as f64),
    );
    report.info(
        "wasm instructions per queued task (EndLease, FinishRebuild)",
        human(per_task),
    );
    report.at_most(
        "wasm instr., 1 k due tasks at that cost per task",
        per_task * 1_000.0,
        TIMER_TARGET,
        "",
    );
}
