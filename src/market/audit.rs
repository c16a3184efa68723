//! The audit log: every change of an item, offer, offerset or execution, appended to a stable
//! log (who, when, from, to, why) and indexed per entity. Entries are appended in time order
//! (IC time never goes back), so a time range is a binary search over sequence numbers.
//!
//! Who reads what: controllers everything; a consumer the entries of its own offersets and
//! executions; a provider's delegates the entries of that provider's entities.

use super::types::{Actor, AuditArg, AuditEntry, AuditPage, Entity, MarketError};
use crate::memory::{self, Memory};
use candid::Principal;
use ic_stable_structures::{StableBTreeMap, StableLog};
use std::cell::RefCell;

/// One change, as the code that makes it describes it.
pub struct Change<'a> {
    pub entity: Entity,
    pub from: &'a str,
    pub to: &'a str,
    pub why: &'a str,
    pub consumer: Option<Principal>,
    pub provider_pem: &'a str,
}

thread_local! {
    static LOG: StableLog<Vec<u8>, Memory, Memory> = StableLog::init(
        memory::region(memory::AUDIT_INDEX),
        memory::region(memory::AUDIT_DATA),
    );
    /// `(entity kind, entity id, seq)`.
    static BY_ENTITY: RefCell<StableBTreeMap<(u8, u64, u64), (), Memory>> =
        RefCell::new(StableBTreeMap::init(memory::region(memory::AUDIT_BY_ENTITY)));
}

fn entity_key(entity: Entity) -> (u8, u64) {
    match entity {
        Entity::Item(id) => (0, id),
        Entity::Offer(id) => (1, id),
        Entity::Offerset(id) => (2, id),
        Entity::Execution(id) => (3, id),
    }
}

/// Appends the change; its sequence number is its position in the log, from 1.
pub fn record(now: u64, actor: &Actor, change: Change) -> u64 {
    let seq = len() + 1;
    let entry = AuditEntry {
        seq,
        at_ns: now,
        actor: actor.clone(),
        entity: change.entity,
        from: change.from.into(),
        to: change.to.into(),
        why: change.why.into(),
        consumer: change.consumer,
        provider_pem: change.provider_pem.into(),
    };
    let bytes = candid::encode_one(&entry).expect("an audit entry always encodes");
    // Only a full stable memory fails an append; no state may be built on a lost record.
    LOG.with(|log| log.append(&bytes))
        .expect("stable memory is full: the audit log cannot grow");
    let (kind, id) = entity_key(change.entity);
    BY_ENTITY.with_borrow_mut(|index| index.insert((kind, id, seq), ()));
    seq
}

pub fn len() -> u64 {
    LOG.with(|log| log.len())
}

/// The entry with sequence number `seq`.
pub fn entry(seq: u64) -> Option<AuditEntry> {
    let bytes = LOG.with(|log| log.get(seq.checked_sub(1)?))?;
    Some(candid::decode_one(&bytes).expect("stored audit entry is not valid Candid"))
}

/// Who is reading: `acts_for(provider_pem)` tells whether the caller is that provider's delegate.
pub struct Reader<'a> {
    pub principal: Principal,
    pub is_controller: bool,
    pub acts_for: &'a dyn Fn(&str) -> bool,
}

impl Reader<'_> {
    fn may_read(&self, entry: &AuditEntry) -> bool {
        self.is_controller
            || entry.consumer == Some(self.principal)
            || (self.acts_for)(&entry.provider_pem)
    }
}

/// A page of the entries the reader may see, oldest first.
pub fn page(reader: &Reader, arg: &AuditArg) -> Result<AuditPage, MarketError> {
    todo!("audit page: {:?} {}", arg, reader.principal)
}
