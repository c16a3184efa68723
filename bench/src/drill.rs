//! The upgrade drill: a canister full of state (a catalog of `offerings` offerings, a market
//! with leases in every phase, audit entries, an upload in progress, changed policies, an
//! Ironic configuration) is upgraded to the same wasm, and every exported view is compared
//! before and after; then the clock is moved to each next due task, on the upgraded canister
//! and on a copy that was never upgraded, and both must do the same work at the same time.
//!
//! One routine for both sizes: `tests/upgrade_drill.rs` runs it small (CI) and
//! `bench --upgrade-drill` at 100 k offerings. This file depends only on `candid`,
//! `candid_parser`, `ic0-host`, `marketplace`, `serde` and `serde_bytes`, which both crates have.
//!
//! **Coverage.** Every query method of `candid/marketplace.did` (parsed with `candid_parser`)
//! and every `canister_query` export of the wasm must be called by [`snapshot`] or be named in
//! [`NOT_COMPARED`] with the reason; a new query fails the drill until it is covered.
//!
//! **Masks.** What legitimately changes with an upgrade is masked before comparing: the heap
//! and stable-memory sizes and the cycle balance (`status`, `/metrics`), the query's own
//! instructions (`/metrics`), and `state_digest`'s search-index snapshot region (written by
//! `pre_upgrade`). Everything else must be byte-for-byte the same Candid.

#[path = "drill/calls.rs"]
mod calls;
#[path = "drill/catalog.rs"]
mod catalog;
#[path = "drill/catalog_views.rs"]
mod catalog_views;
#[path = "drill/interface.rs"]
mod interface;
#[path = "drill/market.rs"]
mod market;
#[path = "drill/market_views.rs"]
mod market_views;
#[path = "drill/report.rs"]
mod report;
#[path = "drill/self_check.rs"]
mod self_check;
#[path = "drill/timers.rs"]
mod timers;
#[path = "drill/views.rs"]
mod views;

pub use interface::{wasm_queries, Did};
pub use report::DrillReport;

use calls::{query, status};
use candid::Principal;
use catalog::build_catalog;
use ic0_host::{Host, InstructionLimits};
use market::build_market;
use marketplace::api::*;
use marketplace::time::DAY_NS;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};
use timers::check_timers;
use views::{compare, metric, snapshot, Views};

const SEED: u64 = 7;
const PER_PROVIDER: u32 = 100;
const IMAGE: &str = "ubuntu-24.04";
const PEZ_SKU: &str = "2C.small";
const NODE_SKU: &str = "4D.large";
const NODE_CLASS: &str = "baremetal.large";
/// Nodes of this class fail their deploy (`ironic_sim_set_failure`).
const FLAKY_CLASS: &str = "baremetal.flaky";
/// The market provider (simulated Ironic) and a second one pointed at a real Ironic.
const MARKET_SECRET: [u8; 32] = [41; 32];
const IRONIC_SECRET: [u8; 32] = [42; 32];
const IRONIC_ENDPOINT: &str = "https://ironic.drill.example:6385";
/// A key nobody uses: views of unknown things are compared too.
const UNKNOWN_SECRET: [u8; 32] = [43; 32];
/// Longest stretch the timer check covers after the upgrade.
const TIMER_HORIZON_NS: u64 = 4 * DAY_NS;
/// Most due points the timer check steps through.
const TIMER_MAX_STEPS: usize = 400;

/// Query methods the drill deliberately does not compare, with the reason.
pub const NOT_COMPARED: &[(&str, &str)] = &[
    (
        "transform_",
        "HTTPS outcall transforms: pure functions of their argument, no state to compare",
    ),
    (
        "state_digest_page",
        "the digests state_digest gives (compared, masked), a page at a time: its chunk \
         boundaries move with the snapshot regions pre_upgrade writes, so it cannot be masked",
    ),
];

/// What to build.
pub struct DrillConfig {
    /// Catalog offerings (providers of 100 each).
    pub offerings: u32,
    /// Sets of leases: each set has about a dozen executions in every phase.
    pub lease_sets: u32,
    /// The wasm (plain or gzipped) installed, then upgraded to.
    pub wasm: Vec<u8>,
    /// `candid/marketplace.did`.
    pub did: String,
    /// Progress lines (phase names), e.g. to stderr.
    pub progress: fn(&str),
    /// Every how many catalog providers has its offerings and export walked (1: every one).
    /// `state_digest` covers every region in any case.
    pub provider_stride: usize,
    /// Pages walked of the whole-catalog searches in the PemCsv and Json formats (the Records
    /// walk is always complete).
    pub format_pages: usize,
}

/// What the snapshot needs to know of the state it walks.
#[derive(Default)]
struct World {
    /// Catalog providers' secret keys (removed ones included) and their offering keys.
    catalog: Vec<([u8; 32], Vec<String>)>,
    consumers: Vec<Principal>,
    skus: BTreeSet<String>,
    upload_id: u64,
}

/// Why `method` is not compared, if it is one of [`NOT_COMPARED`].
fn not_compared(method: &str) -> Option<&'static str> {
    NOT_COMPARED
        .iter()
        .find(|(prefix, _)| method.starts_with(prefix))
        .map(|(_, why)| *why)
}

/// The query methods of `all` that are neither in `called` nor deliberately not compared.
pub fn uncovered(all: &BTreeSet<String>, called: &BTreeSet<String>) -> Vec<String> {
    all.iter()
        .filter(|method| !called.contains(*method) && not_compared(method).is_none())
        .cloned()
        .collect()
}

/// Every query method (of the .did and of the wasm) must be compared or deliberately not.
fn check_coverage(
    did: &Did,
    wasm: &[u8],
    views: &Views,
    report: &mut DrillReport,
) -> Result<(), String> {
    let mut all = did.queries();
    all.extend(wasm_queries(wasm));
    let called: BTreeSet<String> = views.calls.keys().cloned().collect();
    report.not_compared = all
        .iter()
        .filter_map(|method| not_compared(method).map(|why| format!("{method}: {why}")))
        .collect();
    let uncovered = uncovered(&all, &called);
    let unknown: Vec<&String> = called.iter().filter(|m| !all.contains(*m)).collect();
    if !uncovered.is_empty() || !unknown.is_empty() {
        return Err(format!(
            "query methods not covered by the upgrade drill: {uncovered:?} (add them to drill::snapshot, or to NOT_COMPARED with the reason); methods called that are not queries of the interface: {unknown:?}"
        ));
    }
    Ok(())
}

// --- the drill ---

/// Builds the state, snapshots every view, upgrades, snapshots again, compares, and checks the
/// timers against a copy of the canister that was not upgraded.
pub fn run(config: &DrillConfig) -> DrillReport {
    let did = Did::parse(&config.did);
    let mut report = DrillReport::default();
    let progress = config.progress;
    let started = Instant::now();
    let mut host = Host::new();
    let init = InitArg {
        cycles_sample_interval_seconds: Some(24 * 3600),
        cycles_history_len: Some(50),
        ..InitArg::default()
    };
    host.install(&config.wasm, &candid::encode_one(Some(init)).unwrap())
        .expect("install");
    host.tick();
    let mut world = World::default();
    progress("market: items, offers and leases in every phase");
    build_market(&mut host, config.lease_sets, &mut world);
    progress("catalog: importing");
    build_catalog(&mut host, config.offerings, &mut world, progress);
    report.build_time = started.elapsed();
    let stats = status(&mut host);
    assert_eq!(stats.tasks_overdue, 0, "{stats:?}");

    // Phases at the upgrade.
    for id in 1u64.. {
        let found: Result<Execution, MarketError> = query(
            &mut host,
            Host::default_controller(),
            "execution_get",
            (id,),
        );
        match found {
            Ok(execution) => {
                *report
                    .phases
                    .entry(format!("{:?}", execution.phase))
                    .or_default() += 1
            }
            Err(_) => break,
        }
    }
    report.leases = report.phases.values().sum();
    report.providers = world.catalog.len() as u32;
    report.offerings = metric(&mut host, "marketplace_offerings");

    // Queries run without the query limit, so a view too large for it shows as a difference
    // of its own rather than a trap here.
    host.set_instruction_limits(InstructionLimits {
        query: u64::MAX / 4,
        ..InstructionLimits::default()
    });
    progress("snapshot before the upgrade");
    let t = Instant::now();
    let sample = (config.provider_stride.max(1), config.format_pages.max(1));
    let before = snapshot(&did, &mut host, &world, sample);
    report.snapshot_time = t.elapsed();
    let mut slowest: Vec<(String, Duration, u64)> = before
        .time
        .iter()
        .map(|(m, t)| (m.clone(), *t, before.instructions[m]))
        .collect();
    slowest.sort_by_key(|(_, t, _)| std::cmp::Reverse(*t));
    report.slowest = slowest.into_iter().take(6).collect();
    if let Err(e) = check_coverage(&did, &config.wasm, &before, &mut report) {
        panic!("{e}");
    }
    let control_dir = std::env::temp_dir().join(format!(
        "upgrade-drill-{}-{}",
        std::process::id(),
        config.offerings
    ));
    host.save(&control_dir).expect("save the control copy");

    progress("upgrade");
    let t = Instant::now();
    host.set_instruction_limits(InstructionLimits::default());
    host.upgrade(&config.wasm, &candid::encode_one(None::<InitArg>).unwrap())
        .expect("upgrade");
    report.upgrade_time = t.elapsed();
    report.upgrade_instructions = host.last_instructions();
    progress(&format!(
        "upgraded: {} instructions in {:.2} s",
        report.upgrade_instructions,
        report.upgrade_time.as_secs_f64()
    ));
    if did.methods.contains_key("market_self_check") {
        // The market's rules over every record of the upgraded canister, at the page cap and
        // the real query limit: any violation fails the drill.
        let run = self_check::walk(&mut host, Host::default_controller(), self_check::CAP);
        assert!(
            run.violations.is_empty(),
            "market_self_check after the upgrade: {} violation(s):\n{}",
            run.violations.len(),
            run.violations.join("\n")
        );
        progress(&format!(
            "self-check: {} records in {} pages, at most {} instructions a page",
            run.records, run.pages, run.max_page_instructions
        ));
        report.self_check_records = run.records;
        report.self_check_page_instructions = run.max_page_instructions;
    }
    host.set_instruction_limits(InstructionLimits {
        query: u64::MAX / 4,
        ..InstructionLimits::default()
    });

    progress("snapshot after the upgrade");
    let after = snapshot(&did, &mut host, &world, sample);
    report.views = before.calls.len();
    report.pages = before.pages();
    report.differences = compare(&did, &before, &after, 20);

    progress("timers: the upgraded canister against one that was not upgraded");
    let t = Instant::now();
    let mut control = Host::load(&control_dir).expect("load the control copy");
    let _ = std::fs::remove_dir_all(&control_dir);
    control.set_instruction_limits(InstructionLimits {
        query: u64::MAX / 4,
        ..InstructionLimits::default()
    });
    check_timers(&did, &mut host, &mut control, &mut report);
    report.timer_time = t.elapsed();
    report
}
