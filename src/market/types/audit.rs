//! Audit types: who changed which entity, the log's entries and pages.

use candid::{CandidType, Deserialize, Principal};

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
    /// The task queue, on its timer.
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
