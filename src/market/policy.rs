//! Policies controllers set: which images may run, how long a lease may be, how much one
//! principal may hold, how long offers hold their resources.

use super::store;
use super::types::{ConsumerAccess, Policies, PoliciesUpdate};
use super::MarketError;
use std::ops::RangeInclusive;

const DAY: u64 = 24 * 3600;
const MAX_LEASE_SECONDS: RangeInclusive<u64> = 60..=366 * DAY;
const OFFER_TTL_SECONDS: RangeInclusive<u64> = 10..=DAY;
const STUCK_TIMEOUT_SECONDS: RangeInclusive<u64> = 60..=7 * DAY;
const REBUILD_SECONDS: RangeInclusive<u64> = 0..=7 * DAY;
const PER_PRINCIPAL: RangeInclusive<u32> = 1..=10_000;
const OFFERS_PER_OFFERSET: RangeInclusive<u32> = 1..=100;
const MAX_IMAGES: usize = 1_000;
const MAX_IMAGE_BYTES: usize = 512;
const HELD_ITEMS: RangeInclusive<u32> = 1..=100_000;
const HELD_SHARE_PERCENT: RangeInclusive<u32> = 1..=100;
const HOLD_WINDOW_SECONDS: RangeInclusive<u64> = 60..=366 * DAY;
const RECLAIM_NOTICE_SECONDS: RangeInclusive<u64> = 0..=30 * DAY;
const CLOSED_RETENTION_SECONDS: RangeInclusive<u64> = 3600..=3660 * DAY;
// At most half of what a lease pays: the rest is the provider's.
const MARKET_FEE_BASIS_POINTS: RangeInclusive<u32> = 0..=5_000;
/// Principals one `policies_set` may add to or remove from the consumers' allow-list.
pub const MAX_LISTED_PER_CALL: usize = 500;

/// Defaults of the fields stored as `Option` (absent in what older versions stored).
pub const DEFAULT_MAX_HELD_ITEMS_PER_PRINCIPAL: u32 = 20;
pub const DEFAULT_MAX_HELD_SHARE_PER_PROVIDER_PERCENT: u32 = 100;
pub const DEFAULT_MAX_HOLD_WINDOW_SECONDS: u64 = 7 * DAY;
pub const DEFAULT_RECLAIM_NOTICE_SECONDS: u64 = 3600;
pub const DEFAULT_CLOSED_RETENTION_SECONDS: u64 = 90 * DAY;

/// 21-day leases, 5-minute offers (the ExecutionBroker's default), any image.
pub fn defaults() -> Policies {
    Policies {
        allowed_images: Vec::new(),
        max_lease_seconds: 21 * DAY,
        max_open_offersets_per_principal: 5,
        max_active_leases_per_principal: 10,
        offer_ttl_seconds: 300,
        max_offers_per_offerset: 20,
        stuck_timeout_seconds: 1800,
        rebuild_seconds: 0,
        max_held_items_per_principal: Some(DEFAULT_MAX_HELD_ITEMS_PER_PRINCIPAL),
        max_held_share_per_provider_percent: Some(DEFAULT_MAX_HELD_SHARE_PER_PROVIDER_PERCENT),
        max_hold_window_seconds: Some(DEFAULT_MAX_HOLD_WINDOW_SECONDS),
        consumers: Some(ConsumerAccess::Everyone),
        reclaim_notice_seconds: Some(DEFAULT_RECLAIM_NOTICE_SECONDS),
        closed_retention_seconds: Some(DEFAULT_CLOSED_RETENTION_SECONDS),
        market_fee_basis_points: None,
        treasury: None,
        hold_deposit: None,
        currency: None,
    }
}

/// The policies in force: stored ones with every absent optional field at its default.
pub fn get() -> Policies {
    effective(store::policies())
}

/// `policies` with the fields an older version did not store set to their defaults.
pub fn effective(policies: Policies) -> Policies {
    let d = defaults();
    Policies {
        max_held_items_per_principal: policies
            .max_held_items_per_principal
            .or(d.max_held_items_per_principal),
        max_held_share_per_provider_percent: policies
            .max_held_share_per_provider_percent
            .or(d.max_held_share_per_provider_percent),
        max_hold_window_seconds: policies
            .max_hold_window_seconds
            .or(d.max_hold_window_seconds),
        consumers: policies.consumers.or(d.consumers),
        reclaim_notice_seconds: policies.reclaim_notice_seconds.or(d.reclaim_notice_seconds),
        closed_retention_seconds: policies
            .closed_retention_seconds
            .or(d.closed_retention_seconds),
        currency: super::payments::currency(),
        ..policies
    }
}

/// Applies the fields `update` gives, if the result is valid; otherwise changes nothing.
pub fn set(update: PoliciesUpdate) -> Result<Policies, MarketError> {
    let current = get();
    let policies = Policies {
        allowed_images: update.allowed_images.unwrap_or(current.allowed_images),
        max_lease_seconds: update
            .max_lease_seconds
            .unwrap_or(current.max_lease_seconds),
        max_open_offersets_per_principal: update
            .max_open_offersets_per_principal
            .unwrap_or(current.max_open_offersets_per_principal),
        max_active_leases_per_principal: update
            .max_active_leases_per_principal
            .unwrap_or(current.max_active_leases_per_principal),
        offer_ttl_seconds: update
            .offer_ttl_seconds
            .unwrap_or(current.offer_ttl_seconds),
        max_offers_per_offerset: update
            .max_offers_per_offerset
            .unwrap_or(current.max_offers_per_offerset),
        stuck_timeout_seconds: update
            .stuck_timeout_seconds
            .unwrap_or(current.stuck_timeout_seconds),
        rebuild_seconds: update.rebuild_seconds.unwrap_or(current.rebuild_seconds),
        max_held_items_per_principal: update
            .max_held_items_per_principal
            .or(current.max_held_items_per_principal),
        max_held_share_per_provider_percent: update
            .max_held_share_per_provider_percent
            .or(current.max_held_share_per_provider_percent),
        max_hold_window_seconds: update
            .max_hold_window_seconds
            .or(current.max_hold_window_seconds),
        consumers: update.consumers.or(current.consumers),
        reclaim_notice_seconds: update
            .reclaim_notice_seconds
            .or(current.reclaim_notice_seconds),
        closed_retention_seconds: update
            .closed_retention_seconds
            .or(current.closed_retention_seconds),
        market_fee_basis_points: update
            .market_fee_basis_points
            .or(current.market_fee_basis_points),
        treasury: update.treasury.or(current.treasury),
        hold_deposit: update.hold_deposit.or(current.hold_deposit),
        // Not a policy: `get` reads it from the ledger's answer.
        currency: None,
    };
    validate(&policies)?;
    let allow = update.allow_consumers.unwrap_or_default();
    let disallow = update.disallow_consumers.unwrap_or_default();
    for (name, list) in [
        ("allow_consumers", &allow),
        ("disallow_consumers", &disallow),
    ] {
        if list.len() > MAX_LISTED_PER_CALL {
            return Err(MarketError::TooMany {
                what: name.into(),
                max: MAX_LISTED_PER_CALL as u32,
            });
        }
    }
    if let Some(both) = allow.iter().find(|p| disallow.contains(p)) {
        return Err(MarketError::invalid(format!(
            "{both} is both allowed and disallowed"
        )));
    }
    // Checked: from here on nothing is refused.
    for principal in &allow {
        store::set_consumer_allowed(principal, true);
    }
    for principal in &disallow {
        store::set_consumer_allowed(principal, false);
    }
    store::set_policies(policies);
    Ok(get())
}

/// Whether the market serves `consumer` (everyone, or the controllers' allow-list).
pub fn consumer_admitted(policies: &Policies, consumer: &candid::Principal) -> bool {
    policies.consumers != Some(ConsumerAccess::AllowListed) || store::consumer_allowed(consumer)
}

fn validate(p: &Policies) -> Result<(), MarketError> {
    let fee = p.market_fee_basis_points.unwrap_or(0);
    in_range("market_fee_basis_points", fee, MARKET_FEE_BASIS_POINTS)?;
    if fee > 0 && p.treasury.is_none() {
        return Err(MarketError::invalid(
            "a market fee needs a treasury account to go to",
        ));
    }
    in_range("max_lease_seconds", p.max_lease_seconds, MAX_LEASE_SECONDS)?;
    in_range("offer_ttl_seconds", p.offer_ttl_seconds, OFFER_TTL_SECONDS)?;
    in_range(
        "stuck_timeout_seconds",
        p.stuck_timeout_seconds,
        STUCK_TIMEOUT_SECONDS,
    )?;
    in_range("rebuild_seconds", p.rebuild_seconds, REBUILD_SECONDS)?;
    in_range(
        "max_open_offersets_per_principal",
        p.max_open_offersets_per_principal,
        PER_PRINCIPAL,
    )?;
    in_range(
        "max_active_leases_per_principal",
        p.max_active_leases_per_principal,
        PER_PRINCIPAL,
    )?;
    in_range(
        "max_offers_per_offerset",
        p.max_offers_per_offerset,
        OFFERS_PER_OFFERSET,
    )?;
    in_range(
        "max_held_items_per_principal",
        p.max_held_items_per_principal
            .unwrap_or(DEFAULT_MAX_HELD_ITEMS_PER_PRINCIPAL),
        HELD_ITEMS,
    )?;
    in_range(
        "max_held_share_per_provider_percent",
        p.max_held_share_per_provider_percent
            .unwrap_or(DEFAULT_MAX_HELD_SHARE_PER_PROVIDER_PERCENT),
        HELD_SHARE_PERCENT,
    )?;
    in_range(
        "max_hold_window_seconds",
        p.max_hold_window_seconds
            .unwrap_or(DEFAULT_MAX_HOLD_WINDOW_SECONDS),
        HOLD_WINDOW_SECONDS,
    )?;
    in_range(
        "reclaim_notice_seconds",
        p.reclaim_notice_seconds
            .unwrap_or(DEFAULT_RECLAIM_NOTICE_SECONDS),
        RECLAIM_NOTICE_SECONDS,
    )?;
    in_range(
        "closed_retention_seconds",
        p.closed_retention_seconds
            .unwrap_or(DEFAULT_CLOSED_RETENTION_SECONDS),
        CLOSED_RETENTION_SECONDS,
    )?;
    if p.allowed_images.len() > MAX_IMAGES {
        return Err(MarketError::invalid(format!(
            "at most {MAX_IMAGES} allowed images"
        )));
    }
    if let Some(image) = p
        .allowed_images
        .iter()
        .find(|image| image.is_empty() || image.len() > MAX_IMAGE_BYTES)
    {
        return Err(MarketError::invalid(format!(
            "an allowed image must be 1 to {MAX_IMAGE_BYTES} bytes, got {} bytes",
            image.len()
        )));
    }
    Ok(())
}

fn in_range<T: PartialOrd + std::fmt::Display>(
    name: &str,
    value: T,
    range: RangeInclusive<T>,
) -> Result<(), MarketError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(MarketError::invalid(format!(
            "{name} must be in {}..={}, got {value}",
            range.start(),
            range.end()
        )))
    }
}

/// Whether `image` may run under `policies`.
pub fn image_allowed(policies: &Policies, image: &str) -> bool {
    policies.allowed_images.is_empty() || policies.allowed_images.iter().any(|i| i == image)
}

#[cfg(test)]
mod tests;
