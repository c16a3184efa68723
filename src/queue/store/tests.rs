use super::super::task::{Retry, MAX_ATTEMPTS};
use super::*;

#[test]
fn meta_reads_the_bare_sequence_number_of_the_previous_version() {
    let old = Meta::from_bytes(Cow::Owned(41u64.to_le_bytes().to_vec()));
    assert_eq!(
        old,
        Meta {
            next_seq: 41,
            failing: 0,
            sample: None,
        }
    );
    // The version before this one: no sample.
    let bytes: Vec<u8> = [9u64, 2].iter().flat_map(|n| n.to_le_bytes()).collect();
    assert_eq!(
        Meta::from_bytes(Cow::Owned(bytes)),
        Meta {
            next_seq: 9,
            failing: 2,
            sample: None,
        }
    );
    for sample in [
        None,
        Some((0, 0)),
        Some((7, 4)),
        Some((u64::MAX, u64::MAX - 1)),
    ] {
        let meta = Meta {
            next_seq: 5,
            failing: 2,
            sample,
        };
        assert_eq!(Meta::from_bytes(meta.to_bytes()), meta);
    }
}

#[test]
fn one_sample_is_queued_and_known_without_a_scan() {
    assert_eq!(sample_due(), None);
    schedule(50, Task::SampleCycles);
    // A later duplicate is not queued; an earlier one replaces it.
    schedule(60, Task::SampleCycles);
    assert_eq!((len(), sample_due()), (1, Some(50)));
    schedule(40, Task::SampleCycles);
    assert_eq!((len(), sample_due()), (1, Some(40)));
    schedule(45, Task::ExpireOffer { offer_id: 1 });
    assert_eq!(pop_due(40).map(|e| e.task), Some(Task::SampleCycles));
    assert_eq!(sample_due(), None);
    schedule(70, Task::SampleCycles);
    remove_sample();
    assert_eq!((len(), sample_due()), (1, None));
}

#[test]
fn samples_an_older_version_left_are_dropped_once_one_is_known() {
    // An older version's queue: two samples the cell knows nothing of.
    schedule(10, Task::SampleCycles);
    schedule(20, Task::SampleCycles);
    update_meta(|meta| meta.sample = None);
    QUEUE.with_borrow_mut(|queue| queue.insert((20, 99), QueuedTask::new(Task::SampleCycles)));
    assert_eq!(len(), 2);
    // This version's start queues the one it knows.
    schedule(15, Task::SampleCycles);
    let popped: Vec<Task> = std::iter::from_fn(|| pop_due(100).map(|e| e.task)).collect();
    assert_eq!(popped, [Task::SampleCycles]);
    assert_eq!((len(), sample_due()), (0, None));
}

#[test]
fn entries_written_as_bare_tasks_pop_as_first_attempts() {
    // What the previous version left in the queue.
    QUEUE.with_borrow_mut(|queue| {
        let bytes = Task::ExpireOffer { offer_id: 4 }.into_bytes();
        let mut raw: StableBTreeMap<Key, Vec<u8>, Memory> =
            StableBTreeMap::init(memory::region(memory::TASK_QUEUE));
        raw.insert((5, 0), bytes);
        // Reopen the typed map over the same memory.
        *queue = StableBTreeMap::init(memory::region(memory::TASK_QUEUE));
    });
    assert_eq!(
        pop_due(5),
        Some(QueuedTask::new(Task::ExpireOffer { offer_id: 4 }))
    );
    assert_eq!(len(), 0);
}

#[test]
fn same_due_time_pops_in_scheduling_order() {
    schedule(10, Task::ExpireOffer { offer_id: 1 });
    schedule(10, Task::ExpireOffer { offer_id: 2 });
    schedule(5, Task::ExpireOffer { offer_id: 3 });
    assert_eq!(pop_due(4), None);
    let order: Vec<Task> = std::iter::from_fn(|| pop_due(10).map(|e| e.task)).collect();
    assert_eq!(
        order,
        [3, 1, 2].map(|offer_id| Task::ExpireOffer { offer_id })
    );
}

#[test]
fn count_due_counts_the_overdue_range_up_to_the_cap() {
    for due in [1, 2, 2, 3, 9] {
        schedule(due, Task::ExpireOffer { offer_id: due });
    }
    assert_eq!(count_due(0, 100), 0);
    assert_eq!(count_due(2, 100), 3);
    assert_eq!(count_due(3, 100), 4);
    assert_eq!(count_due(u64::MAX, 100), 5);
    assert_eq!(count_due(u64::MAX, 2), 2);
}

#[test]
fn failing_entries_are_counted_while_queued() {
    let worn = |attempt| QueuedTask {
        attempt,
        ..QueuedTask::new(Task::ExpireOffer { offer_id: 1 })
    };
    insert(1, worn(MAX_ATTEMPTS - 1));
    assert_eq!(failing(), 0);
    let entry = pop_due(1).unwrap();
    let (due, entry) = entry.retried(
        1,
        Retry {
            reason: "down".into(),
        },
    );
    insert(due, entry);
    assert_eq!(failing(), 1);
    insert(2, worn(MAX_ATTEMPTS + 5));
    assert_eq!(failing(), 2);
    assert!(pop_due(2).unwrap().is_failing());
    assert_eq!(failing(), 1);
    assert!(pop_due(u64::MAX).unwrap().is_failing());
    assert_eq!(failing(), 0);
    assert_eq!(len(), 0);
}
