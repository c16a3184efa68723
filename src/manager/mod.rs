//! The manager: one queue of tasks in stable memory, ordered by due time, driven by one timer
//! armed for the earliest task.

mod queue;
mod task;

pub use queue::{len as queue_len, next_due};
pub use task::Task;

use crate::config::Config;
use crate::counters::{self, Counter};
use crate::runtime::Runtime;

/// Instructions one timer run may use before it yields to the next run: a quarter of the
/// 40 B update limit leaves room for the task that is running when the check passes.
const TIMER_INSTRUCTION_BUDGET: u64 = 10_000_000_000;

/// Runs the tasks due at the runtime's time, earliest first, scheduling their follow-ups, while
/// `keep_going` allows. Returns when the earliest remaining task is due, for the timer.
pub fn run_due(rt: &impl Runtime, mut keep_going: impl FnMut() -> bool) -> Option<u64> {
    let now = rt.time();
    while keep_going() {
        let Some(task) = queue::pop_due(now) else {
            break;
        };
        for (due, follow_up) in task.run(rt, now) {
            queue::schedule(due, follow_up);
        }
        counters::bump(Counter::TasksRun);
    }
    next_due()
}

/// Queues `task` at `due_ns` and makes sure the timer fires by then. Market code calls this
/// for every follow-up it needs (an offerset's expiry, a lease's start and end).
pub fn schedule(rt: &impl Runtime, due_ns: u64, task: Task) {
    queue::schedule(due_ns, task);
    if next_due().is_some_and(|next| next >= due_ns) {
        rt.arm_manager_timer(Some(due_ns));
    }
}

/// The timer's entry point: runs what is due within the budget, then re-arms the timer.
pub fn on_timer(rt: &impl Runtime) {
    counters::bump(Counter::TimerRuns);
    let next = run_due(rt, || rt.instructions() < TIMER_INSTRUCTION_BUDGET);
    rt.arm_manager_timer(next);
}

/// Called at install and after every upgrade: leaves exactly one `SampleCycles` queued, due no
/// later than one interval from now (at once on a fresh install), and arms the timer, which
/// install and upgrade switch off.
pub fn start(rt: &impl Runtime, config: &Config) {
    let now = rt.time();
    let latest = now.saturating_add(config.sample_interval_ns());
    let due = queue::remove_all(&Task::SampleCycles)
        .into_iter()
        .min()
        .map_or(now, |due| due.min(latest));
    queue::schedule(due, Task::SampleCycles);
    rt.arm_manager_timer(next_due());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;
    use crate::cycles;
    use crate::runtime::FakeRuntime;

    const SECOND: u64 = 1_000_000_000;

    fn interval() -> u64 {
        config::get().sample_interval_ns()
    }

    #[test]
    fn start_queues_one_sample_now_and_arms_the_timer() {
        let rt = FakeRuntime::new();
        start(&rt, &config::get());
        assert_eq!(queue_len(), 1);
        assert_eq!(next_due(), Some(rt.time()));
        assert_eq!(rt.armed_timer.get(), Some(rt.time()));
    }

    #[test]
    fn repeated_starts_keep_exactly_one_sample_task() {
        let rt = FakeRuntime::new();
        let t0 = rt.time();
        start(&rt, &config::get());
        // Duplicates (e.g. from an older version) collapse into the earliest.
        queue::schedule(t0 + 5 * SECOND, Task::SampleCycles);
        for i in 1..=50 {
            rt.time.set(t0 + i);
            start(&rt, &config::get());
        }
        assert_eq!(queue_len(), 1);
        assert_eq!(next_due(), Some(t0));
        assert_eq!(rt.armed_timer.get(), Some(t0));
    }

    #[test]
    fn start_pulls_a_far_sample_in_when_the_interval_shrinks() {
        let rt = FakeRuntime::new();
        let t0 = rt.time();
        queue::schedule(t0 + 100 * interval(), Task::SampleCycles);
        start(&rt, &config::get());
        assert_eq!(next_due(), Some(t0 + interval()));
    }

    #[test]
    fn run_due_runs_due_tasks_in_order_and_reschedules() {
        let rt = FakeRuntime::new();
        let t0 = rt.time();
        queue::schedule(t0 + 2 * SECOND, Task::SampleCycles);
        queue::schedule(t0 + SECOND, Task::SampleCycles);
        queue::schedule(t0 + 3 * SECOND, Task::SampleCycles);

        rt.time.set(t0 + 2 * SECOND);
        let next = run_due(&rt, || true);
        assert_eq!(counters::get().tasks_run, 2);
        // Both sampled at the same time: one sample.
        assert_eq!(cycles::len(), 1);
        assert_eq!(next, Some(t0 + 3 * SECOND));
        // The two that ran are back, one interval after the run.
        assert_eq!(queue_len(), 3);

        // Nothing is due any more: a repeated run (a retried timer) does nothing.
        assert_eq!(run_due(&rt, || true), Some(t0 + 3 * SECOND));
        assert_eq!(counters::get().tasks_run, 2);
    }

    #[test]
    fn run_due_stops_when_the_budget_says_so() {
        let rt = FakeRuntime::new();
        let t0 = rt.time();
        for _ in 0..3 {
            queue::schedule(t0, Task::SampleCycles);
        }
        let mut allowed = 1;
        let next = run_due(&rt, || {
            allowed -= 1;
            allowed >= 0
        });
        assert_eq!(counters::get().tasks_run, 1);
        // Two are still due now, so the timer fires again at once.
        assert_eq!(next, Some(t0));
    }

    #[test]
    fn on_timer_counts_runs_respects_instructions_and_rearms() {
        let rt = FakeRuntime::new();
        let t0 = rt.time();
        start(&rt, &config::get());
        rt.instructions.set(TIMER_INSTRUCTION_BUDGET);
        on_timer(&rt);
        assert_eq!(counters::get().tasks_run, 0);
        assert_eq!(rt.armed_timer.get(), Some(t0));

        rt.instructions.set(0);
        on_timer(&rt);
        assert_eq!(counters::get().timer_runs, 2);
        assert_eq!(counters::get().tasks_run, 1);
        assert_eq!(rt.armed_timer.get(), Some(t0 + interval()));
    }
}
