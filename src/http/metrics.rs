//! `/metrics`: the canister's state in the Prometheus text exposition format 0.0.4.
//!
//! Everything is read from what is already kept cheaply: the stable counters, the catalog
//! store's counts, the market's heap index (item statuses), the task queue and the cycle
//! samples. Leases by phase are the one exception: executions live only in stable memory, so
//! they are counted by a scan, and only while there are at most [`MAX_SCANNED_EXECUTIONS`]
//! of them (a query must stay cheap whatever the state's size).

use crate::counters::{self, Counters};
use crate::market::types::{ItemStatus, Phase};
use crate::market::{index, store};
use crate::runtime::Runtime;
use crate::{catalog, cycles, memory, queue};
use std::fmt::Write as _;

/// Executions a `/metrics` request decodes at most to count leases by phase (each is a Candid
/// record in stable memory, tens of thousands of instructions to read).
pub const MAX_SCANNED_EXECUTIONS: u64 = 2_000;

pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

const ITEM_STATUSES: [ItemStatus; 6] = [
    ItemStatus::Available,
    ItemStatus::Reserving,
    ItemStatus::Leased,
    ItemStatus::Rebuilding,
    ItemStatus::Maintenance,
    ItemStatus::Archiving,
];

const PHASES: [Phase; 11] = [
    Phase::Offered,
    Phase::Accepted,
    Phase::Rejected,
    Phase::Expired,
    Phase::Waiting,
    Phase::Preparing,
    Phase::Available,
    Phase::Releasing,
    Phase::Completed,
    Phase::Cancelled,
    Phase::Failed,
];

/// The values `/metrics` reports, gathered at one point of the message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub offerings: u64,
    pub providers: u64,
    /// Per [`ITEM_STATUSES`] entry.
    pub items: [u64; 6],
    pub open_offers: u64,
    /// Executions ever created (ids are never reused).
    pub executions: u64,
    /// Per [`PHASES`] entry; `None` when there were too many executions to scan.
    pub leases: Option<[u64; 11]>,
    pub tasks_queued: u64,
    pub tasks_overdue: u64,
    pub tasks_failing: u64,
    pub stable_memory_bytes: u64,
    pub heap_bytes: u64,
    pub cycles_balance: u128,
    pub cycles_burn_per_day: Option<u128>,
    pub counters: Counters,
    /// The web app certified at install or upgrade.
    pub assets: super::assets::Stats,
    /// Instructions this query had executed when the snapshot was complete.
    pub instructions: u64,
}

/// Reads every value; the instruction count last, so it covers the gathering.
pub fn gather(rt: &impl Runtime) -> Snapshot {
    let mut items = [0u64; 6];
    index::for_each_sku(|_, statuses| {
        for (_, status) in statuses {
            items[status_index(status)] += 1;
        }
    });
    let executions = store::next_execution_id().saturating_sub(1);
    let leases = (executions <= MAX_SCANNED_EXECUTIONS).then(|| {
        let mut leases = [0u64; 11];
        store::for_each_execution(|execution| leases[phase_index(execution.phase)] += 1);
        leases
    });
    let mut snapshot = Snapshot {
        offerings: catalog::store::offering_count(),
        providers: catalog::store::provider_count(),
        items,
        open_offers: index::len() as u64,
        executions,
        leases,
        tasks_queued: queue::queue_len(),
        tasks_overdue: queue::overdue(rt.time()),
        tasks_failing: queue::failing(),
        stable_memory_bytes: memory::stable_pages().saturating_mul(65_536),
        heap_bytes: memory::heap_bytes(),
        cycles_balance: rt.liquid_cycles(),
        cycles_burn_per_day: cycles::burn_per_day(),
        counters: counters::get(),
        assets: super::assets::stats(),
        instructions: 0,
    };
    snapshot.instructions = rt.instructions();
    snapshot
}

fn status_index(status: ItemStatus) -> usize {
    match status {
        ItemStatus::Available => 0,
        ItemStatus::Reserving => 1,
        ItemStatus::Leased => 2,
        ItemStatus::Rebuilding => 3,
        ItemStatus::Maintenance => 4,
        ItemStatus::Archiving => 5,
    }
}

fn phase_index(phase: Phase) -> usize {
    match phase {
        Phase::Offered => 0,
        Phase::Accepted => 1,
        Phase::Rejected => 2,
        Phase::Expired => 3,
        Phase::Waiting => 4,
        Phase::Preparing => 5,
        Phase::Available => 6,
        Phase::Releasing => 7,
        Phase::Completed => 8,
        Phase::Cancelled => 9,
        Phase::Failed => 10,
    }
}

/// Writes metric families: `# HELP`, `# TYPE`, then the samples, each line "\n"-terminated.
struct Exposition(String);

impl Exposition {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP marketplace_{name} {help}");
        let _ = writeln!(self.0, "# TYPE marketplace_{name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl std::fmt::Display) {
        let _ = write!(self.0, "marketplace_{name}");
        if !labels.is_empty() {
            // Label values here are fixed identifiers: nothing to escape.
            let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            let _ = write!(self.0, "{{{}}}", labels.join(","));
        }
        let _ = writeln!(self.0, " {value}");
    }

    fn single(&mut self, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }
}

/// The exposition text of `s`.
pub fn render(s: &Snapshot) -> String {
    let mut out = Exposition(String::with_capacity(4096));
    let gauge = "gauge";
    let counter = "counter";

    out.single(
        "offerings",
        gauge,
        "Offerings in the catalog (visible or not).",
        s.offerings,
    );
    out.single("providers", gauge, "Providers with a catalog.", s.providers);
    out.family("items", gauge, "Market inventory items by status.");
    for status in ITEM_STATUSES {
        let value = s.items[status_index(status)];
        out.sample("items", &[("status", status.name())], value);
    }
    out.single(
        "open_offers",
        gauge,
        "Open offers of offerable items.",
        s.open_offers,
    );
    out.single(
        "executions",
        gauge,
        "Executions (offers in offersets, contracts, leases) ever created.",
        s.executions,
    );
    if let Some(leases) = &s.leases {
        out.family(
            "leases",
            gauge,
            &format!(
                "Executions by phase; counted by a scan, so reported only while there are at \
                 most {MAX_SCANNED_EXECUTIONS} executions (absent above)."
            ),
        );
        for phase in PHASES {
            let value = leases[phase_index(phase)];
            out.sample("leases", &[("phase", phase.name())], value);
        }
    }
    out.single(
        "tasks_queued",
        gauge,
        "Tasks waiting in the queue.",
        s.tasks_queued,
    );
    out.single(
        "tasks_overdue",
        gauge,
        "Queued tasks already due but not run yet (counted up to 10000).",
        s.tasks_overdue,
    );
    out.single(
        "tasks_failing",
        gauge,
        "Queued tasks that failed their maximum number of attempts or more; still retried.",
        s.tasks_failing,
    );
    out.single(
        "stable_memory_bytes",
        gauge,
        "Stable memory size in bytes.",
        s.stable_memory_bytes,
    );
    out.single(
        "heap_bytes",
        gauge,
        "Wasm heap size in bytes.",
        s.heap_bytes,
    );
    out.single(
        "cycles_balance",
        gauge,
        "Cycles the canister can spend now (balance less frozen and reserved).",
        s.cycles_balance,
    );
    if let Some(burn) = s.cycles_burn_per_day {
        out.single(
            "cycles_burn_per_day",
            gauge,
            "Cycles burnt per day, from the balance samples (absent until two are taken).",
            burn,
        );
    }
    let c = &s.counters;
    out.single(
        "updates_total",
        counter,
        "Update calls executed.",
        c.updates,
    );
    out.single(
        "timer_runs_total",
        counter,
        "Runs of the task queue's timer.",
        c.timer_runs,
    );
    out.single(
        "tasks_run_total",
        counter,
        "Queued tasks executed.",
        c.tasks_run,
    );
    out.single(
        "tasks_retried_total",
        counter,
        "Task runs that asked to be retried later.",
        c.tasks_retried,
    );
    out.single(
        "outcalls_total",
        counter,
        "HTTPS outcalls made.",
        c.outcalls,
    );
    out.single(
        "outcall_failures_total",
        counter,
        "Outcalls that gave no usable answer: rejected, non-2xx, or unreadable.",
        c.outcall_failures,
    );
    out.single(
        "outcall_cycles_total",
        counter,
        "Cycles HTTPS outcalls cost: attached less refunded.",
        c.outcall_cycles,
    );
    out.single(
        "http_assets",
        gauge,
        "Files of the web app the canister serves, certified.",
        s.assets.files,
    );
    out.single(
        "http_asset_bytes",
        gauge,
        "Bytes of those files (their gzip copies left out).",
        s.assets.bytes,
    );
    out.single(
        "http_assets_certify_instructions",
        gauge,
        "Instructions the last install or upgrade took to certify them (the tree is on the heap).",
        s.assets.instructions,
    );
    out.single(
        "query_instructions",
        gauge,
        "Instructions this /metrics query executed to gather its values (performance counter).",
        s.instructions,
    );
    out.0
}

#[cfg(test)]
mod tests;
