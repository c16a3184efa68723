//! Provider authorization in the market: a provider signs, once, that a principal may act for
//! it (a `dfx` identity, a provider's backend); after that the principal's calls are the
//! provider's, with no per-call signature. Delegations are revocable the same way.
//!
//! The signed message is the catalog's (`catalog::signing`) with operation `Delegate` and the
//! payload `principal bytes ‖ allow (1) or revoke (0)`; delegation sequence numbers are the
//! provider's own and must increase.

use super::store;
use super::types::{Actor, DelegateArg, Delegation};
use super::MarketError;
use crate::catalog::error::CatalogError;
use crate::catalog::keys::{self, RecoverKeyArg, RotateKeyArg};
use crate::catalog::provider::{ProviderKey, ProviderKeyInput};
use crate::catalog::signing::{self, Operation};
use crate::runtime::Runtime;
use candid::Principal;

/// Most principals one provider may delegate to.
pub const MAX_DELEGATES: usize = 32;

pub fn payload(principal: &Principal, allow: bool) -> Vec<u8> {
    let mut payload = principal.as_slice().to_vec();
    payload.push(u8::from(allow));
    payload
}

/// Applies a signed delegation; anyone may submit it.
pub fn delegate(rt: &impl Runtime, arg: DelegateArg) -> Result<Delegation, MarketError> {
    let provider = parse_key(&arg.provider)?;
    let hash = signing::payload_hash(&payload(&arg.principal, arg.allow));
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
    let delegates = store::delegates(&provider);
    if arg.allow && !delegates.contains(&arg.principal) && delegates.len() >= MAX_DELEGATES {
        return Err(MarketError::TooMany {
            what: "delegates".into(),
            max: MAX_DELEGATES as u32,
        });
    }
    store::set_delegate(&provider, &arg.principal, arg.allow);
    store::set_delegation_seq(&provider, arg.seq);
    Ok(delegation(&provider))
}

/// A provider's delegates and last sequence number; public, so clients can pick the next one.
pub fn get(input: &ProviderKeyInput) -> Result<Delegation, MarketError> {
    Ok(delegation(&keys::account_of(&parse_key(input)?)))
}

fn delegation(provider: &ProviderKey) -> Delegation {
    Delegation {
        provider_pem: provider.to_pem(),
        principals: store::delegates(provider),
        seq: store::delegation_seq(provider),
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
    if !store::is_delegate(&provider, &caller) {
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
        .is_ok_and(|provider| store::is_delegate(&provider, &rt.caller()))
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
        store::set_delegate(&account, &principal, false);
    }
    Ok(delegation(&account))
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

fn parse_key(input: &ProviderKeyInput) -> Result<ProviderKey, MarketError> {
    ProviderKey::parse(input).map_err(|message| MarketError::InvalidKey { message })
}

/// Delegated keys were checked when stored, so a lookup skips the costly point check.
fn parse_lookup_key(input: &ProviderKeyInput) -> Result<ProviderKey, MarketError> {
    ProviderKey::parse_for_lookup(input).map_err(|message| MarketError::InvalidKey { message })
}

fn from_catalog(error: CatalogError) -> MarketError {
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

/// A signed delegation, for clients and tests.
#[cfg(not(target_arch = "wasm32"))]
pub fn signed(
    secret: &[u8; 32],
    canister: &Principal,
    principal: Principal,
    allow: bool,
    seq: u64,
) -> DelegateArg {
    let provider = signing::provider_of(secret);
    let hash = signing::payload_hash(&payload(&principal, allow));
    let signature = signing::sign(secret, canister, Operation::Delegate, seq, &hash);
    DelegateArg {
        provider: ProviderKeyInput::Raw(provider.as_bytes().to_vec().into()),
        principal,
        allow,
        seq,
        signature: signature.to_vec().into(),
    }
}

#[cfg(test)]
mod tests;
