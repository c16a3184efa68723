//! What the upgrade drill found: the report and its one-line summary.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// What the drill found.
#[derive(Debug, Default)]
pub struct DrillReport {
    pub offerings: u64,
    pub providers: u32,
    /// Executions in the market (every phase).
    pub leases: u64,
    /// Executions by phase, at the upgrade.
    pub phases: BTreeMap<String, u64>,
    /// Query methods compared.
    pub views: usize,
    /// Calls (pages) compared.
    pub pages: usize,
    /// Query methods of the interface and the wasm that are not compared, with the reason.
    pub not_compared: Vec<String>,
    /// Views that differ after the upgrade (empty when all is well).
    pub differences: Vec<String>,
    pub upgrade_instructions: u64,
    /// Records `market_self_check` checked after the upgrade (none broke a rule), and the
    /// most instructions one page at the cap took.
    pub self_check_records: u64,
    pub self_check_page_instructions: u64,
    pub upgrade_time: Duration,
    pub build_time: Duration,
    pub snapshot_time: Duration,
    /// Due points the timer check stepped through, and the tasks they ran.
    pub timer_steps: usize,
    pub timer_tasks: u64,
    /// What the timer runs did, from the audit log: "execution AVAILABLE", "offer EXPIRED", …
    pub timer_work: BTreeSet<String>,
    /// Timer-check failures: work late, or different from the canister that was not upgraded.
    pub timer_failures: Vec<String>,
    pub timer_time: Duration,
    /// The snapshot's slowest methods (wall time, all their calls).
    pub slowest: Vec<(String, Duration, u64)>,
}

impl DrillReport {
    /// The one-line summary.
    pub fn line(&self) -> String {
        format!(
            "upgrade: offerings={} leases={} views={} pages={} differences={} upgrade_instructions={} self_check_records={} self_check_page_instructions={} timer_steps={} timer_tasks={} timer_failures={}",
            self.offerings,
            self.leases,
            self.views,
            self.pages,
            self.differences.len(),
            self.upgrade_instructions,
            self.self_check_records,
            self.self_check_page_instructions,
            self.timer_steps,
            self.timer_tasks,
            self.timer_failures.len()
        )
    }
}
