//! Activity counters, kept in stable memory so they survive upgrades.
//!
//! Only updates and timers can bump them: a query's state changes are discarded.

use crate::fields::Fields;
use crate::memory::{self, Memory};
use candid::{CandidType, Deserialize};
use ic_stable_structures::storable::Bound;
use ic_stable_structures::{StableCell, Storable};
use std::borrow::Cow;
use std::cell::RefCell;

#[derive(CandidType, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Update calls executed.
    pub updates: u64,
    /// Runs of the task queue's timer.
    pub timer_runs: u64,
    /// Queued tasks executed.
    pub tasks_run: u64,
    /// HTTPS outcalls made.
    pub outcalls: u64,
    /// Outcalls that gave no usable answer: rejected, non-2xx, or unreadable.
    pub outcall_failures: u64,
    /// Task runs that asked to be retried later (each is queued again after a backoff).
    pub tasks_retried: u64,
    /// Cycles HTTPS outcalls cost: attached less refunded.
    pub outcall_cycles: u64,
}

/// Names one counter, so callers cannot bump the wrong field by position.
#[derive(Clone, Copy, Debug)]
pub enum Counter {
    Updates,
    TimerRuns,
    TasksRun,
    Outcalls,
    OutcallFailures,
    TasksRetried,
    OutcallCycles,
}

impl Counters {
    fn field(&mut self, counter: Counter) -> &mut u64 {
        match counter {
            Counter::Updates => &mut self.updates,
            Counter::TimerRuns => &mut self.timer_runs,
            Counter::TasksRun => &mut self.tasks_run,
            Counter::Outcalls => &mut self.outcalls,
            Counter::OutcallFailures => &mut self.outcall_failures,
            Counter::TasksRetried => &mut self.tasks_retried,
            Counter::OutcallCycles => &mut self.outcall_cycles,
        }
    }
}

impl Storable for Counters {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.into_bytes())
    }

    fn into_bytes(self) -> Vec<u8> {
        [
            self.updates,
            self.timer_runs,
            self.tasks_run,
            self.outcalls,
            self.outcall_failures,
            self.tasks_retried,
            self.outcall_cycles,
        ]
        .iter()
        .flat_map(|n| n.to_le_bytes())
        .collect()
    }

    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        let mut fields = Fields::new(&bytes);
        let mut next = || fields.u64().unwrap_or_default();
        Self {
            updates: next(),
            timer_runs: next(),
            tasks_run: next(),
            outcalls: next(),
            outcall_failures: next(),
            tasks_retried: next(),
            outcall_cycles: next(),
        }
    }

    const BOUND: Bound = Bound::Unbounded;
}

thread_local! {
    static COUNTERS: RefCell<StableCell<Counters, Memory>> =
        RefCell::new(StableCell::init(memory::region(memory::COUNTERS), Counters::default()));
}

/// Creates this module's stable structures now (at install and upgrade) rather than at the
/// first call that touches them, so a call that changes nothing writes nothing.
pub fn open() {
    COUNTERS.with(|_| ());
}

pub fn get() -> Counters {
    COUNTERS.with_borrow(|cell| *cell.get())
}

pub fn bump(counter: Counter) {
    add(counter, 1);
}

/// Adds `n` to the counter; adding 0 writes nothing.
pub fn add(counter: Counter, n: u64) {
    if n == 0 {
        return;
    }
    COUNTERS.with_borrow_mut(|cell| {
        let mut counters = *cell.get();
        let field = counters.field(counter);
        *field = field.saturating_add(n);
        cell.set(counters);
    });
}

#[cfg(test)]
mod tests;
