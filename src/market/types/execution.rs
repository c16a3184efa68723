//! Execution types (an execution is the contract and the lease): phases, arguments, views.

use candid::{CandidType, Deserialize, Principal};
use serde_bytes::ByteBuf;

use super::{Attributes, Property};
use crate::catalog::provider::ProviderKeyInput;

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
    /// Price for the whole window (hours rounded up); once the lease ends early or is
    /// reclaimed, for the time until its end.
    pub total_price: u64,
    pub phase: Phase,
    pub phase_since_ns: u64,
    /// Why it is FAILED, CANCELLED, REJECTED or EXPIRED, or was reclaimed.
    pub reason: Option<String>,
    /// Set when the provider reclaims the item: the lease ends at `ends_at_ns`.
    pub reclaim: Option<Reclaim>,
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

/// A provider's notice that it takes its item back: the lease's end moves to `ends_at_ns`, at
/// least the policy's notice after `noticed_at_ns`.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Reclaim {
    pub noticed_at_ns: u64,
    pub ends_at_ns: u64,
    pub reason: String,
}

/// `lease_reclaim`: the provider takes a leased item back with notice.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ReclaimArg {
    pub provider: ProviderKeyInput,
    pub execution_id: u64,
    /// How long from now the lease keeps running; at least the policy's
    /// `reclaim_notice_seconds` (absent: exactly that).
    pub notice_seconds: Option<u64>,
    pub reason: String,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AcceptArg {
    pub execution_id: u64,
    /// 32-byte X25519 public key lease credentials will be sealed to. Give it here or as
    /// `lessee_key_hex`, exactly one of them. Optional since `lessee_key_hex` came: an old
    /// client's `blob` decodes as `Some`.
    pub lessee_key: Option<ByteBuf>,
    /// The same key as 64 hex digits (either case, whitespace around ignored), for callers
    /// that type it (Candid UI, dfx).
    pub lessee_key_hex: Option<String>,
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
    /// 32-byte X25519 public key lease credentials will be sealed to; or `lessee_key_hex`,
    /// exactly one of them (as in [`AcceptArg`]).
    pub lessee_key: Option<ByteBuf>,
    /// The same key as 64 hex digits (either case, whitespace around ignored).
    pub lessee_key_hex: Option<String>,
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
    /// The provider's notice, once it reclaims the item: the lease ends at its deadline.
    pub reclaim: Option<Reclaim>,
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
