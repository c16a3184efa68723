//! Policies controllers set: which images may run, how long a lease may be, how much one
//! principal may hold, how long offers hold their resources.

use super::store;
use super::types::{Policies, PoliciesUpdate};
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
    }
}

pub fn get() -> Policies {
    store::policies()
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
    };
    validate(&policies)?;
    store::set_policies(policies.clone());
    Ok(policies)
}

fn validate(p: &Policies) -> Result<(), MarketError> {
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
