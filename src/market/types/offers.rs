//! Offer types (FLOCX): an item offered for a window at a price, and their arguments.

use candid::{CandidType, Deserialize, Principal};

use super::Property;
use crate::catalog::provider::ProviderKeyInput;

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OfferStatus {
    /// Offered: holds and leases book windows of it; the rest stays offered.
    Open,
    /// Used up whole by one lease. Canisters before leases booked only their window stored
    /// this; it is kept so their records still read, and is never set now.
    Claimed,
    /// Its end passed unclaimed.
    Expired,
    /// Its provider took it back.
    Withdrawn,
}

/// How an offer may be booked: the shortest lease, the grid lease windows snap to, and who
/// may see and hold it. Every field absent is the default: any lease of at least a minute,
/// no grid, everyone.
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct OfferTerms {
    /// Shortest lease the offer takes (at least `MIN_LEASE_SECONDS`).
    pub min_duration_seconds: Option<u64>,
    /// Lease windows start and end on this grid, counted from the offer's start: a request is
    /// widened to it (the start earlier, the end later, within the offer), so the time left
    /// between leases is whole steps. 1 s to 1 day.
    pub granularity_seconds: Option<u64>,
    /// A private offer: only these principals may see it and hold it (besides its provider's
    /// delegates and the controllers). At most 32.
    pub visible_to: Option<Vec<Principal>>,
    /// A private offer for projects: the members of these projects (`project_create`) may see
    /// it and hold it too. With `visible_to` absent, only they may. At most 8.
    pub visible_to_projects: Option<Vec<u64>>,
}

/// A resource offered for `[start_ns, end_ns)` at a price: an availability window. Holds and
/// leases book sub-windows of it in the item's calendar; whatever is not booked stays offered.
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
    /// Absent on offers from before terms existed: the defaults.
    pub terms: Option<OfferTerms>,
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
    pub terms: Option<OfferTerms>,
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
    pub terms: Option<OfferTerms>,
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

/// `availability`: the free time of one item, or of a SKU's items a page at a time, in
/// `[from_ns, to_ns)` (esi-leap's available_start / available_end).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AvailabilityArg {
    /// One item, or (without it) every item of `sku`.
    pub item_id: Option<u64>,
    pub sku: Option<String>,
    pub from_ns: u64,
    /// At most 366 days after `from_ns`.
    pub to_ns: u64,
    /// For a SKU: the last item id of the previous page.
    pub after: Option<u64>,
    /// Items per page for a SKU (default 100, at most 200).
    pub limit: Option<u32>,
}

/// Unbooked time of an open offer from now on, narrowed to the offer's grid: a lease may book
/// any part of it at least `min_duration_seconds` long (and at least a minute), on the grid.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct FreeWindow {
    pub start_ns: u64,
    pub end_ns: u64,
    pub offer_id: u64,
    pub price_per_hour: u64,
    /// 0: none.
    pub min_duration_seconds: u64,
    /// 0: none.
    pub granularity_seconds: u64,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ItemAvailability {
    pub item_id: u64,
    pub sku: String,
    /// Earliest first.
    pub windows: Vec<FreeWindow>,
    /// The item's calendar is fragmented past what one answer lists: ask again from the
    /// last window's end for more.
    pub truncated: bool,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AvailabilityPage {
    /// Items with free time in the range (a SKU's others are left out).
    pub items: Vec<ItemAvailability>,
    /// For a SKU: pass as `after` for the next page.
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
