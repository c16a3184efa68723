//! Offer types (FLOCX): an item offered for a window at a price, and their arguments.

use candid::{CandidType, Deserialize};

use super::Property;
use crate::catalog::provider::ProviderKeyInput;

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OfferStatus {
    Open,
    /// A contract (an accepted execution) was made from it.
    Claimed,
    /// Its end passed unclaimed.
    Expired,
    /// Its provider took it back.
    Withdrawn,
}

/// A resource offered for `[start_ns, end_ns)` at a price.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub id: u64,
    pub item_id: u64,
    pub provider_pem: String,
    pub resource_type: String,
    pub resource_uuid: String,
    pub start_ns: u64,
    pub end_ns: u64,
    pub price_per_hour: u64,
    pub properties: Vec<Property>,
    pub status: OfferStatus,
    pub created_at_ns: u64,
    pub updated_at_ns: u64,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct OfferCreateArg {
    pub provider: ProviderKeyInput,
    pub item_id: u64,
    pub start_ns: u64,
    pub end_ns: u64,
    pub price_per_hour: u64,
    pub properties: Vec<Property>,
}

/// One offer of an `offers_create` batch: `OfferCreateArg` without the provider, which the
/// batch names once.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct OfferInput {
    pub item_id: u64,
    pub start_ns: u64,
    pub end_ns: u64,
    pub price_per_hour: u64,
    pub properties: Vec<Property>,
}

/// Offers of the provider's items, created all together or not at all (a fleet's availability
/// published in a few calls).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct OffersCreateArg {
    pub provider: ProviderKeyInput,
    pub offers: Vec<OfferInput>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct OfferWithdrawArg {
    pub provider: ProviderKeyInput,
    pub offer_id: u64,
}

#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OffersListArg {
    pub item_id: Option<u64>,
    pub provider: Option<ProviderKeyInput>,
    pub status: Option<OfferStatus>,
    pub after: Option<u64>,
    pub limit: Option<u32>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct OfferPage {
    pub offers: Vec<Offer>,
    pub next: Option<u64>,
}

impl OfferStatus {
    pub fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Claimed => "claimed",
            Self::Expired => "expired",
            Self::Withdrawn => "withdrawn",
        }
    }
}
