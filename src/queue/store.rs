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
pub type Key = (u64, u64);

/// The queue's own counters, in the `TASK_SEQ` cell: little-endian fields, appended over time.
/// Older versions stored `next_seq` alone, then with `failing`; missing fields read back as 0
/// (`failing` was 0 then: no task could fail; `sample` is unknown, see [`pop_due`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Meta {
    next_seq: u64,
    /// Entries whose task is failing (`QueuedTask::is_failing`).
    failing: u64,
    /// The key of the queued `SampleCycles`, if one is queued.
    sample: Option<Key>,
}

impl Storable for Meta {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.into_bytes())
    }

    fn into_bytes(self) -> Vec<u8> {
        // The sample's sequence number is stored plus one, so 0 means none.
        let (due, seq) = self.sample.map_or((0, 0), |(due, seq)| (due, seq + 1));
        [self.next_seq, self.failing, due, seq]
            .iter()
            .flat_map(|n| n.to_le_bytes())
            .collect()
    }

    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        let mut fields = Fields::new(&bytes);
        let mut next = || fields.u64().unwrap_or_default();
        let (next_seq, failing, due, seq) = (next(), next(), next(), next());
        Self {
            next_seq,
            failing,
            sample: seq.checked_sub(1).map(|seq| (due, seq)),
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

/// Takes the entry at `key` out, if it is still queued. The last one queued gives its
/// sequence number back too, so queuing and taking out again leaves the queue as it was.
pub fn remove(key: Key) {
    let Some(entry) = QUEUE.with_borrow_mut(|queue| queue.remove(&key)) else {
        return;
    };
    forget(&entry);
    let (_, seq) = key;
    update_meta(|meta| {
        if meta.next_seq == seq + 1 {
            meta.next_seq = seq;
        }
    });
}

/// Queues `entry` (a new task, or one to retry) at `due_ns`. At most one `SampleCycles` is
/// queued: of two, the earlier stays.
pub fn insert(due_ns: u64, entry: QueuedTask) -> Key {
    let is_sample = entry.task == Task::SampleCycles;
    if is_sample {
        match sample() {
            Some(key @ (due, _)) if due <= due_ns => return key,
            Some(_) => remove_sample(),
            None => {}
        }
    }
    let failing = entry.is_failing();
    let meta = update_meta(|meta| {
        meta.next_seq += 1;
        meta.failing += u64::from(failing);
        if is_sample {
            meta.sample = Some((due_ns, meta.next_seq - 1));
        }
    });
    let seq = meta.next_seq - 1;
    QUEUE.with_borrow_mut(|queue| queue.insert((due_ns, seq), entry));
    (due_ns, seq)
}

/// Removes and returns the earliest entry due at or before `now`. A `SampleCycles` other than
/// the one [`Meta`] knows (one an older version left) is dropped on the way.
pub fn pop_due(now: u64) -> Option<QueuedTask> {
    loop {
        if next_due()? > now {
            return None;
        }
        let (key, entry) = QUEUE.with_borrow_mut(|queue| queue.pop_first())?;
        forget(&entry);
        if entry.task == Task::SampleCycles {
            // Every sample this version queues is known; `start` queues one at every upgrade.
            if sample() != Some(key) {
                continue;
            }
            update_meta(|meta| meta.sample = None);
        }
        return Some(entry);
    }
}

fn sample() -> Option<Key> {
    META.with_borrow(|cell| cell.get().sample)
}

/// When the queued `SampleCycles` is due, without scanning the queue.
pub fn sample_due() -> Option<u64> {
    sample().map(|(due, _)| due)
}

/// Takes the queued `SampleCycles` out, if any.
pub fn remove_sample() {
    let Some(key) = sample() else {
        return;
    };
    if let Some(entry) = QUEUE.with_borrow_mut(|queue| queue.remove(&key)) {
        forget(&entry);
    }
    update_meta(|meta| meta.sample = None);
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
/// this walks only the overdue keys (none while the task queue keeps up).
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

#[cfg(test)]
mod tests;
