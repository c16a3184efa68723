//! The task queue in stable memory, ordered by due time, then by scheduling order.
//!
//! Each entry is a [`QueuedTask`]: the task and how many of its runs asked for a retry. The
//! queue also keeps, beside its sequence counter, how many entries have failed
//! [`MAX_ATTEMPTS`](super::task::MAX_ATTEMPTS) times or more, so `status` need not scan it.

use super::task::QueuedTask;
use super::Task;
use crate::fields::Fields;
use crate::memory::{self, Memory};
use ic_stable_structures::storable::Bound;
use ic_stable_structures::{StableBTreeMap, StableCell, Storable};
use std::borrow::Cow;
use std::cell::RefCell;

/// `(due_ns, seq)`: `seq` keeps tasks due at the same time distinct and in scheduling order.
type Key = (u64, u64);

/// The queue's own counters, in the `TASK_SEQ` cell: little-endian fields, appended over time.
/// The previous version stored `next_seq` alone, which reads back with `failing` 0 (true then:
/// no task could fail).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Meta {
    next_seq: u64,
    /// Entries whose task is failing (`QueuedTask::is_failing`).
    failing: u64,
}

impl Storable for Meta {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.into_bytes())
    }

    fn into_bytes(self) -> Vec<u8> {
        [self.next_seq, self.failing]
            .iter()
            .flat_map(|n| n.to_le_bytes())
            .collect()
    }

    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        let mut fields = Fields::new(&bytes);
        let mut next = || fields.u64().unwrap_or_default();
        Self {
            next_seq: next(),
            failing: next(),
        }
    }

    const BOUND: Bound = Bound::Unbounded;
}

thread_local! {
    static QUEUE: RefCell<StableBTreeMap<Key, QueuedTask, Memory>> =
        RefCell::new(StableBTreeMap::init(memory::region(memory::TASK_QUEUE)));
    static META: RefCell<StableCell<Meta, Memory>> =
        RefCell::new(StableCell::init(memory::region(memory::TASK_SEQ), Meta::default()));
}

/// Creates this module's stable structures now (at install and upgrade) rather than at the
/// first call that touches them, so a call that changes nothing writes nothing.
pub fn open() {
    QUEUE.with(|_| ());
    META.with(|_| ());
}

fn update_meta(f: impl FnOnce(&mut Meta)) -> Meta {
    META.with_borrow_mut(|cell| {
        let mut meta = *cell.get();
        f(&mut meta);
        cell.set(meta);
        meta
    })
}

/// Queues a task that has not run yet.
pub fn schedule(due_ns: u64, task: Task) {
    insert(due_ns, QueuedTask::new(task));
}

/// Queues `entry` (a new task, or one to retry) at `due_ns`.
pub fn insert(due_ns: u64, entry: QueuedTask) {
    let failing = entry.is_failing();
    let meta = update_meta(|meta| {
        meta.next_seq += 1;
        meta.failing += u64::from(failing);
    });
    let seq = meta.next_seq - 1;
    QUEUE.with_borrow_mut(|queue| queue.insert((due_ns, seq), entry));
}

/// Removes and returns the earliest entry due at or before `now`.
pub fn pop_due(now: u64) -> Option<QueuedTask> {
    if next_due()? > now {
        return None;
    }
    let (_, entry) = QUEUE.with_borrow_mut(|queue| queue.pop_first())?;
    forget(&entry);
    Some(entry)
}

/// Keeps the failing count in step with an entry leaving the queue.
fn forget(entry: &QueuedTask) {
    if entry.is_failing() {
        update_meta(|meta| meta.failing = meta.failing.saturating_sub(1));
    }
}

pub fn next_due() -> Option<u64> {
    QUEUE.with_borrow(|queue| queue.keys().next().map(|(due, _)| due))
}

pub fn len() -> u64 {
    QUEUE.with_borrow(|queue| queue.len())
}

/// Entries due at or before `now`, counted up to `cap`: the queue is ordered by due time, so
/// this walks only the overdue keys (none while the manager keeps up).
pub fn count_due(now: u64, cap: u64) -> u64 {
    QUEUE.with_borrow(|queue| {
        let overdue = queue.keys_range(..=(now, u64::MAX));
        overdue
            .take(usize::try_from(cap).unwrap_or(usize::MAX))
            .count() as u64
    })
}

/// Entries that have failed `MAX_ATTEMPTS` times or more and are still retried.
pub fn failing() -> u64 {
    META.with_borrow(|cell| cell.get().failing)
}

/// The due times of every queued `task`. Scans the whole queue, like [`remove_all`].
pub fn due_times(task: &Task) -> Vec<u64> {
    QUEUE.with_borrow(|queue| {
        queue
            .iter()
            .filter(|entry| entry.value().task == *task)
            .map(|entry| entry.key().0)
            .collect()
    })
}

/// Removes every queued `task` and returns their due times. Scans the whole queue: meant for
/// install and upgrade, not for every message.
pub fn remove_all(task: &Task) -> Vec<u64> {
    QUEUE.with_borrow_mut(|queue| {
        let keys: Vec<Key> = queue
            .iter()
            .filter(|entry| entry.value().task == *task)
            .map(|entry| *entry.key())
            .collect();
        keys.iter()
            .filter_map(|key| {
                let entry = queue.remove(key)?;
                forget(&entry);
                Some(key.0)
            })
            .collect()
    })
}

#[cfg(test)]
mod tests;
