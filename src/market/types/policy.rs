//! Policy types: the rules controllers set, and updates to them.

use candid::{CandidType, Deserialize, Principal};

use super::{Account, Currency};

/// Rules set by controllers; refusals they cause are FAIL messages in the offerset.
///
/// Stored as Candid inside `market::store::Meta`: every field added after the first release is
/// an `Option` (absent in what an older version stored), read through `policy::effective`.
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
    /// Most items one principal may hold at once, over all its open offersets.
    pub max_held_items_per_principal: Option<u32>,
    /// Most of one provider's items (percent, rounded down, at least one) holds may take at
    /// once; 100 lets holds take them all.
    pub max_held_share_per_provider_percent: Option<u32>,
    /// Longest window a hold may cover: a longer request is refused (result No) and should
    /// ask for less and `lease_extend` after accepting, or use `lease_by_sku`.
    pub max_hold_window_seconds: Option<u64>,
    /// Who may request offersets and lease: everyone, or the controllers' allow-list.
    pub consumers: Option<ConsumerAccess>,
    /// Least notice a provider gives when it reclaims a leased item (`lease_reclaim`).
    pub reclaim_notice_seconds: Option<u64>,
    /// How long a closed execution (and its offerset), or a withdrawn or expired offer, stays
    /// readable before its record goes; its audit trail stays.
    pub closed_retention_seconds: Option<u64>,
    /// The market's share of what a lease pays its provider, in hundredths of a percent; it
    /// goes to `treasury`. Absent: none.
    pub market_fee_basis_points: Option<u32>,
    /// Where the market's fee goes (required for a fee above zero).
    pub treasury: Option<Account>,
    /// What each offer an offerset holds costs its consumer up front, in the ledger's base
    /// units, when the market has a ledger: refunded (less the ledger's fee) when the hold
    /// ends unaccepted, counted toward the price when accepted. Absent or 0: holds are free.
    pub hold_deposit: Option<u64>,
    /// The currency prices are in, when the market has a ledger (set at install or upgrade,
    /// not by `policies_set`); absent: the market runs free.
    pub currency: Option<Currency>,
}

/// Who the market serves.
#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsumerAccess {
    Everyone,
    AllowListed,
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
    pub max_held_items_per_principal: Option<u32>,
    pub max_held_share_per_provider_percent: Option<u32>,
    pub max_hold_window_seconds: Option<u64>,
    pub consumers: Option<ConsumerAccess>,
    pub reclaim_notice_seconds: Option<u64>,
    pub closed_retention_seconds: Option<u64>,
    pub market_fee_basis_points: Option<u32>,
    pub treasury: Option<Account>,
    pub hold_deposit: Option<u64>,
    /// Principals to add to the consumers' allow-list (at most 500 per call).
    pub allow_consumers: Option<Vec<Principal>>,
    /// Principals to remove from it (at most 500 per call).
    pub disallow_consumers: Option<Vec<Principal>>,
}

/// Who may hold a provider's items (set by its delegates with `provider_hold_access_set`).
#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldAccess {
    Everyone,
    /// Consumers on the controllers' allow-list.
    MarketAllowListed,
    /// Consumers on the provider's own allow-list.
    ProviderAllowListed,
}

/// `provider_hold_access_set`: who may hold the provider's items, and its allow-list's changes.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProviderHoldAccessArg {
    pub provider: crate::catalog::provider::ProviderKeyInput,
    /// Absent: unchanged.
    pub access: Option<HoldAccess>,
    /// At most 500 each per call.
    pub allow: Option<Vec<Principal>>,
    pub disallow: Option<Vec<Principal>>,
}

/// A provider's hold access and its counts, as `provider_hold_access_set` answers.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProviderHoldAccess {
    pub access: HoldAccess,
    /// Principals on its allow-list.
    pub listed: u32,
    /// Its items, and how many holds take now.
    pub items: u32,
    pub held: u32,
}
