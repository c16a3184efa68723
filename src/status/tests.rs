use super::*;
use crate::runtime::FakeRuntime;

#[test]
fn reports_queue_balance_and_burn() {
    let rt = FakeRuntime::new();
    rt.liquid_cycles.set(1_000);
    queue::start(&rt, &config::get());
    let t0 = rt.time();
    crate::tasks::run_due(&rt, || true);
    rt.time.set(t0 + config::get().sample_interval_ns());
    rt.liquid_cycles.set(900);
    crate::tasks::run_due(&rt, || true);

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
    queue::start(&rt, &config::get());
    // The first sample is due at once and has not run.
    assert_eq!(status(&rt).tasks_overdue, 1);
    crate::tasks::run_due(&rt, || true);
    assert_eq!(status(&rt).tasks_overdue, 0);
    rt.time.set(rt.time() + config::get().sample_interval_ns());
    assert_eq!(status(&rt).tasks_overdue, 1);
}
