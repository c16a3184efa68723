//! Inventory types: items (pez items, FLOCX resources, Ironic nodes), arguments, portal view.

use candid::{CandidType, Deserialize};

use crate::catalog::provider::ProviderKeyInput;

/// What a resource has; requests ask for minimums of these.
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    pub cores: u32,
    pub memory_mb: u64,
    pub storage_gb: u64,
    pub gpus: u32,
    /// The Ironic resource class (e.g. "baremetal.large"); empty when not an Ironic node.
    pub resource_class: String,
    pub routable_ips: u32,
    /// Free-form descriptions, as in the pez inventory ("vCloud", "PivotalCF").
    pub labels: Vec<String>,
}

/// Where an item is in its life. Transitions follow `inventory::TRANSITIONS`.
#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemStatus {
    Available,
    /// A lease is starting on it (its execution is PREPARING).
    Reserving,
    /// A lease runs on it (its execution is AVAILABLE).
    Leased,
    /// A lease ended; it is being cleaned before it is offered again.
    Rebuilding,
    /// Taken out of service by its provider.
    Maintenance,
    /// Being retired: never offered again; removable once nothing is booked on it.
    Archiving,
}

/// One leasable unit: a pez inventory item, a FLOCX `resource_type` + `resource_uuid`.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub id: u64,
    pub provider_pem: String,
    /// E.g. "ironic_node".
    pub resource_type: String,
    /// Unique per provider and resource type.
    pub resource_uuid: String,
    /// `[tier][type].[size]`, e.g. "4D.large".
    pub sku: String,
    pub attributes: Attributes,
    /// The provider's catalog offering this item is an instance of, by key.
    pub offering_key: Option<String>,
    pub status: ItemStatus,
    /// The execution (lease) that holds the item now, while Reserving or Leased.
    pub lease_id: Option<u64>,
    pub created_at_ns: u64,
    pub updated_at_ns: u64,
}

/// One item to register (or update, when the provider already has its type and uuid).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ItemInput {
    pub resource_type: String,
    pub resource_uuid: String,
    pub sku: String,
    pub attributes: Attributes,
    pub offering_key: Option<String>,
}

/// The provider acting, named by key; the caller must be one of its delegates.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct InventoryRegisterArg {
    pub provider: ProviderKeyInput,
    pub items: Vec<ItemInput>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct InventorySetStatusArg {
    pub provider: ProviderKeyInput,
    pub item_id: u64,
    pub status: ItemStatus,
    pub reason: String,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct InventoryRemoveArg {
    pub provider: ProviderKeyInput,
    pub item_id: u64,
}

#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct InventoryListArg {
    pub provider: Option<ProviderKeyInput>,
    pub sku: Option<String>,
    pub status: Option<ItemStatus>,
    /// Items with ids above this one (the `next` of the previous page).
    pub after: Option<u64>,
    pub limit: Option<u32>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ItemPage {
    pub items: Vec<Item>,
    pub next: Option<u64>,
}

/// One SKU of the portal view (pez `GET /products`).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Product {
    pub sku: String,
    pub tier: u8,
    pub tier_name: String,
    pub kind: String,
    pub kind_name: String,
    pub size: String,
    pub total: u32,
    /// Items in status Available with nothing booked on them now.
    pub available: u32,
    /// Of those, items with an open offer covering now: what `lease_by_sku` can take.
    pub leasable_now: u32,
    /// Lowest open offer price per hour among them, if any.
    pub min_price_per_hour: Option<u64>,
}

impl ItemStatus {
    pub fn name(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Reserving => "reserving",
            Self::Leased => "leased",
            Self::Rebuilding => "rebuilding",
            Self::Maintenance => "maintenance",
            Self::Archiving => "archiving",
        }
    }
}
