//! Offers private to projects: the matching index checks a private offer's visibility for
//! every offer a request passes (those skip no calendar budget), and a project-private offer
//! asks "is the consumer a member?" for each project it names. This measures the worst of it at
//! `items` items, each with one open offer private to 8 projects (the most an offer names) out
//! of `min(items, MAX_PROJECTS - 1)` projects: a request by a principal in none of them passes
//! every offer and finds nothing, and so does one by a member of another project only (each
//! offer's projects tested against its set); one by a member of every project reads its
//! projects once, then takes the cheapest. Built natively (as `windows` does), then measured
//! through the wasm.

use crate::market::{delegate, item_input, provider, IMAGE, SECRET};
use crate::report::{human, Report};
use candid::Principal;
use ic0_host::{Host, InstructionLimits, DEFAULT_TIME_NANOS};
use marketplace::api::*;
use marketplace::market::projects::{self, MAX_PROJECTS, MAX_PROJECTS_PER_OWNER};
use marketplace::market::{delegation, inventory, offers};
use marketplace::runtime::FakeRuntime;
use marketplace::time::DAY_NS;

const WASM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../target/wasm/marketplace.wasm.gz"
);
/// Issue 17's matching target.
const MATCH_TARGET: f64 = 50e6;
/// Projects an offer names at most (`terms.visible_to_projects`).
const NAMED: u64 = 8;
const PER_CALL: usize = 500;

fn owner(i: u64) -> Principal {
    Principal::self_authenticating(format!("projects bench owner {i}").as_bytes())
}

fn insider() -> Principal {
    Principal::self_authenticating(b"projects bench member of every project")
}

fn outsider() -> Principal {
    Principal::self_authenticating(b"projects bench member of none")
}

fn bystander() -> Principal {
    Principal::self_authenticating(b"projects bench member of another project")
}

/// The stable memory of the filled market, and how many projects it has.
fn fill(items: u32) -> (Vec<u8>, u64) {
    std::thread::Builder::new()
        .name("projects fill".into())
        .stack_size(64 << 20)
        .spawn(move || fill_here(items))
        .expect("a thread for the fill")
        .join()
        .expect("the native fill")
}

fn fill_here(items: u32) -> (Vec<u8>, u64) {
    let rt = FakeRuntime::new();
    rt.time.set(DEFAULT_TIME_NANOS);
    rt.controllers.borrow_mut().push(Host::default_controller());
    let now = DEFAULT_TIME_NANOS;
    let count = u64::from(items).clamp(NAMED, MAX_PROJECTS - 1);
    for i in 0..count {
        rt.caller.set(owner(i / MAX_PROJECTS_PER_OWNER as u64));
        let arg = ProjectCreateArg {
            name: format!("project {i}"),
            members: vec![insider()],
        };
        projects::create(&rt, arg).expect("project_create");
    }
    // One more, no offer's.
    rt.caller.set(bystander());
    let arg = ProjectCreateArg {
        name: "no offer's".into(),
        members: vec![],
    };
    projects::create(&rt, arg).expect("project_create");
    rt.caller.set(delegate());
    delegation::delegate(
        &rt,
        delegation::signed(&SECRET, &FakeRuntime::CANISTER_ID, delegate(), true, 1),
    )
    .expect("market_delegate");
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
        .enumerate()
        .map(|(i, item)| OfferInput {
            terms: Some(OfferTerms {
                visible_to_projects: Some(
                    (0..NAMED)
                        .map(|j| (i as u64 * NAMED + j) % count + 1)
                        .collect(),
                ),
                ..OfferTerms::default()
            }),
            item_id: item.id,
            start_ns: now,
            end_ns: now + 30 * DAY_NS,
            price_per_hour: 100 + i as u64 % 500,
            properties: vec![],
        })
        .collect();
    for chunk in offer_inputs.chunks(PER_CALL) {
        let arg = OffersCreateArg {
            provider: provider(),
            offers: chunk.to_vec(),
        };
        offers::create_batch(&rt, arg).expect("offers_create");
    }
    marketplace::lifecycle::pre_upgrade().expect("native pre_upgrade");
    (marketplace::memory::stable_bytes(), count)
}

fn request(host: &mut Host, who: Principal) -> (OffersetView, u64) {
    let arg = ResourceRequest {
        duration_seconds: 3600,
        image: IMAGE.into(),
        offers: Some(3),
        ..ResourceRequest::default()
    };
    let reply = host
        .update(who, "offerset_request", &candid::encode_one(arg).unwrap())
        .unwrap_or_else(|r| panic!("offerset_request: {r}"));
    let view: Result<OffersetView, MarketError> = candid::decode_one(&reply).unwrap();
    (view.expect("offerset_request"), host.last_instructions())
}

pub fn run(items: u32, report: &mut Report) {
    let items = items.max(10);
    let wasm =
        std::fs::read(WASM).unwrap_or_else(|e| panic!("{WASM}: {e}; run scripts/build.sh first"));
    let (stable, count) = fill(items);
    let mut host = Host::new();
    host.set_time(DEFAULT_TIME_NANOS);
    host.set_instruction_limits(InstructionLimits {
        install: u64::MAX / 4,
        ..InstructionLimits::default()
    });
    host.install_on_stable(&wasm, stable, &candid::encode_one(None::<InitArg>).unwrap())
        .unwrap_or_else(|r| panic!("post_upgrade on the native state: {r}"));
    let size = format!(
        "{} items, {} projects",
        human(f64::from(items)),
        human(count as f64)
    );

    let (view, instructions) = request(&mut host, outsider());
    assert_eq!(view.offerset.result, OffersetResult::No, "{view:?}");
    report.at_most(
        format!("wasm instr., offerset_request past every project-private offer [{size}]"),
        instructions as f64,
        MATCH_TARGET,
        "",
    );
    let (view, instructions) = request(&mut host, bystander());
    assert_eq!(view.offerset.result, OffersetResult::No, "{view:?}");
    report.at_most(
        format!("wasm instr., the same by a member of another project only [{size}]"),
        instructions as f64,
        MATCH_TARGET,
        "",
    );
    let (view, instructions) = request(&mut host, insider());
    assert_eq!(view.offers.len(), 3, "{view:?}");
    report.at_most(
        format!("wasm instr., offerset_request by a member of every project [{size}]"),
        instructions as f64,
        MATCH_TARGET,
        "",
    );
}
