//! What the task queue can be asked to do.
//!
//! Every task must be idempotent: a timer's self-call can be retried, and a task that stopped
//! half-way (trap, upgrade) runs again from the queue. A re-run must also be cheap: a market
//! task first reads its entity and returns at once when the entity has moved past the phase
//! the task was scheduled for (or is gone), so a batch of stale tasks costs a read each.
//!
//! A task that cannot finish now (an outcall that found its endpoint down) returns
//! [`Retry`]; the timer runs it again after a backoff (see [`backoff_ns`]) and never drops it.

use candid::{CandidType, Deserialize};
use ic_stable_structures::storable::Bound;
use ic_stable_structures::Storable;
use std::borrow::Cow;

/// Stored as Candid, so new variants and optional fields keep old entries readable.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum Task {
    /// Records the liquid cycle balance, then runs again one sample interval later.
    SampleCycles,
    /// An offerset's holds end: its OFFERED executions expire.
    ExpireOfferset { offerset_id: u64 },
    /// A refused offerset's retention ended: its record goes (its audit trail stays).
    ForgetOfferset { offerset_id: u64 },
    /// A closed execution's retention ended: it goes, with its offerset once every execution
    /// of that offerset is due (their audit trail stays).
    ForgetExecution { execution_id: u64 },
    /// A closed offer's retention ended: it goes once nothing is booked in its window.
    ForgetOffer { offer_id: u64 },
    /// Queues the retention of records closed before it existed, a page at a time: the
    /// executions, then (`offers`) the offers, from the id after `after`.
    SweepClosed { offers: bool, after: u64 },
    /// An offer's window ended unclaimed.
    ExpireOffer { offer_id: u64 },
    /// A lease's start: PREPARING, then AVAILABLE.
    StartLease { execution_id: u64 },
    /// A lease's end: RELEASING, then COMPLETED.
    EndLease { execution_id: u64 },
    /// A lease still PREPARING or RELEASING after the policy's timeout is moved on.
    CheckStuck { execution_id: u64 },
    /// A released item's rebuild is over: it is available again.
    FinishRebuild { item_id: u64 },
    /// The next step of the item's provisioning operation; asynchronous (it calls Ironic), so
    /// it runs in its own future (`Runtime::spawn`).
    ProvisionStep { item_id: u64 },
    /// The item's simulated Ironic node moves one step along its state machine.
    SimAdvance { item_id: u64 },
    /// The execution's payment moves on: a refund, its settlement, or a pull whose message
    /// trapped. Asynchronous (it calls the ledger).
    Settle { execution_id: u64 },
    /// Asks the market's ledger for its symbol, decimals and fee. Asynchronous.
    RefreshCurrency,
}

/// A task asks to run again later: it changed nothing it cannot redo, and something it needs
/// (an outcall, another canister) failed in a way worth retrying.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retry {
    pub reason: String,
}

/// What a run gives the task queue: the follow-ups to schedule as `(due_ns, task)`, or a retry.
pub type Outcome = Result<Vec<(u64, Task)>, Retry>;

/// Failed runs after which a task counts as failing (`status.tasks_failing`). It is still kept
/// and retried at the longest backoff: tasks are never lost.
pub const MAX_ATTEMPTS: u32 = 20;
/// Wait before the first retry; it doubles with every failed run...
pub const FIRST_BACKOFF_NS: u64 = 10 * crate::time::SECOND_NS;
/// ...up to an hour.
pub const MAX_BACKOFF_NS: u64 = crate::time::HOUR_NS;
/// Longest `reason` kept with a queued task.
const MAX_REASON_BYTES: usize = 256;

/// How long to wait before running again a task whose run number `attempt` (0 for the first
/// run) failed: 10 s × 2^attempt, at most an hour.
pub fn backoff_ns(attempt: u32) -> u64 {
    1u64.checked_shl(attempt)
        .and_then(|factor| FIRST_BACKOFF_NS.checked_mul(factor))
        .map_or(MAX_BACKOFF_NS, |wait| wait.min(MAX_BACKOFF_NS))
}

/// A task in the queue with the number of its failed runs, stored as Candid. Older versions
/// stored a bare `Task`; those entries read back as attempt 0.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct QueuedTask {
    pub task: Task,
    /// Runs that asked for a retry so far.
    pub attempt: u32,
    /// Why the last run asked for a retry (at most 256 bytes).
    pub last_error: Option<String>,
}

impl QueuedTask {
    /// A task that has not run yet.
    pub fn new(task: Task) -> Self {
        Self {
            task,
            attempt: 0,
            last_error: None,
        }
    }

    /// The entry to queue after this run asked for `retry`, and when it is due.
    pub fn retried(self, now: u64, retry: Retry) -> (u64, Self) {
        let due = now.saturating_add(backoff_ns(self.attempt));
        let mut reason = retry.reason;
        if reason.len() > MAX_REASON_BYTES {
            let mut end = MAX_REASON_BYTES;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            reason.truncate(end);
        }
        let next = Self {
            task: self.task,
            attempt: self.attempt.saturating_add(1),
            last_error: Some(reason),
        };
        (due, next)
    }

    /// Failed often enough to count in `status.tasks_failing`.
    pub fn is_failing(&self) -> bool {
        self.attempt >= MAX_ATTEMPTS
    }
}

impl Task {
    /// Whether running it starts a future (see `run_async`) that goes on after the batch.
    pub fn is_async(&self) -> bool {
        matches!(
            self,
            Self::ProvisionStep { .. } | Self::Settle { .. } | Self::RefreshCurrency
        )
    }
}

crate::storable::candid_storable!(Task);

impl Storable for QueuedTask {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.clone().into_bytes())
    }

    fn into_bytes(self) -> Vec<u8> {
        candid::encode_one(self).expect("a queued task always encodes")
    }

    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        // A record, or a bare variant written before retries existed: Candid's type table
        // tells them apart, so neither can be misread as the other.
        candid::decode_one(&bytes)
            .or_else(|_| candid::decode_one(&bytes).map(Self::new))
            .expect("stored task is not valid Candid")
    }

    const BOUND: Bound = Bound::Unbounded;
}

#[cfg(test)]
mod tests;
