//! Offerset types (ExecutionBroker): a consumer's request, its messages, the offerset.

use candid::{CandidType, Deserialize, Principal};

use super::Execution;

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
    /// With a `start_ns`: how many of the offers may start at another time when an item is
    /// booked at the one asked for (the nearest free window of the same offer, earlier or
    /// later; default 0). Without a `start_ns`, every offer starts as soon as its item is free.
    pub alternative_starts: Option<u32>,
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
