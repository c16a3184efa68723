use super::task::{backoff_ns, QueuedTask, Retry, MAX_ATTEMPTS};
use super::*;
use crate::config;
use crate::cycles;
use crate::runtime::FakeRuntime;
use crate::tasks::{on_timer, on_watchdog, run_due, TIMER_INSTRUCTION_BUDGET};

const SECOND: u64 = crate::time::SECOND_NS;

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
    store::schedule(t0 + 5 * SECOND, Task::SampleCycles);
    for i in 1..=50 {
        rt.time.set(t0 + i);
        start(&rt, &config::get());
    }
    assert_eq!(queue_len(), 1);
    assert_eq!(next_due(), Some(t0));
    assert_eq!(rt.armed_timer.get(), Some(t0));
}

#[test]
fn a_restart_with_the_sample_queued_in_time_writes_nothing() {
    // Upgrades used to take the sample out and queue it again under a new sequence
    // number: the queue's stable regions changed (state_digest) though nothing had.
    let rt = FakeRuntime::new();
    let t0 = rt.time();
    start(&rt, &config::get());
    run_due(&rt, || true);
    store::schedule(t0 + 7 * SECOND, lease(3));
    let regions = || {
        crate::digest::state_digest()
            .regions
            .into_iter()
            .filter(|r| r.name == "TASK_QUEUE" || r.name == "TASK_SEQ")
            .collect::<Vec<_>>()
    };
    let before = regions();
    assert_eq!(before.len(), 2);
    rt.time.set(t0 + 10 * SECOND);
    start(&rt, &config::get());
    assert_eq!(regions(), before);
    assert_eq!(queue_len(), 2);
    assert_eq!(rt.armed_timer.get(), Some(t0 + 7 * SECOND));
}

#[test]
fn start_pulls_a_far_sample_in_when_the_interval_shrinks() {
    let rt = FakeRuntime::new();
    let t0 = rt.time();
    store::schedule(t0 + 100 * interval(), Task::SampleCycles);
    start(&rt, &config::get());
    assert_eq!(next_due(), Some(t0 + interval()));
}

#[test]
fn run_due_runs_due_tasks_in_order_and_reschedules() {
    let rt = FakeRuntime::new();
    let t0 = rt.time();
    // One sample (the queue keeps one) and offers to expire (gone: nothing to do).
    store::schedule(t0 + 2 * SECOND, Task::ExpireOffer { offer_id: 1 });
    store::schedule(t0 + SECOND, Task::SampleCycles);
    store::schedule(t0 + 3 * SECOND, Task::ExpireOffer { offer_id: 2 });

    rt.time.set(t0 + 2 * SECOND);
    let next = run_due(&rt, || true);
    assert_eq!(counters::get().tasks_run, 2);
    assert_eq!(cycles::len(), 1);
    assert_eq!(next, Some(t0 + 3 * SECOND));
    // The sample is back, one interval after the run; the expired offer is done.
    assert_eq!(queue_len(), 2);
    assert_eq!(store::sample_due(), Some(t0 + 2 * SECOND + interval()));

    // Nothing is due any more: a repeated run (a retried timer) does nothing.
    assert_eq!(run_due(&rt, || true), Some(t0 + 3 * SECOND));
    assert_eq!(counters::get().tasks_run, 2);
}

#[test]
fn run_due_stops_when_the_budget_says_so() {
    let rt = FakeRuntime::new();
    let t0 = rt.time();
    for offer_id in 0..3 {
        store::schedule(t0, Task::ExpireOffer { offer_id });
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

/// Runs `run_due_with` once at `rt`'s time with a scripted runner.
fn run_scripted(rt: &FakeRuntime, mut outcome: impl FnMut(&Task) -> Outcome) -> Option<u64> {
    super::run_due(rt, || true, |task, _| outcome(task))
}

fn down() -> Outcome {
    Err(Retry {
        reason: "endpoint down".into(),
    })
}

fn lease(execution_id: u64) -> Task {
    Task::StartLease { execution_id }
}

#[test]
fn a_retry_is_queued_again_after_a_doubling_backoff() {
    let rt = FakeRuntime::new();
    let t0 = rt.time();
    store::schedule(t0, lease(1));
    store::schedule(t0, lease(2));

    let next = run_scripted(&rt, |task| {
        if *task == lease(1) {
            down()
        } else {
            Ok(vec![])
        }
    });
    assert_eq!(next, Some(t0 + 10 * SECOND));
    assert_eq!(queue_len(), 1);
    assert_eq!(counters::get().tasks_run, 2);
    assert_eq!(counters::get().tasks_retried, 1);

    // Not due yet: nothing runs.
    rt.time.set(t0 + 10 * SECOND - 1);
    assert_eq!(
        run_scripted(&rt, |_| panic!("ran early")),
        Some(t0 + 10 * SECOND)
    );

    // Second failure: twice the wait, and the attempt and reason are kept.
    let t1 = t0 + 10 * SECOND;
    rt.time.set(t1);
    assert_eq!(run_scripted(&rt, |_| down()), Some(t1 + 20 * SECOND));
    let entry = store::pop_due(u64::MAX).unwrap();
    assert_eq!(
        entry,
        QueuedTask {
            task: lease(1),
            attempt: 2,
            last_error: Some("endpoint down".into()),
        }
    );
    assert_eq!(counters::get().tasks_retried, 2);
}

#[test]
fn a_task_that_keeps_failing_is_never_dropped() {
    let rt = FakeRuntime::new();
    let mut now = rt.time();
    store::schedule(now, lease(7));
    for attempt in 0..MAX_ATTEMPTS + 5 {
        rt.time.set(now);
        let next = run_scripted(&rt, |_| down()).unwrap();
        assert_eq!(next - now, backoff_ns(attempt));
        assert_eq!(queue_len(), 1);
        assert_eq!(
            failing(),
            u64::from(attempt + 1 >= MAX_ATTEMPTS),
            "{attempt}"
        );
        now = next;
    }
    // Still at the longest backoff, still queued, counted as failing.
    assert_eq!(backoff_ns(MAX_ATTEMPTS + 4), task::MAX_BACKOFF_NS);
    assert_eq!(counters::get().tasks_retried, u64::from(MAX_ATTEMPTS + 5));

    // Once it succeeds it leaves the queue and the failing count.
    rt.time.set(now);
    let mut ran = vec![];
    run_scripted(&rt, |task| {
        ran.push(task.clone());
        Ok(vec![])
    });
    assert_eq!(ran, [lease(7)]);
    assert_eq!(queue_len(), 0);
    assert_eq!(failing(), 0);
}

#[test]
fn follow_ups_of_a_successful_run_are_fresh_first_attempts() {
    let rt = FakeRuntime::new();
    let t0 = rt.time();
    store::insert(
        t0,
        QueuedTask {
            attempt: 3,
            ..QueuedTask::new(lease(1))
        },
    );
    run_scripted(&rt, |_| Ok(vec![(t0 + SECOND, lease(2))]));
    assert_eq!(store::pop_due(u64::MAX), Some(QueuedTask::new(lease(2))));
}

#[test]
fn overdue_counts_due_tasks_not_yet_run() {
    let rt = FakeRuntime::new();
    let t0 = rt.time();
    store::schedule(t0 - SECOND, lease(1));
    store::schedule(t0, lease(2));
    store::schedule(t0 + SECOND, lease(3));
    assert_eq!(overdue(t0), 2);
    assert_eq!(overdue(t0 + SECOND), 3);
    assert_eq!(overdue(t0 - 2 * SECOND), 0);
}

#[test]
fn start_arms_the_watchdog_and_restarts_replace_it() {
    let rt = FakeRuntime::new();
    start(&rt, &config::get());
    assert_eq!(rt.watchdog.get(), Some(WATCHDOG_INTERVAL_NS));
    start(&rt, &config::get());
    assert_eq!(rt.watchdog.get(), Some(WATCHDOG_INTERVAL_NS));
}

#[test]
fn the_watchdog_runs_the_queue_after_a_trapped_run_lost_the_timer() {
    let rt = FakeRuntime::new();
    let t0 = rt.time();
    start(&rt, &config::get());
    // A run trapped: its work rolled back and the one-shot timer is gone.
    rt.arm_timer(None);
    // The watchdog's next run, five minutes later, runs the overdue task.
    rt.time.set(t0 + WATCHDOG_INTERVAL_NS);
    on_watchdog(&rt);
    assert_eq!(counters::get().tasks_run, 1);
    assert_eq!(cycles::len(), 1);
    assert_eq!(
        rt.armed_timer.get(),
        Some(t0 + WATCHDOG_INTERVAL_NS + interval())
    );
    // With nothing due, a watchdog run only re-arms the timer, uncounted.
    rt.arm_timer(None);
    on_watchdog(&rt);
    assert_eq!(counters::get().tasks_run, 1);
    assert_eq!(counters::get().timer_runs, 1);
    assert_eq!(
        rt.armed_timer.get(),
        Some(t0 + WATCHDOG_INTERVAL_NS + interval())
    );
}

#[test]
fn a_run_starts_at_most_its_share_of_asynchronous_tasks() {
    // Spawned steps run after the batch, where the instruction budget cannot see them.
    let rt = FakeRuntime::new();
    let now = rt.time();
    for item_id in 0..MAX_STARTED_PER_RUN + 10 {
        store::schedule(now, Task::ProvisionStep { item_id });
    }
    store::schedule(now + 1, lease(1));
    let mut ran = Vec::new();
    let next = super::run_due(
        &rt,
        || true,
        |task, _| {
            ran.push(task.clone());
            Ok(vec![])
        },
    );
    assert_eq!(ran.len() as u64, MAX_STARTED_PER_RUN);
    assert!(ran.iter().all(Task::is_async));
    // The rest stay due at once; the next run starts them.
    assert_eq!(next, Some(now));
    let mut rest = 0;
    super::run_due(
        &rt,
        || true,
        |_, _| {
            rest += 1;
            Ok(vec![])
        },
    );
    assert_eq!(rest, 10);
}
