//! The market's Candid types: what is stored and what callers send and receive.
//!
//! Times are nanoseconds since the Unix epoch (IC time), durations are seconds, prices are
//! hundredths of a US dollar per hour. Ids are assigned by the canister and never reused.

use candid::{CandidType, Deserialize, Principal};
use serde_bytes::ByteBuf;

use crate::catalog::provider::ProviderKeyInput;

/// A free-form key/value pair (FLOCX `properties`, pez metadata).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Property {
    pub key: String,
    pub value: String,
}

// --- inventory (pez items, FLOCX resources, Ironic nodes) ---

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

// --- provider delegation ---

/// Lets `principal` act for the provider in the market (or stops it), signed by the provider's
/// key; see `market::delegation` for the signed message.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DelegateArg {
    pub provider: ProviderKeyInput,
    pub principal: Principal,
    pub allow: bool,
    pub seq: u64,
    pub signature: ByteBuf,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Delegation {
    pub provider_pem: String,
    pub principals: Vec<Principal>,
    pub seq: u64,
}

// --- offers (FLOCX) ---

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

// --- offersets (ExecutionBroker) ---

/// A consumer's request: minimums, what kind, when, for how long, at most what price.
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceRequest {
    pub min_cores: Option<u32>,
    pub min_memory_mb: Option<u64>,
    pub min_storage_gb: Option<u64>,
    pub min_gpus: Option<u32>,
    pub sku: Option<String>,
    pub resource_class: Option<String>,
    /// `None`: as soon as possible: now, or an offer's own start when it opens later.
    pub start_ns: Option<u64>,
    pub duration_seconds: u64,
    pub max_price_per_hour: Option<u64>,
    pub image: String,
    /// How many offers at most (default 3).
    pub offers: Option<u32>,
    /// The consumer's project (FLOCX `project_uuid`); the caller's principal when absent.
    pub project: Option<String>,
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Fail,
    Error,
    Debug,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub level: Level,
    pub text: String,
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffersetResult {
    Yes,
    No,
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffersetStatus {
    /// Its offers can be accepted until `expires_at_ns`.
    Open,
    Accepted {
        execution_id: u64,
    },
    /// Nothing was accepted in time (or nothing was offered); holds are released.
    Expired,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Offerset {
    pub id: u64,
    pub consumer: Principal,
    pub request: ResourceRequest,
    pub result: OffersetResult,
    /// Executions in phase OFFERED (until one is accepted), cheapest first.
    pub execution_ids: Vec<u64>,
    pub messages: Vec<Message>,
    pub status: OffersetStatus,
    pub created_at_ns: u64,
    pub expires_at_ns: u64,
}

/// An offerset with its offers, as `offerset_request` and `offerset_get` return it.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct OffersetView {
    pub offerset: Offerset,
    pub offers: Vec<Execution>,
}

// --- executions = contracts = leases ---

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Offered,
    Accepted,
    Rejected,
    Expired,
    Waiting,
    Preparing,
    Available,
    Releasing,
    Completed,
    Cancelled,
    Failed,
}

/// Lease credentials sealed to the lessee's X25519 key (libsodium `crypto_box`-style: an
/// ephemeral sender key, a nonce and XSalsa20-Poly1305 or ChaCha20-Poly1305 ciphertext). The
/// canister only checks the shape and the recipient; it can never read the contents.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SealedBox {
    pub recipient_key: ByteBuf,
    pub ephemeral_key: ByteBuf,
    pub nonce: ByteBuf,
    pub ciphertext: ByteBuf,
}

/// An offer in an offerset, and once accepted the contract and the lease.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Execution {
    pub id: u64,
    /// `None` for a lease taken directly by SKU.
    pub offerset_id: Option<u64>,
    pub offer_id: u64,
    pub item_id: u64,
    pub provider_pem: String,
    pub sku: String,
    pub resource_type: String,
    pub resource_uuid: String,
    pub attributes: Attributes,
    pub consumer: Principal,
    pub project: String,
    pub image: String,
    pub start_ns: u64,
    pub end_ns: u64,
    pub price_per_hour: u64,
    /// Price for the whole window, in hundredths of a US dollar (hours rounded up).
    pub total_price: u64,
    pub phase: Phase,
    pub phase_since_ns: u64,
    /// Why it is FAILED, CANCELLED, REJECTED or EXPIRED.
    pub reason: Option<String>,
    /// Until when an OFFERED execution holds its resource.
    pub expires_at_ns: u64,
    /// The lessee's X25519 public key, given at accept: credentials are sealed to it.
    pub lessee_key: Option<ByteBuf>,
    pub consumer_meta: Option<SealedBox>,
    /// The provider's procurement details; `None` in what consumers are shown.
    pub procurement_meta: Option<Vec<Property>>,
    pub created_at_ns: u64,
    pub updated_at_ns: u64,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AcceptArg {
    pub execution_id: u64,
    /// 32-byte X25519 public key lease credentials will be sealed to.
    pub lessee_key: ByteBuf,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CancelArg {
    pub execution_id: u64,
    pub reason: String,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ExtendArg {
    pub execution_id: u64,
    pub new_end_ns: u64,
}

/// The pez shortcut: lease one item of a SKU now, at the cheapest open offer.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LeaseBySkuArg {
    pub sku: String,
    pub duration_seconds: u64,
    pub image: String,
    pub lessee_key: ByteBuf,
    pub max_price_per_hour: Option<u64>,
    pub project: Option<String>,
}

/// The provider decorates a lease with sealed credentials (pez `consumer_meta`).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SetConsumerMetaArg {
    pub provider: ProviderKeyInput,
    pub execution_id: u64,
    pub sealed: SealedBox,
}

/// The provider records how it procured the lease (pez `procurement_meta`).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SetProcurementMetaArg {
    pub provider: ProviderKeyInput,
    pub execution_id: u64,
    pub meta: Vec<Property>,
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Executions the caller requested or leased.
    Consumer,
    /// Executions on the provider's items (the caller must be its delegate).
    Provider,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ExecutionsListArg {
    pub role: Role,
    /// Required with `Provider`.
    pub provider: Option<ProviderKeyInput>,
    pub phase: Option<Phase>,
    pub after: Option<u64>,
    pub limit: Option<u32>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ExecutionPage {
    pub executions: Vec<Execution>,
    pub next: Option<u64>,
}

/// FLOCX contract status, a view of the execution's phase.
#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContractStatus {
    Open,
    Fulfilled,
    Expired,
}

/// The FLOCX contract view of an accepted execution.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Contract {
    pub id: u64,
    pub offer_id: u64,
    pub start_ns: u64,
    pub end_ns: u64,
    pub project: String,
    pub status: ContractStatus,
    pub properties: Vec<Property>,
    pub created_at_ns: u64,
    pub updated_at_ns: u64,
}

/// Pez lease `task`: the dispenser's progress, a view of the phase.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LeaseTask {
    pub id: u64,
    pub status: String,
}

/// The pez lease view of an execution.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub id: u64,
    pub inventory_id: u64,
    pub username: Principal,
    pub sku: String,
    pub lease_duration_days: u64,
    pub lease_start_ns: u64,
    pub lease_end_ns: u64,
    pub consumer_meta: Option<SealedBox>,
    pub procurement_meta: Option<Vec<Property>>,
    pub task: LeaseTask,
}

// --- policies ---

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
    /// A lease PREPARING or RELEASING longer than this is moved on by the manager.
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

// --- audit ---

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Entity {
    Item(u64),
    Offer(u64),
    Offerset(u64),
    Execution(u64),
}

/// Who caused a change.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The manager, on its timer.
    Canister,
    Controller(Principal),
    Consumer(Principal),
    /// A provider's delegate acting for it.
    Provider {
        provider_pem: String,
        principal: Principal,
    },
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: u64,
    pub at_ns: u64,
    pub actor: Actor,
    pub entity: Entity,
    /// The status or phase before (empty when the entity was created).
    pub from: String,
    pub to: String,
    pub why: String,
    /// The consumer the entity belongs to, if any: who besides controllers may read it.
    pub consumer: Option<Principal>,
    /// The provider the entity belongs to.
    pub provider_pem: String,
}

#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditArg {
    pub entity: Option<Entity>,
    pub from_ns: Option<u64>,
    pub to_ns: Option<u64>,
    /// Entries after this sequence number (the `next` of the previous page).
    pub after: Option<u64>,
    pub limit: Option<u32>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next: Option<u64>,
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

impl Phase {
    /// The ExecutionBroker's name of the phase.
    pub fn name(self) -> &'static str {
        match self {
            Self::Offered => "OFFERED",
            Self::Accepted => "ACCEPTED",
            Self::Rejected => "REJECTED",
            Self::Expired => "EXPIRED",
            Self::Waiting => "WAITING",
            Self::Preparing => "PREPARING",
            Self::Available => "AVAILABLE",
            Self::Releasing => "RELEASING",
            Self::Completed => "COMPLETED",
            Self::Cancelled => "CANCELLED",
            Self::Failed => "FAILED",
        }
    }

    /// No phase follows these.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Rejected | Self::Expired | Self::Completed | Self::Cancelled | Self::Failed
        )
    }

    /// Accepted and not finished: what counts against a consumer's lease quota.
    pub fn is_active_lease(self) -> bool {
        matches!(
            self,
            Self::Accepted | Self::Waiting | Self::Preparing | Self::Available | Self::Releasing
        )
    }
}
