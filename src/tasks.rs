//! The dispatcher: the one module that knows what every task does. The queue (`queue`) stores
//! tasks and runs batches without knowing their work; the areas schedule tasks without knowing
//! who runs them; the timers reach this module through the entry points the canister registers
//! with its runtime ([`ENTRY_POINTS`]).

use crate::counters::{self, Counter};
use crate::queue::{self, Outcome, Task};
use crate::runtime::{EntryPoints, Runtime};
use crate::{config, cycles, market, provision};

/// Instructions one timer run may use before it yields to the next run: a quarter of the
/// 40 B update limit leaves room for the task that is running when the check passes.
pub(crate) const TIMER_INSTRUCTION_BUDGET: u64 = 10_000_000_000;

/// What the IC runtime's timers run (registered by `init` and `post_upgrade`).
pub const ENTRY_POINTS: EntryPoints<crate::runtime::IcRuntime> = EntryPoints {
    on_timer,
    on_watchdog,
};

/// The timer's (and the watchdog's) entry point: runs what is due within the budget, then
/// re-arms the timer.
pub fn on_timer(rt: &impl Runtime) {
    counters::bump(Counter::TimerRuns);
    let next = run_due(rt, || rt.instructions() < TIMER_INSTRUCTION_BUDGET);
    rt.arm_timer(next);
    // The `self-check` build checks the market's rules after every run (see `candid_io`).
    #[cfg(all(feature = "self-check", not(test)))]
    if let Err(violations) = market::invariants::self_check() {
        ic_cdk::trap(violations);
    }
}

/// The watchdog's entry point: runs the queue like the timer when a task is overdue (the timer
/// was lost), and otherwise only re-arms the timer, so its runs cost little and are not counted.
pub fn on_watchdog(rt: &impl Runtime) {
    let next = queue::next_due();
    if next.is_some_and(|due| due <= rt.time()) {
        on_timer(rt);
    } else {
        rt.arm_timer(next);
    }
}

/// Runs the tasks due at the runtime's time, each by [`run`], while `keep_going` allows
/// (see `queue::run_due`). Returns when the earliest remaining task is due.
pub fn run_due(rt: &impl Runtime, keep_going: impl FnMut() -> bool) -> Option<u64> {
    queue::run_due(rt, keep_going, |task, now| run(rt, task, now))
}

/// Runs `task` at `now`: the follow-ups to schedule, or a request to retry later.
pub fn run<R: Runtime>(rt: &R, task: &Task, now: u64) -> Outcome {
    // No task asks for a retry yet: the market's tasks are synchronous, and a provisioning
    // step, which calls Ironic, handles its own retries.
    Ok(run_once(rt, task, now))
}

fn run_once<R: Runtime>(rt: &R, task: &Task, now: u64) -> Vec<(u64, Task)> {
    match *task {
        Task::SampleCycles => {
            let config = config::get();
            cycles::record(now, rt.liquid_cycles(), config.cycles_history_len);
            vec![(
                now.saturating_add(config.sample_interval_ns()),
                Task::SampleCycles,
            )]
        }
        // Market tasks schedule their own follow-ups through `queue::schedule`, or return them
        // (the retention's).
        Task::ExpireOfferset { offerset_id } => {
            market::offerset::expire(rt, offerset_id);
            vec![]
        }
        Task::ForgetOfferset { offerset_id } => {
            market::retention::forget_offerset(now, offerset_id);
            vec![]
        }
        Task::ForgetExecution { execution_id } => {
            market::retention::forget_execution(now, execution_id)
        }
        Task::ForgetOffer { offer_id } => market::retention::forget_offer(now, offer_id),
        Task::SweepClosed { offers, after } => market::retention::sweep(offers, after),
        Task::ExpireOffer { offer_id } => {
            market::offers::expire(rt, offer_id);
            vec![]
        }
        Task::StartLease { execution_id } => {
            market::lease::start(rt, execution_id);
            vec![]
        }
        Task::EndLease { execution_id } => {
            market::lease::finish(rt, execution_id);
            vec![]
        }
        Task::CheckStuck { execution_id } => {
            market::lease::check_stuck(rt, execution_id);
            vec![]
        }
        Task::FinishRebuild { item_id } => {
            market::inventory::finish_rebuild(rt, item_id);
            vec![]
        }
        // A step awaits Ironic: it runs in its own future, after the batch. It leaves a
        // follow-up queued before its first await when its work is not done, so a trap after
        // an await loses the future but not the queue.
        Task::ProvisionStep { item_id } => {
            rt.spawn(move |rt: &R| Box::pin(provision::service::step(rt, item_id)));
            vec![]
        }
        // The ledger's calls, like Ironic's, run in their own futures.
        Task::Settle { execution_id } => {
            rt.spawn(move |rt: &R| Box::pin(market::payments::settle(rt, execution_id)));
            vec![]
        }
        Task::RefreshCurrency => {
            rt.spawn(|rt: &R| Box::pin(market::payments::refresh_currency(rt)));
            vec![]
        }
        Task::SimAdvance { item_id } => {
            provision::sim::advance(rt, item_id);
            vec![]
        }
    }
}

#[cfg(test)]
mod tests;
