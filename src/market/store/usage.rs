//! What each principal holds, for the quotas.

use super::USAGE;
use candid::{CandidType, Deserialize, Principal};

/// What one principal holds, for the quotas.
#[derive(CandidType, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub open_offersets: u32,
    /// Executions accepted and not yet finished (ACCEPTED through RELEASING).
    pub active_leases: u32,
}

pub fn usage(principal: &Principal) -> Usage {
    USAGE.with_borrow(|usage| usage.get(principal).unwrap_or_default())
}

pub fn update_usage(principal: &Principal, f: impl FnOnce(&mut Usage)) {
    USAGE.with_borrow_mut(|map| {
        let mut usage = map.get(principal).unwrap_or_default();
        f(&mut usage);
        if usage == Usage::default() {
            map.remove(principal);
        } else {
            map.insert(*principal, usage);
        }
    });
}
