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
    Ok(delegation(&parse_key(input)?))
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
    let provider = parse_lookup_key(input)?;
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
