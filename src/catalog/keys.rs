//! Provider keys over time (issue 12, item 6, finding M2): controllers freeze a provider, a
//! provider rotates its key (signed by the old one), and controllers recover a lost or stolen
//! key to a new one.
//!
//! A provider's records (catalog, sequence numbers, delegations, items) stay under its first key,
//! its *account*; a key rotated in signs for the account, and a retired key is refused with
//! `KeyRotated`. Each key with a state has one entry in the catalog's providers region (a slot of
//! its own): on the account `frozen` and `current` (the key that signs for it now), on a retired
//! key `successor`, on a key rotated in `account`. Keys without an entry are their own account,
//! not frozen. Resolving a signer reads its entry and, for a rotated-in key, its account's:
//! bounded, no walk over the history. The state is a Candid record of `opt` fields, so fields
//! a later version adds leave what this one stored decodable.

use crate::auth;
use crate::catalog::error::CatalogError;
use crate::catalog::provider::{ProviderKey, ProviderKeyInput};
use crate::catalog::publish;
use crate::catalog::signing::{self, Operation};
use crate::catalog::store::{self, ProviderRecord};
use crate::runtime::Runtime;
use candid::{CandidType, Deserialize, Principal};
use ic_stable_structures::Storable;
use serde_bytes::ByteBuf;
use std::borrow::Cow;

/// `provider_freeze`'s argument: freeze (`frozen = true`) or unfreeze a provider.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProviderFreezeArg {
    pub provider: ProviderKeyInput,
    pub frozen: bool,
}

/// `provider_rotate_key`'s argument: the current key signs (operation `RotateKey`, payload the
/// new key's 32 bytes, the account's next catalog sequence number) that `new_key` replaces it.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RotateKeyArg {
    pub provider: ProviderKeyInput,
    pub new_key: ProviderKeyInput,
    pub seq: u64,
    pub signature: ByteBuf,
}

/// `provider_recover`'s argument: any key of the provider, and the key that signs for it from
/// now on (controllers only).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct RecoverKeyArg {
    pub provider: ProviderKeyInput,
    pub new_key: ProviderKeyInput,
}

/// A key's stored state; absent is the default.
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
struct KeyState {
    frozen: Option<bool>,
    successor: Option<ByteBuf>,
    account: Option<ByteBuf>,
    current: Option<ByteBuf>,
    /// On an account: where its payouts go, as its current key named it (`market::payouts`);
    /// absent, the current key's own principal. A new key (rotation, recovery) clears it.
    payout_owner: Option<Principal>,
    payout_subaccount: Option<ByteBuf>,
}

/// A key this module stored (checked when it was accepted).
fn stored_key(bytes: &Option<ByteBuf>) -> Option<ProviderKey> {
    let bytes = bytes.as_ref().filter(|b| b.len() == 32)?;
    Some(ProviderKey::from_bytes(Cow::Borrowed(bytes)))
}

fn to_stored(key: &ProviderKey) -> Option<ByteBuf> {
    Some(ByteBuf::from(key.as_bytes().to_vec()))
}

fn state(key: &ProviderKey) -> KeyState {
    // Only this module writes key states; an unreadable one reads as the default.
    store::key_state(key)
        .and_then(|bytes| candid::decode_one(&bytes).ok())
        .unwrap_or_default()
}

fn put(key: &ProviderKey, state: &KeyState) {
    let bytes = (*state != KeyState::default())
        .then(|| candid::encode_one(state).expect("a key state encodes"));
    store::set_key_state(key, bytes);
}

/// Whether the controllers froze the account.
pub fn is_frozen(account: &ProviderKey) -> bool {
    state(account).frozen == Some(true)
}

/// Refuses the changes of a frozen account (an upload begun before the freeze).
pub fn check_not_frozen(account: &ProviderKey) -> Result<(), CatalogError> {
    if is_frozen(account) {
        return Err(CatalogError::ProviderFrozen);
    }
    Ok(())
}

/// The account `key` belongs to: itself, or the account it was rotated into.
pub fn account_of(key: &ProviderKey) -> ProviderKey {
    stored_key(&state(key).account).unwrap_or(*key)
}

/// The key that signs for `account` now (the last one rotated in, or the account's own) and
/// the payout account (owner, subaccount) it named, if any: one read of the key's state.
pub fn current_and_payout(
    account: &ProviderKey,
) -> (ProviderKey, Option<(Principal, Option<ByteBuf>)>) {
    let state = state(account);
    let current = stored_key(&state.current).unwrap_or(*account);
    (
        current,
        state
            .payout_owner
            .map(|owner| (owner, state.payout_subaccount)),
    )
}

/// Names (or, with `None`, forgets) where `account`'s payouts go. The caller checked who asks.
pub fn set_payout(account: &ProviderKey, payout: Option<(Principal, Option<ByteBuf>)>) {
    let mut state = state(account);
    (state.payout_owner, state.payout_subaccount) = match payout {
        Some((owner, subaccount)) => (Some(owner), subaccount),
        None => (None, None),
    };
    put(account, &state);
}

/// The account a verified signer signs for; refuses a retired key and a frozen account.
pub fn signer(key: &ProviderKey) -> Result<ProviderKey, CatalogError> {
    let own = state(key);
    if let Some(successor) = stored_key(&own.successor) {
        return Err(CatalogError::KeyRotated {
            successor_pem: successor.to_pem(),
        });
    }
    let (account, frozen) = match stored_key(&own.account) {
        Some(account) => (account, is_frozen(&account)),
        None => (*key, own.frozen == Some(true)),
    };
    if frozen {
        return Err(CatalogError::ProviderFrozen);
    }
    Ok(account)
}

/// Freezes or unfreezes the account of `arg.provider`. Controllers only; the key need not have
/// published yet (a controller may freeze a key before its thief uses it).
pub fn freeze(rt: &impl Runtime, arg: ProviderFreezeArg) -> Result<(), CatalogError> {
    only_controllers(rt, "freeze providers")?;
    let account = account_of(&publish::parse_key(&arg.provider)?);
    let mut state = state(&account);
    state.frozen = arg.frozen.then_some(true);
    put(&account, &state);
    Ok(())
}

/// Moves the provider to `arg.new_key`, signed by its current key with the account's next
/// catalog sequence number (the provider must have published).
pub fn rotate(rt: &impl Runtime, arg: RotateKeyArg) -> Result<(), CatalogError> {
    let old = publish::parse_key(&arg.provider)?;
    let new = publish::parse_key(&arg.new_key)?;
    let hash = signing::payload_hash(new.as_bytes());
    signing::verify_relayed(
        rt,
        &old,
        Operation::RotateKey,
        arg.seq,
        &hash,
        &arg.signature,
    )?;
    let account = signer(&old)?;
    let record = store::provider(&account).ok_or(CatalogError::UnknownProvider)?;
    let now = rt.time();
    publish::check_seq(Some(&record), arg.seq, now)?;
    check_fresh(&new)?;
    replace_key(&account, &old, &new);
    let record = ProviderRecord {
        seq: arg.seq,
        updated_at_ns: now,
        ..record
    };
    store::set_provider(&account, &record);
    Ok(())
}

/// Sets the key of `arg.provider`'s account to `arg.new_key` without the old key's signature
/// (forgetting the payout account the old key named, as every key change does) and lifts a
/// freeze; returns the account (whose delegations the market then revokes). Controllers
/// only.
pub fn recover(rt: &impl Runtime, arg: RecoverKeyArg) -> Result<ProviderKey, CatalogError> {
    only_controllers(rt, "recover provider keys")?;
    let account = account_of(&publish::parse_key(&arg.provider)?);
    let new = publish::parse_key(&arg.new_key)?;
    check_fresh(&new)?;
    replace_key(&account, &current_and_payout(&account).0, &new);
    let mut state = state(&account);
    state.frozen = None;
    put(&account, &state);
    Ok(account)
}

/// A new key must be unknown: no state, no catalog of its own.
fn check_fresh(new: &ProviderKey) -> Result<(), CatalogError> {
    if state(new) != KeyState::default() || store::provider(new).is_some() {
        return Err(CatalogError::InvalidKey {
            message: "the new key is already a provider's key".into(),
        });
    }
    Ok(())
}

fn replace_key(account: &ProviderKey, old: &ProviderKey, new: &ProviderKey) {
    let mut retired = state(old);
    retired.successor = to_stored(new);
    put(old, &retired);
    let rotated_in = KeyState {
        account: to_stored(account),
        ..KeyState::default()
    };
    put(new, &rotated_in);
    let mut owner = state(account);
    owner.current = to_stored(new);
    // The payout account was named by the key going out (perhaps a leaked one): the new key
    // names its own.
    owner.payout_owner = None;
    owner.payout_subaccount = None;
    put(account, &owner);
}

fn only_controllers(rt: &impl Runtime, what: &str) -> Result<(), CatalogError> {
    if !auth::caller_is_controller(rt) {
        return Err(CatalogError::NotAuthorized {
            message: format!("only controllers {what}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
