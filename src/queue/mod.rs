//! The task queue: one queue of tasks in stable memory, ordered by due time, driven by one timer
//! armed for the earliest task.
//!
//! - **Batches.** Each timer run pops the due tasks earliest first and runs them while the
//!   message has instructions to spare and it has started fewer than [`MAX_STARTED_PER_RUN`]
//!   asynchronous tasks, then re-arms the timer for the earliest task left (at once when due
//!   tasks remain). A long backlog is worked off in several runs.
//! - **Retries.** A task whose run returns `Err(Retry)` is queued again after a backoff that
//!   doubles from 10 s up to an hour; after `MAX_ATTEMPTS` (20) failed runs it still stays
//!   queued, at the longest backoff, and `status.tasks_failing` counts it. No task is dropped.
//! - **Watchdog.** A run that traps rolls back, re-arming included, and ic-cdk-timers then drops
//!   the one-shot timer: nothing would run the queue until the next upgrade. An interval timer
//!   (which ic-cdk-timers reschedules before it runs, so a trap cannot lose it) runs the queue
//!   every [`WATCHDOG_INTERVAL_NS`] as well.

pub(crate) mod store;
mod task;

pub use store::{len as queue_len, next_due};
pub use task::{backoff_ns, Outcome, Task};

use crate::config::Config;
use crate::counters::{self, Counter};
use crate::runtime::Runtime;

/// Asynchronous tasks one run may start. Each runs after the batch, in the same message, up to
/// its first await (all of it against the simulated Ironic), where the budget check above cannot
/// see it: 1 000 leases ending at once started 1 000 provisioning steps after a 10 B batch and the
/// message trapped at the 40 B limit, on every retry. A step costs ~12 M instructions up to its
/// first await (bench, simulated Ironic), so 64 add ~0.8 B; with the cap the largest timer
/// message of that batch is 6.3 B. The rest stay due and the next run, at once, starts them.
pub const MAX_STARTED_PER_RUN: u64 = 64;

/// How often the watchdog runs the queue even when no timer is armed. It bounds how late tasks
/// run after a trapped timer run (at most this long), and its cost is one timer self-call per
/// run, 288 a day: negligible next to the lateness an hour-long watchdog would allow.
pub const WATCHDOG_INTERVAL_NS: u64 = 5 * crate::time::MINUTE_NS;

/// Most overdue tasks `status` counts: the count walks their keys.
const OVERDUE_COUNT_CAP: u64 = 10_000;

/// Runs the tasks due at the runtime's time in one batch, earliest first, each by `run` (the
/// dispatcher, `tasks::run`, or a test's script), scheduling their follow-ups and retries,
/// while `keep_going` allows (checked before each task, so a batch can end between any two
/// tasks and the rest waits for the next run). Returns when the earliest remaining task is
/// due, for the timer.
pub fn run_due(
    rt: &impl Runtime,
    mut keep_going: impl FnMut() -> bool,
    mut run: impl FnMut(&Task, u64) -> Outcome,
) -> Option<u64> {
    let now = rt.time();
    let (mut ran, mut retried, mut started) = (0, 0, 0);
    while started < MAX_STARTED_PER_RUN && keep_going() {
        let Some(entry) = store::pop_due(now) else {
            break;
        };
        ran += 1;
        started += u64::from(entry.task.is_async());
        match run(&entry.task, now) {
            Ok(follow_ups) => {
                for (due, follow_up) in follow_ups {
                    store::schedule(due, follow_up);
                }
            }
            Err(retry) => {
                retried += 1;
                let (due, entry) = entry.retried(now, retry);
                store::insert(due, entry);
            }
        }
    }
    // Once per batch, not per task: a batch of tasks with nothing left to do stays cheap.
    counters::add(Counter::TasksRun, ran);
    counters::add(Counter::TasksRetried, retried);
    next_due()
}

/// Queues `task` at `due_ns` and makes sure the timer fires by then. Market code calls this
/// for every follow-up it needs (an offerset's expiry, a lease's start and end).
pub fn schedule(rt: &impl Runtime, due_ns: u64, task: Task) {
    store::schedule(due_ns, task);
    if next_due().is_some_and(|next| next >= due_ns) {
        rt.arm_timer(Some(due_ns));
    }
}

/// A task queued by [`schedule_cancellable`], which [`cancel`] can take out again.
#[must_use]
pub struct Scheduled(store::Key);

/// Queues `task` as [`schedule`] does, for a caller that may find it not needed after all (a
/// backstop for a call whose answer might be lost).
pub fn schedule_cancellable(rt: &impl Runtime, due_ns: u64, task: Task) -> Scheduled {
    let key = store::insert(due_ns, task::QueuedTask::new(task));
    if next_due().is_some_and(|next| next >= due_ns) {
        rt.arm_timer(Some(due_ns));
    }
    Scheduled(key)
}

/// Takes a task queued by [`schedule_cancellable`] out, if it has not run yet, and arms the
/// timer for what is left.
pub fn cancel(rt: &impl Runtime, scheduled: Scheduled) {
    store::remove(scheduled.0);
    rearm(rt);
}

/// Queues `task` at `due_ns` without arming the timer: for tasks due long after the next cycle
/// sample (always queued), whose runs re-arm the timer for them. Code without a runtime at
/// hand (a phase change) schedules retention this way.
pub fn schedule_later(due_ns: u64, task: Task) {
    store::schedule(due_ns, task);
}

/// Arms the timer for the earliest queued task: after a message queued tasks without a
/// runtime at hand ([`schedule_later`]) that are due soon.
pub fn rearm(rt: &impl Runtime) {
    rt.arm_timer(next_due());
}

/// Queued tasks due at or before `now` that have not run yet (at most 10 000 are counted).
pub fn overdue(now: u64) -> u64 {
    store::count_due(now, OVERDUE_COUNT_CAP)
}

/// Queued tasks that have failed `MAX_ATTEMPTS` times or more; they are still retried.
pub fn failing() -> u64 {
    store::failing()
}

/// Called at install and after every upgrade: leaves exactly one `SampleCycles` queued, due no
/// later than one interval from now (at once on a fresh install), and arms the timer and the
/// watchdog, which install and upgrade switch off. A sample already due in time (the usual
/// upgrade) stays as it is: the upgrade then writes nothing to the queue. Reads no queued
/// entry: the queue knows where its sample is.
pub fn start(rt: &impl Runtime, config: &Config) {
    let now = rt.time();
    let latest = now.saturating_add(config.sample_interval_ns());
    let queued = store::sample_due();
    if queued.is_none_or(|due| due > latest) {
        store::remove_sample();
        store::schedule(
            queued.map_or(now, |due| due.min(latest)),
            Task::SampleCycles,
        );
    }
    rt.arm_timer(next_due());
    rt.arm_watchdog(WATCHDOG_INTERVAL_NS);
}

#[cfg(test)]
mod tests;
