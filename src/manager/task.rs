//! What the manager can be asked to do.
//!
//! Every task must be idempotent: a timer's self-call can be retried, and a task that stopped
//! half-way (trap, upgrade) runs again from the queue.

use crate::runtime::Runtime;
use crate::{config, cycles, market};
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
}

impl Task {
    /// Runs the task at `now` and returns the follow-ups to schedule, as `(due_ns, task)`.
    pub fn run(&self, rt: &impl Runtime, now: u64) -> Vec<(u64, Task)> {
        match self {
            Self::SampleCycles => {
                let config = config::get();
                cycles::record(now, rt.liquid_cycles(), config.cycles_history_len);
                vec![(
                    now.saturating_add(config.sample_interval_ns()),
                    Self::SampleCycles,
                )]
            }
            // Market tasks schedule their own follow-ups through `manager::schedule`.
            Self::ExpireOfferset { offerset_id } => {
                market::offerset::expire(rt, *offerset_id);
                vec![]
            }
            Self::ExpireOffer { offer_id } => {
                market::offers::expire(rt, *offer_id);
                vec![]
            }
            Self::StartLease { execution_id } => {
                market::lease::start(rt, *execution_id);
                vec![]
            }
            Self::EndLease { execution_id } => {
                market::lease::finish(rt, *execution_id);
                vec![]
            }
            Self::CheckStuck { execution_id } => {
                market::lease::check_stuck(rt, *execution_id);
                vec![]
            }
            Self::FinishRebuild { item_id } => {
                market::inventory::finish_rebuild(rt, *item_id);
                vec![]
            }
        }
    }
}

impl Storable for Task {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.clone().into_bytes())
    }

    fn into_bytes(self) -> Vec<u8> {
        candid::encode_one(self).expect("a task always encodes")
    }

    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        // Only this canister writes tasks: an undecodable one means corrupted state, which no
        // message should build on.
        candid::decode_one(&bytes).expect("stored task is not valid Candid")
    }

    const BOUND: Bound = Bound::Unbounded;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::FakeRuntime;

    #[test]
    fn storable_round_trips() {
        let task = Task::SampleCycles;
        assert_eq!(Task::from_bytes(task.to_bytes()), task);
    }

    #[test]
    fn sample_cycles_records_and_reschedules_itself() {
        let rt = FakeRuntime::new();
        rt.liquid_cycles.set(5_000);
        let now = rt.time();
        let follow_ups = Task::SampleCycles.run(&rt, now);
        assert_eq!(cycles::len(), 1);
        let interval = config::get().sample_interval_ns();
        assert_eq!(follow_ups, vec![(now + interval, Task::SampleCycles)]);
        // Running again at the same time changes nothing.
        Task::SampleCycles.run(&rt, now);
        assert_eq!(cycles::len(), 1);
    }
}
