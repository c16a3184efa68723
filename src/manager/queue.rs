//! The task queue in stable memory, ordered by due time, then by scheduling order.

use super::Task;
use crate::memory::{self, Memory};
use ic_stable_structures::{StableBTreeMap, StableCell};
use std::cell::RefCell;

/// `(due_ns, seq)`: `seq` keeps tasks due at the same time distinct and in scheduling order.
type Key = (u64, u64);

thread_local! {
    static QUEUE: RefCell<StableBTreeMap<Key, Task, Memory>> =
        RefCell::new(StableBTreeMap::init(memory::region(memory::TASK_QUEUE)));
    static NEXT_SEQ: RefCell<StableCell<u64, Memory>> =
        RefCell::new(StableCell::init(memory::region(memory::TASK_SEQ), 0));
}

pub fn schedule(due_ns: u64, task: Task) {
    let seq = NEXT_SEQ.with_borrow_mut(|next| {
        let seq = *next.get();
        next.set(seq + 1);
        seq
    });
    QUEUE.with_borrow_mut(|queue| queue.insert((due_ns, seq), task));
}

/// Removes and returns the earliest task due at or before `now`.
pub fn pop_due(now: u64) -> Option<Task> {
    if next_due()? > now {
        return None;
    }
    QUEUE.with_borrow_mut(|queue| queue.pop_first().map(|(_, task)| task))
}

pub fn next_due() -> Option<u64> {
    QUEUE.with_borrow(|queue| queue.keys().next().map(|(due, _)| due))
}

pub fn len() -> u64 {
    QUEUE.with_borrow(|queue| queue.len())
}

/// Removes every queued `task` and returns their due times. Scans the whole queue: meant for
/// install and upgrade, not for every message.
pub fn remove_all(task: &Task) -> Vec<u64> {
    QUEUE.with_borrow_mut(|queue| {
        let keys: Vec<Key> = queue
            .iter()
            .filter(|entry| entry.value() == *task)
            .map(|entry| *entry.key())
            .collect();
        keys.iter()
            .filter_map(|key| queue.remove(key).map(|_| key.0))
            .collect()
    })
}
