//! Install, status, timers and upgrade of the marketplace wasm, end to end.

mod common;

use common::{Canister, InitArg, IronicDiscoverArg};
use std::time::Duration;

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn install_applies_the_init_argument_and_status_reports_the_canister() {
    let arg = InitArg {
        cycles_sample_interval_seconds: Some(7200),
        cycles_history_len: Some(24),
        ..InitArg::default()
    };
    let mut canister = Canister::install(Some(arg));
    let status = canister.status();
    assert_eq!(status.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        (
            status.config.cycles_sample_interval_seconds,
            status.config.cycles_history_len
        ),
        (7200, 24)
    );
    assert!(
        status.stable_memory_pages > 0 && status.heap_bytes > 0,
        "{status:?}"
    );
    assert_eq!(status.task_queue_len, 1, "one cycles sample is queued");
    assert_eq!(
        status.next_task_due,
        Some(canister.driver.time()),
        "due at once"
    );
    assert!(status.cycles_balance > 0u8);
}

#[test]
fn an_invalid_init_argument_fails_the_install() {
    let mut driver = ic0_host::driver::from_env();
    let arg = InitArg {
        cycles_sample_interval_seconds: Some(1),
        cycles_history_len: None,
        ..InitArg::default()
    };
    let err = driver
        .install(&common::wasm(), candid::encode_one(Some(arg)).unwrap())
        .unwrap_err();
    assert!(
        err.message.contains("cycles_sample_interval_seconds"),
        "{err}"
    );
}

#[test]
fn the_manager_timer_fires_when_time_advances() {
    // Not a multiple of the watchdog's five minutes, whose runs would otherwise coincide.
    let interval = HOUR + Duration::from_secs(10);
    let mut canister = Canister::install(Some(InitArg {
        cycles_sample_interval_seconds: Some(interval.as_secs()),
        ..InitArg::default()
    }));
    canister.driver.tick();
    let first = canister.status();
    assert_eq!(
        (first.counters.timer_runs, first.counters.tasks_run),
        (1, 1)
    );
    assert_eq!(
        first.next_task_due,
        Some(canister.driver.time() + interval.as_nanos() as u64)
    );

    // The watchdog runs every five minutes meanwhile, but with nothing overdue it runs nothing.
    canister
        .driver
        .advance_time(interval - Duration::from_secs(1));
    canister.driver.tick();
    assert_eq!(canister.status().counters.tasks_run, 1, "not due yet");

    canister.driver.advance_time(Duration::from_secs(1));
    canister.driver.tick();
    let second = canister.status();
    assert_eq!(
        (second.counters.timer_runs, second.counters.tasks_run),
        (2, 2)
    );
    // Two samples an hour apart, and the timers' own self-calls cost cycles: a burn rate appears.
    assert!(
        second
            .cycles_burn_per_day
            .as_ref()
            .is_some_and(|burn| *burn > 0u8),
        "{second:?}"
    );
}

#[test]
fn upgrade_keeps_stable_state_applies_new_config_and_rearms_the_timer() {
    let mut canister = Canister::install(None);
    canister.driver.tick();
    let controller = canister.controller();
    // An accepted update (it fails at the outcall, which still counts) leaves counters to keep.
    let _: Result<common::IronicApi, common::IronicError> =
        canister.discover(controller, "https://ironic.example");
    let before = canister.status();
    assert_eq!((before.counters.updates, before.counters.outcalls), (1, 1));

    let arg = InitArg {
        cycles_history_len: Some(5),
        ..InitArg::default()
    };
    canister
        .driver
        .upgrade(&common::wasm(), candid::encode_one(Some(arg)).unwrap())
        .expect("upgrade");
    let after = canister.status();
    assert_eq!(after.counters, before.counters);
    assert_eq!(after.config.cycles_history_len, 5);
    assert_eq!(
        after.config.cycles_sample_interval_seconds,
        before.config.cycles_sample_interval_seconds
    );
    assert_eq!(after.task_queue_len, 1, "still exactly one sampling task");

    // The upgrade switched the timer off; post_upgrade armed it again.
    canister.driver.advance_time(Duration::from_secs(
        after.config.cycles_sample_interval_seconds,
    ));
    canister.driver.tick();
    assert_eq!(
        canister.status().counters.tasks_run,
        before.counters.tasks_run + 1
    );
}

#[test]
fn a_bad_upgrade_argument_leaves_the_canister_running_as_before() {
    let mut canister = Canister::install(None);
    canister.driver.tick();
    let before = canister.status();
    let arg = InitArg {
        cycles_history_len: Some(0),
        ..InitArg::default()
    };
    assert!(canister
        .driver
        .upgrade(&common::wasm(), candid::encode_one(Some(arg)).unwrap())
        .is_err());
    assert_eq!(canister.status(), before);
    // A controller can still use it.
    let controller = canister.controller();
    let _: Result<common::IronicApi, common::IronicError> = canister.update(
        controller,
        "ironic_discover",
        (IronicDiscoverArg {
            endpoint: "https://x.example".into(),
        },),
    );
}

#[test]
fn status_ignores_whatever_argument_it_is_sent() {
    let mut canister = Canister::install(None);
    for arg in [
        vec![],
        b"garbage".to_vec(),
        candid::encode_one(42u64).unwrap(),
    ] {
        let bytes = canister
            .driver
            .query(common::user(), "status", arg)
            .expect("status answers");
        assert!(candid::decode_one::<common::Status>(&bytes).is_ok());
    }
}
