//! The `status` query: what an operator needs to see at a glance.

use crate::config::{self, Config};
use crate::counters::{self, Counters};
use crate::runtime::Runtime;
use crate::{cycles, memory, queue};
use candid::{CandidType, Deserialize, Nat};

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
pub struct Status {
    pub version: String,
    pub counters: Counters,
    pub stable_memory_pages: u64,
    pub heap_bytes: u64,
    pub task_queue_len: u64,
    pub next_task_due: Option<u64>,
    /// Queued tasks already due but not run yet (counted up to 10 000).
    pub tasks_overdue: u64,
    /// Queued tasks that have failed `queue::MAX_ATTEMPTS` runs or more; still retried.
    pub tasks_failing: u64,
    pub cycles_balance: Nat,
    pub cycles_burn_per_day: Option<Nat>,
    pub config: Config,
}

pub fn status(rt: &impl Runtime) -> Status {
    Status {
        version: env!("CARGO_PKG_VERSION").to_string(),
        counters: counters::get(),
        stable_memory_pages: memory::stable_pages(),
        heap_bytes: memory::heap_bytes(),
        task_queue_len: queue::queue_len(),
        next_task_due: queue::next_due(),
        tasks_overdue: queue::overdue(rt.time()),
        tasks_failing: queue::failing(),
        cycles_balance: rt.liquid_cycles().into(),
        cycles_burn_per_day: cycles::burn_per_day().map(Nat::from),
        config: config::get(),
    }
}

#[cfg(test)]
mod tests;
