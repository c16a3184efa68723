use super::*;

#[test]
fn bump_increments_only_the_named_counter() {
    bump(Counter::Outcalls);
    bump(Counter::Outcalls);
    bump(Counter::TasksRun);
    add(Counter::TasksRetried, 3);
    add(Counter::TasksRetried, 0);
    assert_eq!(
        get(),
        Counters {
            outcalls: 2,
            tasks_run: 1,
            tasks_retried: 3,
            ..Counters::default()
        }
    );
}

#[test]
fn storable_round_trips_and_zeroes_missing_fields() {
    let counters = Counters {
        updates: 1,
        timer_runs: 2,
        tasks_run: 3,
        outcalls: 4,
        outcall_failures: 5,
        tasks_retried: 6,
        outcall_cycles: 7,
    };
    assert_eq!(Counters::from_bytes(counters.to_bytes()), counters);
    let old = Counters::from_bytes(Cow::Owned(9u64.to_le_bytes().to_vec()));
    assert_eq!(
        old,
        Counters {
            updates: 9,
            ..Counters::default()
        }
    );
}
