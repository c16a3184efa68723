use super::*;

#[test]
fn storable_round_trips() {
    let task = Task::SampleCycles;
    assert_eq!(Task::from_bytes(task.to_bytes()), task);
}

#[test]
fn queued_task_round_trips_and_reads_bare_tasks_of_the_previous_version() {
    let queued = QueuedTask {
        task: Task::StartLease { execution_id: 7 },
        attempt: 3,
        last_error: Some("endpoint down".into()),
    };
    assert_eq!(QueuedTask::from_bytes(queued.to_bytes()), queued);
    // What the previous version stored: the Candid of a bare `Task`.
    let old = Task::EndLease { execution_id: 9 };
    assert_eq!(
        QueuedTask::from_bytes(old.to_bytes()),
        QueuedTask::new(Task::EndLease { execution_id: 9 })
    );
    assert_eq!(
        QueuedTask::from_bytes(Task::SampleCycles.to_bytes()),
        QueuedTask::new(Task::SampleCycles)
    );
}

#[test]
#[should_panic(expected = "not valid Candid")]
fn undecodable_entries_trap() {
    QueuedTask::from_bytes(Cow::Borrowed(&[1, 2, 3]));
}

#[test]
fn backoff_doubles_from_ten_seconds_up_to_an_hour() {
    const S: u64 = crate::time::SECOND_NS;
    assert_eq!(backoff_ns(0), 10 * S);
    assert_eq!(backoff_ns(1), 20 * S);
    assert_eq!(backoff_ns(8), 2_560 * S);
    assert_eq!(backoff_ns(9), 3_600 * S);
    assert_eq!(backoff_ns(MAX_ATTEMPTS), MAX_BACKOFF_NS);
    assert_eq!(backoff_ns(63), MAX_BACKOFF_NS);
    assert_eq!(backoff_ns(64), MAX_BACKOFF_NS);
    assert_eq!(backoff_ns(u32::MAX), MAX_BACKOFF_NS);
}

#[test]
fn retried_counts_the_attempt_and_keeps_a_bounded_reason() {
    let now = 1_000;
    let (due, first) =
        QueuedTask::new(Task::SampleCycles).retried(now, Retry { reason: "x".into() });
    assert_eq!(due, now + FIRST_BACKOFF_NS);
    assert_eq!(first.attempt, 1);
    assert_eq!(first.last_error.as_deref(), Some("x"));
    let long = "é".repeat(200);
    let (due, second) = first.retried(now, Retry { reason: long });
    assert_eq!(due, now + 2 * FIRST_BACKOFF_NS);
    assert_eq!(second.attempt, 2);
    assert!(!second.is_failing());
    let kept = second.last_error.unwrap();
    assert!(kept.len() <= MAX_REASON_BYTES && kept.chars().all(|c| c == 'é'));
    let worn = QueuedTask {
        attempt: MAX_ATTEMPTS - 1,
        ..QueuedTask::new(Task::SampleCycles)
    };
    let (due, worn) = worn.retried(
        u64::MAX - 1,
        Retry {
            reason: String::new(),
        },
    );
    assert_eq!(due, u64::MAX);
    assert!(worn.is_failing());
}
