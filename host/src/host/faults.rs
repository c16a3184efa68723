//! Fault drills: holding the calls to a canister, and making the next call to it fail.

use super::{CallId, Host, Work};
use crate::types::*;
use candid::Principal;

/// An injected fault waiting for its call.
pub(super) struct Armed {
    callee: Vec<u8>,
    method: Option<String>,
    fault: Fault,
}

impl Host {
    /// Holds every call to canister `id` (from any canister) before it reaches it, until
    /// [`Host::resume`]: other messages run meanwhile, and the canister may be upgraded, as if
    /// the calls were still on their way. Ingress to it is not held. A held bounded-wait call
    /// whose deadline passes is dropped (its caller gets `SYS_UNKNOWN`).
    pub fn pause(&mut self, id: Principal) {
        self.paused.insert(id.as_slice().to_vec());
    }

    /// Lets the held calls to `id` go, in the order they were made; they run at the next
    /// [`Host::tick`] (or whenever the host next runs work).
    pub fn resume(&mut self, id: Principal) {
        let key = id.as_slice();
        self.paused.remove(key);
        let held = std::mem::take(&mut self.held);
        for call in held {
            match self.awaiting.get(&call) {
                None => {} // answered meanwhile (its deadline passed): nothing to deliver
                Some(a) if a.call.callee == key => self.queue.push_back(Work::Dispatch(call)),
                Some(_) => self.held.push(call),
            }
        }
    }

    /// How many calls to `id` are held by [`Host::pause`].
    pub fn held_calls(&self, id: Principal) -> usize {
        self.held
            .iter()
            .filter(|call| {
                self.awaiting
                    .get(call)
                    .is_some_and(|a| a.call.callee == id.as_slice())
            })
            .count()
    }

    /// Makes the next inter-canister call to hosted canister `callee` (to `method`, or any
    /// method when `None`) fail with `fault`. Each injection affects one call; several wait
    /// their turn in order. A call to a stopped canister leaves the fault armed; a call to a
    /// method the callee lacks uses it up (and fails as it would anyway). Ingress messages and
    /// calls to stand-ins ([`Host::set_callee`]) are never affected.
    pub fn inject_fault(&mut self, callee: Principal, method: Option<&str>, fault: Fault) {
        self.faults.push(Armed {
            callee: callee.as_slice().to_vec(),
            method: method.map(str::to_string),
            fault,
        });
    }

    /// Injected faults that no call has met yet.
    pub fn pending_faults(&self) -> usize {
        self.faults.len()
    }

    /// Takes the first armed fault matching this call. Timeouts match bounded-wait calls only.
    pub(super) fn take_fault(&mut self, call_id: CallId) -> Option<Fault> {
        let awaiting = self.awaiting.get(&call_id)?;
        let call = &awaiting.call;
        let bounded = awaiting.deadline != 0;
        let index = self.faults.iter().position(|armed| {
            armed.callee == call.callee
                && armed.method.as_ref().is_none_or(|m| *m == call.method)
                && (bounded || armed.fault != Fault::Timeout)
        })?;
        Some(self.faults.remove(index).fault)
    }
}

#[cfg(test)]
#[path = "faults_tests.rs"]
mod tests;
