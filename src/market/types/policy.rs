//! Policy types: the rules controllers set, and updates to them.

use candid::{CandidType, Deserialize};

/// Rules set by controllers; refusals they cause are FAIL messages in the offerset.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Policies {
    /// Images a request may name; empty allows any.
    pub allowed_images: Vec<String>,
    pub max_lease_seconds: u64,
    pub max_open_offersets_per_principal: u32,
    pub max_active_leases_per_principal: u32,
    /// How long an OFFERED execution holds its resource.
    pub offer_ttl_seconds: u64,
    /// Most offers one offerset may return.
    pub max_offers_per_offerset: u32,
    /// A lease PREPARING or RELEASING longer than this is moved on by the task queue.
    pub stuck_timeout_seconds: u64,
    /// How long a released item stays Rebuilding before it is available again.
    pub rebuild_seconds: u64,
}

/// `policies_set`: fields given replace the current ones.
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct PoliciesUpdate {
    pub allowed_images: Option<Vec<String>>,
    pub max_lease_seconds: Option<u64>,
    pub max_open_offersets_per_principal: Option<u32>,
    pub max_active_leases_per_principal: Option<u32>,
    pub offer_ttl_seconds: Option<u64>,
    pub max_offers_per_offerset: Option<u32>,
    pub stuck_timeout_seconds: Option<u64>,
    pub rebuild_seconds: Option<u64>,
}
