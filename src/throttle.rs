//! Per-caller rate limit on update calls: a token bucket per principal.
//!
//! Every update costs the canister cycles whoever sends it, so one principal must not be able
//! to spend them all. Each principal other than a controller may make `caller_call_burst`
//! updates at once and then `caller_calls_per_minute` (the canister's configuration). A refused
//! call is a typed `RateLimited` error saying when to retry.
//!
//! Buckets live on the heap, not in stable memory: they are replicated state like any other,
//! so every replica decides alike, but an upgrade refilling them is harmless and refused calls
//! leave the stable state (the one `state_digest` covers) untouched. At most
//! [`MAX_BUCKETS`] are kept; when full, the stalest bucket is dropped (a dropped bucket is a full
//! one, which an idle caller would have by now anyway).
//!
//! This bounds each principal; it cannot stop one party from minting many principals. The
//! market's per-principal quotas (open offersets, active leases) bound what each holds.
//!
//! Signed changes relayed by the anonymous principal are not charged to it (everyone would
//! share one bucket): they are charged to the signing provider key once the signature verifies,
//! and failed verifications to one shared bucket ([`Subject::FailedSignatures`]), so a stranger
//! can neither drain a provider's bucket nor make verifying cost more than that bucket allows.

use crate::time::MINUTE_NS;
use candid::Principal;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Most principals tracked at once.
pub const MAX_BUCKETS: usize = 20_000;
/// Tokens are counted in thousandths, so refills are exact at any rate.
const MILLI: u64 = 1_000;

/// How fast a principal's calls are refilled and how many it may save up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub per_minute: u32,
    pub burst: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Bucket {
    milli_tokens: u64,
    at_ns: u64,
}

/// Whose calls a bucket counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    Caller(Principal),
    /// Anonymous relays of changes this Ed25519 provider key signed (verified).
    ProviderKey([u8; 32]),
    /// Anonymous relays whose signature did not verify, all together.
    FailedSignatures,
}

impl From<Principal> for Subject {
    fn from(caller: Principal) -> Self {
        Self::Caller(caller)
    }
}

impl From<&Principal> for Subject {
    fn from(caller: &Principal) -> Self {
        Self::Caller(*caller)
    }
}

/// The buckets of every principal (or provider key) seen lately.
#[derive(Default)]
pub struct Buckets {
    by_caller: BTreeMap<Subject, Bucket>,
}

impl Buckets {
    /// Takes one call from `caller`'s bucket, or says in how many seconds one will be there.
    pub fn take(
        &mut self,
        caller: impl Into<Subject>,
        now_ns: u64,
        limits: Limits,
    ) -> Result<(), u64> {
        let caller = caller.into();
        let mut bucket = self.level(&caller, now_ns, limits);
        if bucket.milli_tokens < MILLI {
            return Err(retry_after_seconds(bucket.milli_tokens, limits));
        }
        bucket.milli_tokens -= MILLI;
        if !self.by_caller.contains_key(&caller) && self.by_caller.len() >= MAX_BUCKETS {
            self.evict_stalest();
        }
        self.by_caller.insert(caller, bucket);
        Ok(())
    }

    /// Whether `caller` could make a call now, without taking it (for `inspect_message`).
    pub fn allows(
        &self,
        caller: impl Into<Subject>,
        now_ns: u64,
        limits: Limits,
    ) -> Result<(), u64> {
        let caller = &caller.into();
        let bucket = self.level(caller, now_ns, limits);
        if bucket.milli_tokens < MILLI {
            return Err(retry_after_seconds(bucket.milli_tokens, limits));
        }
        Ok(())
    }

    /// `caller`'s bucket refilled up to `now_ns`.
    fn level(&self, caller: &Subject, now_ns: u64, limits: Limits) -> Bucket {
        let full = u64::from(limits.burst) * MILLI;
        match self.by_caller.get(caller) {
            None => Bucket {
                milli_tokens: full,
                at_ns: now_ns,
            },
            Some(bucket) => {
                let elapsed = u128::from(now_ns.saturating_sub(bucket.at_ns));
                let refill = elapsed * u128::from(limits.per_minute) * u128::from(MILLI)
                    / u128::from(MINUTE_NS);
                let tokens = u128::from(bucket.milli_tokens).saturating_add(refill);
                Bucket {
                    milli_tokens: tokens.min(u128::from(full)) as u64,
                    at_ns: now_ns.max(bucket.at_ns),
                }
            }
        }
    }

    fn evict_stalest(&mut self) {
        let stalest = self
            .by_caller
            .iter()
            .min_by_key(|(_, bucket)| bucket.at_ns)
            .map(|(caller, _)| *caller);
        if let Some(caller) = stalest {
            self.by_caller.remove(&caller);
        }
    }
}

/// Seconds until a bucket holding `milli_tokens` has a whole call again (at least 1).
fn retry_after_seconds(milli_tokens: u64, limits: Limits) -> u64 {
    let missing = MILLI.saturating_sub(milli_tokens);
    let per_minute = u64::from(limits.per_minute.max(1));
    (missing * 60).div_ceil(per_minute * MILLI).max(1)
}

thread_local! {
    static BUCKETS: RefCell<Buckets> = RefCell::default();
}

/// [`Buckets::take`] on the canister's buckets.
pub fn take(caller: impl Into<Subject>, now_ns: u64, limits: Limits) -> Result<(), u64> {
    BUCKETS.with_borrow_mut(|buckets| buckets.take(caller, now_ns, limits))
}

/// [`Buckets::allows`] on the canister's buckets.
pub fn allows(caller: impl Into<Subject>, now_ns: u64, limits: Limits) -> Result<(), u64> {
    BUCKETS.with_borrow(|buckets| buckets.allows(caller, now_ns, limits))
}

#[cfg(test)]
mod tests;
