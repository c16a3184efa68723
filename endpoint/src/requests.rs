//! The statuses of submitted calls, by request id, as `read_state` certifies them under
//! `request_status`. Like the IC, the endpoint remembers a request until its ingress expiry has
//! passed (so a resubmission is recognised) and forgets it then; the number remembered is capped.

use crate::state_tree::RequestStatus;
use candid::Principal;
use std::collections::{BTreeSet, HashMap};

/// At most this many requests are remembered; the ones expiring first are forgotten first.
pub const MAX_REQUESTS: usize = 100_000;

struct Entry {
    sender: Principal,
    expiry: u64,
    status: RequestStatus,
}

#[derive(Default)]
pub struct Requests {
    entries: HashMap<[u8; 32], Entry>,
    by_expiry: BTreeSet<(u64, [u8; 32])>,
}

impl Requests {
    pub fn contains(&self, id: &[u8; 32]) -> bool {
        self.entries.contains_key(id)
    }

    pub fn insert(&mut self, id: [u8; 32], sender: Principal, expiry: u64, status: RequestStatus) {
        while self.entries.len() >= MAX_REQUESTS {
            let Some(first) = self.by_expiry.pop_first() else {
                break;
            };
            self.entries.remove(&first.1);
        }
        self.by_expiry.insert((expiry, id));
        self.entries.insert(
            id,
            Entry {
                sender,
                expiry,
                status,
            },
        );
    }

    pub fn set_status(&mut self, id: &[u8; 32], status: RequestStatus) {
        if let Some(entry) = self.entries.get_mut(id) {
            entry.status = status;
        }
    }

    pub fn sender(&self, id: &[u8; 32]) -> Option<Principal> {
        self.entries.get(id).map(|e| e.sender)
    }

    pub fn status(&self, id: &[u8]) -> Option<RequestStatus> {
        let id = <[u8; 32]>::try_from(id).ok()?;
        self.entries.get(&id).map(|e| e.status.clone())
    }

    /// Forgets the requests whose ingress expiry is before `now`.
    pub fn forget_expired(&mut self, now: u64) {
        while let Some(&(expiry, id)) = self.by_expiry.first() {
            if expiry >= now {
                break;
            }
            self.by_expiry.pop_first();
            if self.entries.get(&id).is_some_and(|e| e.expiry == expiry) {
                self.entries.remove(&id);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
