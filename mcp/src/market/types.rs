//! The market tools' results: the canister's records as JSON objects with output schemas (the
//! Candid field names, variants in snake_case, nanosecond times also in RFC 3339), and the
//! enums the search filters take.

use marketplace::api::{
    Attributes, BillingInterval, Execution, Level, OfferingView, OffersetResult, OffersetStatus,
    OffersetView, Phase, Product, ProductType, Reclaim, Stock, Virtualization,
};
use runner::duration::rfc3339;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What kind of server an offering is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    Vps,
    Dedicated,
    Cloud,
    Managed,
}

/// The offering's virtualization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Virt {
    None,
    Kvm,
    Vmware,
    Xen,
    HyperV,
    OpenVz,
    Lxc,
}

/// How the offering is billed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Billing {
    Hourly,
    Daily,
    Monthly,
    Quarterly,
    Yearly,
}

/// The offering's stock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StockLevel {
    InStock,
    Limited,
    OutOfStock,
}

macro_rules! both_ways {
    ($ours:ident, $theirs:ident, $($variant:ident),+) => {
        impl From<$ours> for $theirs {
            fn from(value: $ours) -> Self {
                match value { $($ours::$variant => $theirs::$variant),+ }
            }
        }
        impl From<$theirs> for $ours {
            fn from(value: $theirs) -> Self {
                match value { $($theirs::$variant => $ours::$variant),+ }
            }
        }
    };
}

both_ways!(ProductKind, ProductType, Vps, Dedicated, Cloud, Managed);
both_ways!(
    Virt,
    Virtualization,
    None,
    Kvm,
    Vmware,
    Xen,
    HyperV,
    OpenVz,
    Lxc
);
both_ways!(
    Billing,
    BillingInterval,
    Hourly,
    Daily,
    Monthly,
    Quarterly,
    Yearly
);
both_ways!(StockLevel, Stock, InStock, Limited, OutOfStock);

/// One catalog offering (a provider's published serverhunter row).
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Offering {
    /// The provider's Ed25519 public key (PEM).
    pub provider_pem: String,
    /// Unique within the provider's catalog.
    pub key: String,
    pub name: String,
    /// Monthly price in hundredths of `currency`.
    pub price_minor: u64,
    /// ISO 4217.
    pub currency: String,
    pub product_type: ProductKind,
    pub virtualization: Virt,
    pub billing: Billing,
    pub stock: StockLevel,
    pub total_cores: u32,
    pub cpu_mhz: Option<u32>,
    pub memory_mb: u64,
    pub ssd_gb: u64,
    pub hdd_gb: u64,
    pub gpu_name: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub city: String,
    pub unmetered: bool,
    /// The offering's CSV record as published (the 35 serverhunter columns: description,
    /// features, operating systems, …).
    pub csv_row: String,
}

/// One page of `search_offerings`.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SearchResult {
    /// Matching offerings, by price.
    pub offerings: Vec<Offering>,
    /// Present when more match: call again with the same arguments and this as `cursor`.
    pub next_cursor: Option<String>,
}

impl Offering {
    pub fn from_view(view: OfferingView, providers: &[String]) -> Self {
        Self {
            provider_pem: providers
                .get(view.provider as usize)
                .cloned()
                .unwrap_or_default(),
            key: view.key,
            name: view.name,
            price_minor: view.price_minor,
            currency: view.currency,
            product_type: view.product_type.into(),
            virtualization: view.virtualization.into(),
            billing: view.billing.into(),
            stock: view.stock.into(),
            total_cores: view.total_cores,
            cpu_mhz: view.cpu_mhz,
            memory_mb: view.memory_mb,
            ssd_gb: view.ssd_gb,
            hdd_gb: view.hdd_gb,
            gpu_name: view.gpu_name,
            country: view.country,
            city: view.city,
            unmetered: view.unmetered,
            csv_row: view.csv_row,
        }
    }
}

/// One SKU of the market: its items and the lowest open price.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ProductOut {
    /// `[tier][type].[size]`, e.g. "4D.large": what request_offerset's `sku` takes.
    pub sku: String,
    pub tier: u8,
    pub tier_name: String,
    pub kind: String,
    pub kind_name: String,
    pub size: String,
    /// Items of the SKU.
    pub total: u32,
    /// Items available with nothing booked on them now.
    pub available: u32,
    /// Of those, items with an open offer covering now.
    pub leasable_now: u32,
    /// Lowest open offer price, hundredths of a US dollar per hour.
    pub min_price_per_hour: Option<u64>,
}

/// The market's SKUs.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ProductsResult {
    pub products: Vec<ProductOut>,
}

impl From<Product> for ProductOut {
    fn from(p: Product) -> Self {
        Self {
            sku: p.sku,
            tier: p.tier,
            tier_name: p.tier_name,
            kind: p.kind,
            kind_name: p.kind_name,
            size: p.size,
            total: p.total,
            available: p.available,
            leasable_now: p.leasable_now,
            min_price_per_hour: p.min_price_per_hour,
        }
    }
}

/// An execution's phase: an offer (offered, then accepted, rejected or expired), then the
/// lease (waiting for its start, preparing the server, available to the lessee, releasing,
/// completed), or cancelled or failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PhaseOut {
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

both_ways!(
    PhaseOut, Phase, Offered, Accepted, Rejected, Expired, Waiting, Preparing, Available,
    Releasing, Completed, Cancelled, Failed
);

/// What the server has.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AttributesOut {
    /// The Ironic resource class, e.g. "baremetal.large" (empty when not an Ironic node).
    pub resource_class: String,
    pub cores: u32,
    pub memory_mb: u64,
    pub storage_gb: u64,
    pub gpus: u32,
    pub routable_ips: u32,
    pub labels: Vec<String>,
}

impl From<Attributes> for AttributesOut {
    fn from(a: Attributes) -> Self {
        Self {
            resource_class: a.resource_class,
            cores: a.cores,
            memory_mb: a.memory_mb,
            storage_gb: a.storage_gb,
            gpus: a.gpus,
            routable_ips: a.routable_ips,
            labels: a.labels,
        }
    }
}

/// An offer made to the caller, and once accepted its lease. Prices are hundredths of a US
/// dollar; times nanoseconds since the Unix epoch, also in RFC 3339.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ExecutionOut {
    /// What the lease tools (accept_offer, lease_status, extend_lease, …) take.
    pub execution_id: u64,
    pub phase: PhaseOut,
    pub phase_since: String,
    /// Why it is failed, cancelled, rejected or expired, or was reclaimed.
    pub reason: Option<String>,
    /// Set when the provider reclaims the server: the lease ends at `ends_at`.
    pub reclaim: Option<ReclaimOut>,
    pub offerset_id: Option<u64>,
    pub offer_id: u64,
    pub item_id: u64,
    pub sku: String,
    pub resource_type: String,
    pub resource_uuid: String,
    /// The provider's Ed25519 public key (PEM).
    pub provider_pem: String,
    pub attributes: AttributesOut,
    /// The consumer (the caller's principal).
    pub consumer: String,
    pub project: String,
    pub image: String,
    pub start_ns: u64,
    pub start: String,
    pub end_ns: u64,
    pub end: String,
    pub price_per_hour: u64,
    /// For the whole window (hours rounded up).
    pub total_price: u64,
    /// Until when an offered execution holds its server: accept it before then.
    pub expires_at_ns: u64,
    pub expires_at: String,
    /// The lessee's X25519 public key (hex) credentials are sealed to, set at accept.
    pub lessee_public_key: Option<String>,
    /// Whether the provider has attached sealed credentials (lease_status opens them).
    pub credentials_sealed: bool,
}

impl From<Execution> for ExecutionOut {
    fn from(e: Execution) -> Self {
        Self {
            execution_id: e.id,
            phase: e.phase.into(),
            phase_since: rfc3339(e.phase_since_ns),
            reason: e.reason,
            reclaim: e.reclaim.map(Into::into),
            offerset_id: e.offerset_id,
            offer_id: e.offer_id,
            item_id: e.item_id,
            sku: e.sku,
            resource_type: e.resource_type,
            resource_uuid: e.resource_uuid,
            provider_pem: e.provider_pem,
            attributes: e.attributes.into(),
            consumer: e.consumer.to_text(),
            project: e.project,
            image: e.image,
            start_ns: e.start_ns,
            start: rfc3339(e.start_ns),
            end_ns: e.end_ns,
            end: rfc3339(e.end_ns),
            price_per_hour: e.price_per_hour,
            total_price: e.total_price,
            expires_at_ns: e.expires_at_ns,
            expires_at: rfc3339(e.expires_at_ns),
            lessee_public_key: e.lessee_key.map(|key| hex(&key)),
            credentials_sealed: e.consumer_meta.is_some(),
        }
    }
}

/// The provider's notice that it takes its server back: the lease ends at `ends_at_ns`.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ReclaimOut {
    pub noticed_at_ns: u64,
    pub noticed_at: String,
    pub ends_at_ns: u64,
    pub ends_at: String,
    /// The provider's reason.
    pub reason: String,
}

impl From<Reclaim> for ReclaimOut {
    fn from(r: Reclaim) -> Self {
        Self {
            noticed_at_ns: r.noticed_at_ns,
            noticed_at: rfc3339(r.noticed_at_ns),
            ends_at_ns: r.ends_at_ns,
            ends_at: rfc3339(r.ends_at_ns),
            reason: r.reason,
        }
    }
}

/// Whether the request was matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Matched {
    Yes,
    No,
}

/// open: its offers can be accepted until `expires_at`; accepted: one was; expired: nothing
/// was accepted in time (or nothing was offered).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OffersetState {
    Open,
    Accepted,
    Expired,
}

/// A message of the matching: why offers were or were not made.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MessageOut {
    /// "info", "warn", "fail", "error" or "debug".
    pub level: String,
    pub text: String,
}

/// An offerset: the request's result, its messages and its offers, cheapest first.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct OffersetOut {
    pub offerset_id: u64,
    pub result: Matched,
    pub status: OffersetState,
    /// With status accepted: the accepted execution.
    pub accepted_execution_id: Option<u64>,
    pub messages: Vec<MessageOut>,
    pub created_at: String,
    pub expires_at_ns: u64,
    pub expires_at: String,
    /// The offers (executions in phase offered), cheapest first: accept one with accept_offer.
    pub offers: Vec<ExecutionOut>,
}

impl From<OffersetView> for OffersetOut {
    fn from(view: OffersetView) -> Self {
        let o = view.offerset;
        let (status, accepted_execution_id) = match o.status {
            OffersetStatus::Open => (OffersetState::Open, None),
            OffersetStatus::Accepted { execution_id } => {
                (OffersetState::Accepted, Some(execution_id))
            }
            OffersetStatus::Expired => (OffersetState::Expired, None),
        };
        Self {
            offerset_id: o.id,
            result: match o.result {
                OffersetResult::Yes => Matched::Yes,
                OffersetResult::No => Matched::No,
            },
            status,
            accepted_execution_id,
            messages: o
                .messages
                .into_iter()
                .map(|m| MessageOut {
                    level: level(m.level).into(),
                    text: m.text,
                })
                .collect(),
            created_at: rfc3339(o.created_at_ns),
            expires_at_ns: o.expires_at_ns,
            expires_at: rfc3339(o.expires_at_ns),
            offers: view.offers.into_iter().map(Into::into).collect(),
        }
    }
}

fn level(level: Level) -> &'static str {
    match level {
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Fail => "fail",
        Level::Error => "error",
        Level::Debug => "debug",
    }
}

/// What became of the lease's credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialsState {
    /// The provider has not attached any yet.
    NotSealed,
    /// Opened with the server's lessee key: in `credentials`.
    Opened,
    /// Sealed, but this server has no lessee key (it was accepted elsewhere).
    NoKey,
    /// Sealed, but they do not open with this server's key (`credentials_error` says why).
    NotOpened,
}

/// `lease_status`: the execution, and its credentials opened with the server's lessee key.
#[derive(Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct LeaseStatusResult {
    pub execution: ExecutionOut,
    pub credentials_state: CredentialsState,
    /// The credentials as the provider sealed them (UTF-8, invalid bytes replaced).
    pub credentials: Option<String>,
    pub credentials_error: Option<String>,
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
