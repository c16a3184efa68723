//! The `status` query: what an operator needs to see at a glance.

use crate::config::{self, Config};
use crate::counters::{self, Counters};
use crate::runtime::Runtime;
use crate::{cycles, manager, memory};
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
    /// Queued tasks that have failed `manager::MAX_ATTEMPTS` runs or more; still retried.
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
        task_queue_len: manager::queue_len(),
        next_task_due: manager::next_due(),
        tasks_overdue: manager::overdue(rt.time()),
        tasks_failing: manager::failing(),
        cycles_balance: rt.liquid_cycles().into(),
        cycles_burn_per_day: cycles::burn_per_day().map(Nat::from),
        config: config::get(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::FakeRuntime;

    #[test]
    fn reports_queue_balance_and_burn() {
        let rt = FakeRuntime::new();
        rt.liquid_cycles.set(1_000);
        manager::start(&rt, &config::get());
        let t0 = rt.time();
        manager::run_due(&rt, || true);
        rt.time.set(t0 + config::get().sample_interval_ns());
        rt.liquid_cycles.set(900);
        manager::run_due(&rt, || true);

        let status = status(&rt);
        assert_eq!(status.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(status.task_queue_len, 1);
        assert_eq!(
            status.next_task_due,
            Some(t0 + 2 * config::get().sample_interval_ns())
        );
        assert_eq!(status.cycles_balance, Nat::from(900u32));
        // 100 cycles per hour with the default hourly interval.
        assert_eq!(status.cycles_burn_per_day, Some(Nat::from(2_400u32)));
        assert_eq!(status.tasks_overdue, 0);
        assert_eq!(status.tasks_failing, 0);
        assert_eq!(status.counters.tasks_run, 2);
        assert_eq!(status.counters.tasks_retried, 0);
        assert!(status.stable_memory_pages > 0);
        assert_eq!(status.config, Config::default());
    }

    #[test]
    fn reports_overdue_tasks() {
        let rt = FakeRuntime::new();
        manager::start(&rt, &config::get());
        // The first sample is due at once and has not run.
        assert_eq!(status(&rt).tasks_overdue, 1);
        manager::run_due(&rt, || true);
        assert_eq!(status(&rt).tasks_overdue, 0);
        rt.time.set(rt.time() + config::get().sample_interval_ns());
        assert_eq!(status(&rt).tasks_overdue, 1);
    }
}
