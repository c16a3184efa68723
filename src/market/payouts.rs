//! Where providers are paid: the account a provider's current key names
//! (`provider_payout_set`), or that key's own principal. The key names it by calling from its
//! own self-authenticating principal, so the ingress message is signed by the key itself (a
//! delegate cannot redirect the provider's money); a key rotation or a controller's recovery
//! forgets it (the key that named it signs no more).
//! Stored with the key's state (`catalog::keys`), one per provider account.

use super::delegation::from_catalog;
use super::types::{Account, PayoutSetArg, ProviderPayout};
use super::{store, MarketError};
use crate::catalog::keys;
use crate::catalog::provider::{ProviderKey, ProviderKeyInput};
use crate::runtime::Runtime;
use candid::Principal;
use serde_bytes::ByteBuf;

/// `provider_payout_set`: the provider's current key, calling as its own principal, names
/// where its payouts go (or, with no account, its own principal again).
pub fn set(rt: &impl Runtime, arg: PayoutSetArg) -> Result<ProviderPayout, MarketError> {
    let key =
        ProviderKey::parse(&arg.provider).map_err(|message| MarketError::InvalidKey { message })?;
    if rt.caller() != key.principal() {
        return Err(MarketError::NotAuthorized {
            message: format!(
                "only the provider's key names its payout account: call as its principal {} \
                 (e.g. `dfx identity import` of the key)",
                key.principal()
            ),
        });
    }
    // Refuses a retired key (its successor names it) and a frozen provider.
    let account = keys::signer(&key).map_err(from_catalog)?;
    // Only a provider the market knows (items, or a published catalog, both capped) stores
    // one: a key minted for free writes nothing.
    if store::provider_items(&account) == 0 && crate::catalog::store::provider(&account).is_none() {
        return Err(MarketError::invalid(
            "only a provider with items in the market or a published catalog has payouts",
        ));
    }
    if let Some(to) = &arg.account {
        if to.owner == Principal::anonymous() || to.owner == rt.canister_id() {
            return Err(MarketError::invalid(
                "payouts cannot go to the anonymous principal or to the market itself",
            ));
        }
    }
    let stored = arg
        .account
        .map(|to| (to.owner, to.subaccount.map(|s| ByteBuf::from(s.to_vec()))));
    keys::set_payout(&account, stored);
    Ok(view(&account))
}

/// `provider_payout`: where the provider of `key` (any of its keys) is paid. Public, as its
/// payouts on the ledger are.
pub fn get(key: ProviderKeyInput) -> Result<ProviderPayout, MarketError> {
    let key = ProviderKey::parse_for_lookup(&key)
        .map_err(|message| MarketError::InvalidKey { message })?;
    Ok(view(&keys::account_of(&key)))
}

/// Where the provider whose key signed an execution (`provider_pem`, stored, so well formed)
/// is paid now.
pub fn account_for(provider_pem: &str) -> Option<Account> {
    let input = ProviderKeyInput::Pem(provider_pem.into());
    let key = ProviderKey::parse_for_lookup(&input).ok()?;
    Some(view(&keys::account_of(&key)).account)
}

fn view(account: &ProviderKey) -> ProviderPayout {
    let current = keys::current_key(account);
    let named = keys::payout(account).map(|(owner, subaccount)| Account {
        owner,
        subaccount: subaccount.and_then(|s| <[u8; 32]>::try_from(s.as_slice()).ok()),
    });
    ProviderPayout {
        provider_pem: current.to_pem(),
        named: named.is_some(),
        account: named.unwrap_or(Account {
            owner: current.principal(),
            subaccount: None,
        }),
    }
}

#[cfg(test)]
mod tests;
