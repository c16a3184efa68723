//! Who may act for a provider, until when, and the last delegation sequence it signed.

use super::{DELEGATES, DELEGATE_EXPIRY, DELEGATION_SEQ};
use crate::catalog::provider::ProviderKey;
use candid::Principal;

/// Delegations are the account's (a rotated key's first key); a frozen provider's delegates act
/// for it no more (`catalog::keys`), nor does a delegate whose delegation expired by `now`.
pub fn is_delegate(provider: &ProviderKey, principal: &Principal, now: u64) -> bool {
    let account = crate::catalog::keys::account_of(provider);
    !crate::catalog::keys::is_frozen(&account)
        && DELEGATES.with_borrow(|delegates| delegates.contains_key(&(account, *principal)))
        && is_live(delegate_expiry(&account, principal), now)
}

/// Whether a delegation expiring at `expiry` (`None`: never) still holds at `now`.
pub fn is_live(expiry: Option<u64>, now: u64) -> bool {
    expiry.is_none_or(|at| now < at)
}

/// Lets `principal` act for `provider` until `expires_at_ns` (`None`: until revoked), or with
/// `allow` false stops it (its expiry goes too).
pub fn set_delegate(
    provider: &ProviderKey,
    principal: &Principal,
    allow: bool,
    expires_at_ns: Option<u64>,
) {
    let key = (*provider, *principal);
    DELEGATES.with_borrow_mut(|delegates| {
        if allow {
            delegates.insert(key, ());
        } else {
            delegates.remove(&key);
        }
    });
    DELEGATE_EXPIRY.with_borrow_mut(|expiry| match expires_at_ns {
        Some(at) if allow => {
            expiry.insert(key, at);
        }
        _ => {
            expiry.remove(&key);
        }
    });
}

/// When `principal`'s delegation from `provider` expires; `None`: never (or no delegation).
pub fn delegate_expiry(provider: &ProviderKey, principal: &Principal) -> Option<u64> {
    DELEGATE_EXPIRY.with_borrow(|expiry| expiry.get(&(*provider, *principal)))
}

/// Every delegate of `provider`, expired ones included (at most `MAX_DELEGATES`).
pub fn delegates(provider: &ProviderKey) -> Vec<Principal> {
    DELEGATES.with_borrow(|delegates| {
        delegates
            .range((*provider, Principal::management_canister())..)
            .take_while(|entry| entry.key().0 == *provider)
            .map(|entry| entry.key().1)
            .collect()
    })
}

pub fn delegation_seq(provider: &ProviderKey) -> u64 {
    DELEGATION_SEQ.with_borrow(|seqs| seqs.get(provider).unwrap_or(0))
}

pub fn set_delegation_seq(provider: &ProviderKey, seq: u64) {
    DELEGATION_SEQ.with_borrow_mut(|seqs| seqs.insert(*provider, seq));
}
