//! What refuses a request before any matching: the consumer's lease quota, the policies.

use super::message;
use crate::market::store;
use crate::market::types::*;
use crate::market::{policy, MarketError};
use candid::Principal;

/// Refuses a consumer the market does not serve (the controllers' allow-list), or who holds
/// as many active leases as the policy allows. Every consumer entry point (request, accept,
/// lease by SKU) calls it before it changes anything.
pub fn check_active_leases(consumer: &Principal, policies: &Policies) -> Result<(), MarketError> {
    super::limits::check_admitted(consumer, policies)?;
    if store::usage(consumer).active_leases >= policies.max_active_leases_per_principal {
        return Err(MarketError::QuotaExceeded {
            what: "active leases".into(),
            max: policies.max_active_leases_per_principal,
        });
    }
    Ok(())
}

/// FAIL messages for the policies a request breaks; empty when it breaks none.
pub fn policy_refusals(policies: &Policies, image: &str, duration_seconds: u64) -> Vec<Message> {
    let mut refusals = Vec::new();
    if !policy::image_allowed(policies, image) {
        refusals.push(message(
            Level::Fail,
            format!(
                "the image \"{image}\" is not among the {} images allowed here",
                policies.allowed_images.len()
            ),
        ));
    }
    if duration_seconds > policies.max_lease_seconds {
        refusals.push(message(
            Level::Fail,
            format!(
                "a lease may last at most {} s; {duration_seconds} s were asked for",
                policies.max_lease_seconds
            ),
        ));
    }
    refusals
}
