//! Provider authorization in the market: a provider signs, once, that a principal may act for
//! it (a `dfx` identity, a provider's backend); after that the principal's calls are the
//! provider's, with no per-call signature. Delegations are revocable the same way.
//!
//! The signed message is the catalog's (`catalog::signing`) with operation `Delegate` and the
//! payload `principal bytes ‖ allow (1) or revoke (0)`, followed, for a delegation that expires,
//! by the 8 big-endian bytes of `expires_at_ns` (so a delegation without one signs what it always
//! did); delegation sequence numbers are the provider's own and must increase. An expired
//! delegation is no delegation: `store::is_delegate` is given the time and leaves it out.

use super::store;
use super::types::{Actor, DelegateArg, DelegateExpiry, Delegation};
use super::MarketError;
use crate::catalog::error::CatalogError;
use crate::catalog::keys::{self, RecoverKeyArg, RotateKeyArg};
use crate::catalog::provider::{ProviderKey, ProviderKeyInput};
use crate::catalog::signing::{self, Operation};
use crate::runtime::Runtime;
use candid::Principal;

/// Most principals one provider may delegate to.
pub const MAX_DELEGATES: usize = 32;

/// The signed payload: `principal bytes ‖ allow byte`, then, when the delegation expires,
/// `expires_at_ns` (8 bytes, big-endian) and [`EXPIRY_TAG`].
pub fn payload(principal: &Principal, allow: bool, expires_at_ns: Option<u64>) -> Vec<u8> {
    let mut payload = principal.as_slice().to_vec();
    payload.push(u8::from(allow));
    if let Some(at) = expires_at_ns {
        payload.extend_from_slice(&at.to_be_bytes());
        payload.push(EXPIRY_TAG);
    }
    payload
}

/// The last byte of a payload with an expiry. A payload without one ends in its allow byte (0
/// or 1), so no signature over one can be replayed as the other: without the tag, a short
/// principal's expiring payload would also read as an open-ended delegation of a longer one.
const EXPIRY_TAG: u8 = 0xFF;

/// Applies a signed delegation; anyone may submit it.
pub fn delegate(rt: &impl Runtime, arg: DelegateArg) -> Result<Delegation, MarketError> {
    let provider = parse_key(&arg.provider)?;
    let hash = signing::payload_hash(&payload(&arg.principal, arg.allow, arg.expires_at_ns));
    signing::verify_relayed(
        rt,
        &provider,
        Operation::Delegate,
        arg.seq,
        &hash,
        &arg.signature,
    )
    .map_err(from_catalog)?;
    // Delegations are the account's (a rotated key's first key).
    let provider = keys::signer(&provider).map_err(from_catalog)?;
    let last = store::delegation_seq(&provider);
    if arg.seq <= last {
        return Err(MarketError::StaleSequence { last });
    }
    if let Some(message) = signing::seq_too_far_ahead(arg.seq, last, rt.time()) {
        return Err(MarketError::invalid(message));
    }
    if arg.principal == Principal::anonymous() {
        return Err(MarketError::InvalidArgument {
            message: "the anonymous principal cannot act for a provider".into(),
        });
    }
    let now = rt.time();
    if let Some(at) = arg.expires_at_ns {
        if !arg.allow {
            return Err(MarketError::invalid(
                "expires_at_ns is for a delegation that allows; a revocation has none",
            ));
        }
        if at <= now {
            return Err(MarketError::invalid(format!(
                "the delegation would expire at {at} ns, at or before now ({now} ns)"
            )));
        }
    }
    let delegates = store::delegates(&provider);
    // Expired delegates do not count toward the cap: they go when a new one needs the room.
    let mut expired = Vec::new();
    if arg.allow && !delegates.contains(&arg.principal) && delegates.len() >= MAX_DELEGATES {
        expired = delegates
            .iter()
            .filter(|principal| !store::is_live(store::delegate_expiry(&provider, principal), now))
            .copied()
            .collect();
        if expired.is_empty() {
            return Err(MarketError::TooMany {
                what: "delegates".into(),
                max: MAX_DELEGATES as u32,
            });
        }
    }
    for principal in &expired {
        store::set_delegate(&provider, principal, false, None);
    }
    store::set_delegate(&provider, &arg.principal, arg.allow, arg.expires_at_ns);
    store::set_delegation_seq(&provider, arg.seq);
    Ok(delegation(&provider, now))
}

/// A provider's live delegates and last sequence number; public, so clients can pick the next
/// one.
pub fn get(rt: &impl Runtime, input: &ProviderKeyInput) -> Result<Delegation, MarketError> {
    Ok(delegation(&keys::account_of(&parse_key(input)?), rt.time()))
}

/// The view of `provider`'s delegations at `now`: expired ones are left out.
fn delegation(provider: &ProviderKey, now: u64) -> Delegation {
    let mut principals = Vec::new();
    let mut expiring = Vec::new();
    for principal in store::delegates(provider) {
        let expiry = store::delegate_expiry(provider, &principal);
        if !store::is_live(expiry, now) {
            continue;
        }
        if let Some(expires_at_ns) = expiry {
            expiring.push(DelegateExpiry {
                principal,
                expires_at_ns,
            });
        }
        principals.push(principal);
    }
    Delegation {
        provider_pem: provider.to_pem(),
        principals,
        seq: store::delegation_seq(provider),
        expiring,
    }
}

/// The provider named by `input`, if the caller may act for it, and the actor it is recorded as.
pub fn acting_provider(
    rt: &impl Runtime,
    input: &ProviderKeyInput,
) -> Result<(ProviderKey, Actor), MarketError> {
    let provider = keys::account_of(&parse_lookup_key(input)?);
    keys::check_not_frozen(&provider).map_err(from_catalog)?;
    let caller = rt.caller();
    if !store::is_delegate(&provider, &caller, rt.time()) {
        return Err(MarketError::NotAuthorized {
            message: format!(
                "{caller} does not act for this provider: the provider signs a delegation first"
            ),
        });
    }
    let actor = Actor::Provider {
        provider_pem: provider.to_pem(),
        principal: caller,
    };
    Ok((provider, actor))
}

/// Whether the caller acts for the provider whose PEM is `provider_pem` (records without a
/// provider, such as offersets, have an empty one: nobody acts for it).
pub fn caller_acts_for(rt: &impl Runtime, provider_pem: &str) -> bool {
    ProviderKey::parse_for_lookup(&ProviderKeyInput::Pem(provider_pem.into()))
        .is_ok_and(|provider| store::is_delegate(&provider, &rt.caller(), rt.time()))
}

/// Controller recovery (`provider_recover`): the account's key becomes `arg.new_key`, a freeze
/// is lifted, and every delegation (at most [`MAX_DELEGATES`]) is revoked, the thief's included.
pub fn recover(rt: &impl Runtime, arg: RecoverKeyArg) -> Result<Delegation, MarketError> {
    if !crate::auth::caller_is_controller(rt) {
        return Err(MarketError::NotAuthorized {
            message: "only controllers recover provider keys".into(),
        });
    }
    check_unused(&arg.new_key).map_err(from_catalog)?;
    let account = keys::recover(rt, arg).map_err(from_catalog)?;
    for principal in store::delegates(&account) {
        store::set_delegate(&account, &principal, false, None);
    }
    Ok(delegation(&account, rt.time()))
}

/// A key rotation (`provider_rotate_key`), signed by the current key: `catalog::keys::rotate`,
/// once the market knows the new key as nobody's.
pub fn rotate(rt: &impl Runtime, arg: RotateKeyArg) -> Result<(), CatalogError> {
    check_unused(&arg.new_key)?;
    keys::rotate(rt, arg)
}

/// A key that ever delegated is a provider of its own (its delegates, its items): it cannot
/// become another's, or that provider's delegates would act for its items.
fn check_unused(new_key: &ProviderKeyInput) -> Result<(), CatalogError> {
    match ProviderKey::parse_for_lookup(new_key) {
        Ok(key) if store::delegation_seq(&key) > 0 => Err(CatalogError::InvalidKey {
            message: "the new key is already a provider's key".into(),
        }),
        _ => Ok(()),
    }
}

pub(super) fn parse_key(input: &ProviderKeyInput) -> Result<ProviderKey, MarketError> {
    ProviderKey::parse(input).map_err(|message| MarketError::InvalidKey { message })
}

/// Delegated keys were checked when stored, so a lookup skips the costly point check.
pub(super) fn parse_lookup_key(input: &ProviderKeyInput) -> Result<ProviderKey, MarketError> {
    ProviderKey::parse_for_lookup(input).map_err(|message| MarketError::InvalidKey { message })
}

pub(super) fn from_catalog(error: CatalogError) -> MarketError {
    match error {
        CatalogError::InvalidSignature => MarketError::InvalidSignature,
        CatalogError::ProviderFrozen => MarketError::ProviderFrozen,
        CatalogError::KeyRotated { successor_pem } => MarketError::KeyRotated { successor_pem },
        CatalogError::NotAuthorized { message } => MarketError::NotAuthorized { message },
        CatalogError::InvalidKey { message } => MarketError::InvalidKey { message },
        CatalogError::InvalidArgument { message } => MarketError::InvalidArgument { message },
        CatalogError::RateLimited {
            retry_after_seconds,
        } => MarketError::RateLimited {
            retry_after_seconds,
        },
        other => MarketError::InvalidArgument {
            message: format!("{other:?}"),
        },
    }
}

/// A signed delegation without an expiry, for clients and tests.
#[cfg(not(target_arch = "wasm32"))]
pub fn signed(
    secret: &[u8; 32],
    canister: &Principal,
    principal: Principal,
    allow: bool,
    seq: u64,
) -> DelegateArg {
    signed_until(secret, canister, principal, allow, seq, None)
}

/// A signed delegation that expires at `expires_at_ns` (`None`: never), for clients and tests.
#[cfg(not(target_arch = "wasm32"))]
pub fn signed_until(
    secret: &[u8; 32],
    canister: &Principal,
    principal: Principal,
    allow: bool,
    seq: u64,
    expires_at_ns: Option<u64>,
) -> DelegateArg {
    let provider = signing::provider_of(secret);
    let hash = signing::payload_hash(&payload(&principal, allow, expires_at_ns));
    let signature = signing::sign(secret, canister, Operation::Delegate, seq, &hash);
    DelegateArg {
        provider: ProviderKeyInput::Raw(provider.as_bytes().to_vec().into()),
        principal,
        allow,
        seq,
        signature: signature.to_vec().into(),
        expires_at_ns,
    }
}

#[cfg(test)]
mod tests;
