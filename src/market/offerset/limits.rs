//! The hold caps (issue 12, H1): holds are free, so without caps a few principals hold a whole
//! market. A principal may hold `max_held_items_per_principal` items at once, holds may take
//! at most `max_held_share_per_provider_percent` of one provider's items, a hold covers at most
//! `max_hold_window_seconds`, and a provider may let only allow-listed consumers hold its
//! items. Every count is a stored counter (`store::consumer_holds`, `store::provider_holds`),
//! so a check costs a few reads however large the market.

use super::message;
use crate::catalog::provider::ProviderKey;
use crate::market::store;
use crate::market::types::*;
use crate::market::{policy, MarketError};
use candid::Principal;
use std::collections::BTreeMap;

/// Whether matching may hold an item, and if not why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Passed {
    Yes,
    ProviderCap,
    NotAllowed,
}

/// What one request may still hold, per provider, as matching takes items.
pub struct HoldLimits {
    consumer: Principal,
    share_percent: u32,
    /// Longest window a match may book: an offer's grid widens requests, and must not take
    /// them past the policy's longest lease or hold.
    longest_ns: u64,
    /// Provider → (holds it may still take, whether the consumer may hold its items).
    providers: BTreeMap<ProviderKey, (u32, bool)>,
}

impl HoldLimits {
    pub fn new(consumer: Principal, policies: &Policies) -> Self {
        let hold = policies
            .max_hold_window_seconds
            .unwrap_or(policy::DEFAULT_MAX_HOLD_WINDOW_SECONDS);
        Self {
            consumer,
            share_percent: policies
                .max_held_share_per_provider_percent
                .unwrap_or(policy::DEFAULT_MAX_HELD_SHARE_PER_PROVIDER_PERCENT),
            longest_ns: policies
                .max_lease_seconds
                .min(hold)
                .saturating_mul(crate::time::SECOND_NS),
            providers: BTreeMap::new(),
        }
    }

    /// Only who may take a provider's items, with no hold cap: for `lease_by_sku`, which leases
    /// at once and holds nothing, but must not reach items whose provider refuses the consumer.
    pub fn access_only(consumer: Principal, policies: &Policies) -> Self {
        Self {
            consumer,
            share_percent: 100,
            longest_ns: policies
                .max_lease_seconds
                .saturating_mul(crate::time::SECOND_NS),
            providers: BTreeMap::new(),
        }
    }

    /// Longest window a match may book.
    pub fn longest_ns(&self) -> u64 {
        self.longest_ns
    }

    /// Who the request is for.
    pub fn consumer(&self) -> Principal {
        self.consumer
    }

    /// Whether the consumer may hold `item` now; reads its provider's counters once a request.
    pub fn admit(&mut self, item: &Item) -> Passed {
        let provider = store::provider_key(&item.provider_pem);
        let (room, allowed) = *self
            .providers
            .entry(provider)
            .or_insert_with(|| provider_room(&provider, &self.consumer, self.share_percent));
        if !allowed {
            Passed::NotAllowed
        } else if room == 0 {
            Passed::ProviderCap
        } else {
            Passed::Yes
        }
    }

    /// Counts a match on `item` against its provider's room (admitted just before).
    pub fn taken(&mut self, item: &Item) {
        let provider = store::provider_key(&item.provider_pem);
        if let Some((room, _)) = self.providers.get_mut(&provider) {
            *room = room.saturating_sub(1);
        }
    }
}

/// How many more holds the provider's items may take, and whether `consumer` may hold them.
fn provider_room(provider: &ProviderKey, consumer: &Principal, share_percent: u32) -> (u32, bool) {
    let holds = store::provider_holds(provider);
    let allowed = match holds.access.unwrap_or(HoldAccess::Everyone) {
        HoldAccess::Everyone => true,
        HoldAccess::MarketAllowListed => store::consumer_allowed(consumer),
        HoldAccess::ProviderAllowListed => store::provider_lists(provider, consumer),
    };
    if share_percent >= 100 {
        return (u32::MAX, allowed);
    }
    (
        held_cap(store::provider_items(provider), share_percent).saturating_sub(holds.held),
        allowed,
    )
}

/// Most holds a provider's `items` may carry at once: `percent` of them rounded down, but at
/// least one, so a provider with one item can still be offered.
pub fn held_cap(items: u32, percent: u32) -> u32 {
    let share = u64::from(items) * u64::from(percent.min(100)) / 100;
    u32::try_from(share).unwrap_or(u32::MAX).max(1)
}

/// How many offers a request from `consumer` may hold: its `count`, or less when its hold cap
/// is near (with a message saying so). At the cap, a `QuotaExceeded` refusal.
pub fn offers_allowed(
    consumer: &Principal,
    policies: &Policies,
    count: u32,
) -> Result<(u32, Option<Message>), MarketError> {
    let max = policies
        .max_held_items_per_principal
        .unwrap_or(policy::DEFAULT_MAX_HELD_ITEMS_PER_PRINCIPAL);
    let held = store::consumer_holds(consumer);
    let room = max.saturating_sub(held);
    if room == 0 {
        return Err(MarketError::QuotaExceeded {
            what: "held items".into(),
            max,
        });
    }
    if room >= count {
        return Ok((count, None));
    }
    let warning = message(
        Level::Warn,
        format!(
            "{count} offers were asked for; a principal may hold {max} items at once and \
             holds {held}: at most {room} are offered"
        ),
    );
    Ok((room, Some(warning)))
}

/// FAIL messages for a hold the policies refuse: a window longer than a hold may cover.
pub fn hold_refusals(policies: &Policies, duration_seconds: u64) -> Vec<Message> {
    let max = policies
        .max_hold_window_seconds
        .unwrap_or(policy::DEFAULT_MAX_HOLD_WINDOW_SECONDS);
    if duration_seconds <= max {
        return Vec::new();
    }
    vec![message(
        Level::Fail,
        format!(
            "a hold may cover at most {max} s; {duration_seconds} s were asked for: ask for at \
             most {max} s and extend the lease after accepting (lease_extend), or lease now \
             with lease_by_sku"
        ),
    )]
}

/// Refuses a consumer the market does not serve (controllers' allow-list).
pub fn check_admitted(consumer: &Principal, policies: &Policies) -> Result<(), MarketError> {
    if policy::consumer_admitted(policies, consumer) {
        Ok(())
    } else {
        Err(MarketError::NotAuthorized {
            message: "the market serves only the consumers its controllers allow-listed".into(),
        })
    }
}

/// Principals one provider's allow-list may hold.
pub const MAX_PROVIDER_LISTED: u32 = 10_000;

/// `provider_hold_access_set`, by the provider's delegates: who may hold its items, and
/// changes to its allow-list. Checked whole before anything changes.
pub fn set_provider_access(
    rt: &impl crate::runtime::Runtime,
    arg: ProviderHoldAccessArg,
) -> Result<ProviderHoldAccess, MarketError> {
    let (provider, _) = crate::market::delegation::acting_provider(rt, &arg.provider)?;
    let allow: std::collections::BTreeSet<Principal> =
        arg.allow.unwrap_or_default().into_iter().collect();
    let disallow: std::collections::BTreeSet<Principal> =
        arg.disallow.unwrap_or_default().into_iter().collect();
    for (name, list) in [("allow", &allow), ("disallow", &disallow)] {
        if list.len() > policy::MAX_LISTED_PER_CALL {
            return Err(MarketError::TooMany {
                what: name.into(),
                max: policy::MAX_LISTED_PER_CALL as u32,
            });
        }
    }
    if let Some(both) = allow.intersection(&disallow).next() {
        return Err(MarketError::invalid(format!(
            "{both} is both allowed and disallowed"
        )));
    }
    let holds = store::provider_holds(&provider);
    let added = allow
        .iter()
        .filter(|p| !store::provider_lists(&provider, p))
        .count() as u32;
    let removed = disallow
        .iter()
        .filter(|p| store::provider_lists(&provider, p))
        .count() as u32;
    let listed = (holds.listed.unwrap_or(0) + added).saturating_sub(removed);
    if listed > MAX_PROVIDER_LISTED {
        return Err(MarketError::TooMany {
            what: "principals on a provider's allow-list".into(),
            max: MAX_PROVIDER_LISTED,
        });
    }
    // Checked: from here on nothing is refused.
    for principal in &allow {
        store::set_provider_lists(&provider, principal, true);
    }
    for principal in &disallow {
        store::set_provider_lists(&provider, principal, false);
    }
    let access = arg.access.or(holds.access).unwrap_or(HoldAccess::Everyone);
    store::update_provider_holds(&provider, |p| {
        p.access = (access != HoldAccess::Everyone).then_some(access);
        p.listed = (listed > 0).then_some(listed);
    });
    let holds = store::provider_holds(&provider);
    Ok(ProviderHoldAccess {
        access,
        listed,
        items: store::provider_items(&provider),
        held: holds.held,
    })
}

#[cfg(test)]
mod tests;
