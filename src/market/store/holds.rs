//! The hold caps' counts (each consumer's and provider's holds, each provider's items) and who
//! may hold: the canister's allow-list and each provider's.

use super::{
    ALLOWED_CONSUMERS, CONSUMER_HOLDS, PROVIDER_CONSUMERS, PROVIDER_HOLDS, PROVIDER_ITEMS,
};
use crate::catalog::provider::ProviderKey;
use crate::market::types::HoldAccess;
use candid::{CandidType, Deserialize, Principal};

/// A provider's counts for the hold caps and who may hold its items. Kept incrementally:
/// `put_item`/`remove_item` count items, `put_execution` counts OFFERED executions.
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderHolds {
    /// OFFERED executions on the provider's items.
    pub held: u32,
    /// Its items; `None` until first counted (providers from before the counter existed).
    pub items: Option<u32>,
    /// Who may hold its items; `None` is everyone.
    pub access: Option<HoldAccess>,
    /// Principals on its own allow-list.
    pub listed: Option<u32>,
}

fn add(count: u32, delta: i32) -> u32 {
    count.saturating_add_signed(delta)
}

pub(super) fn count_holds(consumer: &Principal, provider: &ProviderKey, delta: i32) {
    CONSUMER_HOLDS.with_borrow_mut(|map| {
        let held = add(map.get(consumer).unwrap_or(0), delta);
        if held == 0 {
            map.remove(consumer);
        } else {
            map.insert(*consumer, held);
        }
    });
    update_provider_holds(provider, |p| p.held = add(p.held, delta));
}

pub(super) fn count_provider_items(provider: &ProviderKey, delta: i32) {
    // An uncounted provider stays uncounted: `provider_items` counts it once, when needed.
    update_provider_holds(provider, |p| p.items = p.items.map(|n| add(n, delta)));
}

/// Items `consumer` holds now (its OFFERED executions).
pub fn consumer_holds(consumer: &Principal) -> u32 {
    CONSUMER_HOLDS.with_borrow(|map| map.get(consumer).unwrap_or(0))
}

pub fn provider_holds(provider: &ProviderKey) -> ProviderHolds {
    PROVIDER_HOLDS.with_borrow(|map| map.get(provider).unwrap_or_default())
}

pub fn update_provider_holds(provider: &ProviderKey, f: impl FnOnce(&mut ProviderHolds)) {
    PROVIDER_HOLDS.with_borrow_mut(|map| {
        let mut holds = map.get(provider).unwrap_or_default();
        f(&mut holds);
        if holds == ProviderHolds::default() {
            map.remove(provider);
        } else {
            map.insert(*provider, holds);
        }
    });
}

/// The provider's item count. Counted from its index once for a provider registered before
/// the counter existed (one walk of its keys), then kept by `put_item` and `remove_item`.
pub fn provider_items(provider: &ProviderKey) -> u32 {
    if let Some(items) = provider_holds(provider).items {
        return items;
    }
    let counted = PROVIDER_ITEMS.with_borrow(|index| {
        index
            .range((*provider, 0)..)
            .take_while(|entry| entry.key().0 == *provider)
            .count()
    });
    let counted = u32::try_from(counted).unwrap_or(u32::MAX);
    update_provider_holds(provider, |p| p.items = Some(counted));
    counted
}

pub fn consumer_allowed(principal: &Principal) -> bool {
    ALLOWED_CONSUMERS.with_borrow(|set| set.contains_key(principal))
}

pub fn set_consumer_allowed(principal: &Principal, allow: bool) {
    ALLOWED_CONSUMERS.with_borrow_mut(|set| {
        if allow {
            set.insert(*principal, ());
        } else {
            set.remove(principal);
        }
    });
}

pub fn provider_lists(provider: &ProviderKey, principal: &Principal) -> bool {
    PROVIDER_CONSUMERS.with_borrow(|set| set.contains_key(&(*provider, *principal)))
}

/// Adds or removes `principal` on the provider's list; returns whether the list changed.
pub fn set_provider_lists(provider: &ProviderKey, principal: &Principal, allow: bool) -> bool {
    PROVIDER_CONSUMERS.with_borrow_mut(|set| {
        let key = (*provider, *principal);
        if allow {
            set.insert(key, ()).is_none()
        } else {
            set.remove(&key).is_some()
        }
    })
}
