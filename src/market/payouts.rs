//! Where providers are paid: the account a provider's current key names
//! (`provider_payout_set`), or that key's own principal. The key names it by calling from its
//! own self-authenticating principal, so the ingress message is signed by the key itself (a
//! delegate cannot redirect the provider's money); a key rotation or a controller's recovery
//! forgets it (the key that named it signs no more).
//! Stored with the key's state (`catalog::keys`), one per provider account.

use super::delegation::{from_catalog, parse_key, parse_lookup_key};
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
    let key = parse_key(&arg.provider)?;
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
    let key = parse_lookup_key(&key)?;
    Ok(view(&keys::account_of(&key)))
}

/// Where the provider whose key signed an execution (`provider_pem`, stored, so well formed)
/// is paid now (the settlement's lookup: no PEM of the current key is made).
pub fn account_for(provider_pem: &str) -> Option<Account> {
    let key = parse_lookup_key(&ProviderKeyInput::Pem(provider_pem.into())).ok()?;
    Some(paid_to(&keys::account_of(&key)).1)
}

/// The provider's current key and where it is paid: the account it named, else its principal.
fn paid_to(account: &ProviderKey) -> (ProviderKey, Account, bool) {
    let (current, named) = keys::current_and_payout(account);
    let named = named.map(|(owner, subaccount)| Account {
        owner,
        subaccount: subaccount.and_then(|s| <[u8; 32]>::try_from(s.as_slice()).ok()),
    });
    let is_named = named.is_some();
    let account = named.unwrap_or(Account {
        owner: current.principal(),
        subaccount: None,
    });
    (current, account, is_named)
}

fn view(account: &ProviderKey) -> ProviderPayout {
    let (current, account, named) = paid_to(account);
    ProviderPayout {
        provider_pem: current.to_pem(),
        named,
        account,
    }
}

#[cfg(test)]
mod tests;
