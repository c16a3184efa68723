//! The audit log: every change of an item, offer, offerset or execution, appended to a stable
//! log (who, when, from, to, why) and indexed per entity. Entries are appended in time order
//! (IC time never goes back), so a time range is a binary search over sequence numbers.
//!
//! Who reads what: controllers everything; a consumer the entries of its own offersets and
//! executions; a provider's delegates the entries of that provider's entities.

use super::types::{Actor, AuditArg, AuditEntry, AuditPage, Entity};
use super::MarketError;
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

/// Creates this module's stable structures now (at install and upgrade) rather than at the
/// first call that touches them, so a call that changes nothing writes nothing.
pub fn open() {
    LOG.with(|_| ());
    BY_ENTITY.with(|_| ());
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

/// Entries one page may examine, per entry it may return: a reader who may see few entries
/// gets a short (even empty) page and a `next` to continue from, rather than one call walking
/// the whole log.
const SCAN_PER_ENTRY: usize = 10;
/// Entries one page examines at most, whatever its limit: about 0.6 M instructions each on the
/// wasm, so a reader who may see none of them costs ~1.2 B, a quarter of a query.
const MAX_SCAN: usize = 2_000;

/// A page of the entries the reader may see, oldest first: of `arg.entity` if given, at times
/// in `[from_ns, to_ns]`, after sequence number `after`. `next`, when more may follow, is the
/// sequence number of the last entry examined, to pass as `after`.
pub fn page(reader: &Reader, arg: &AuditArg) -> Result<AuditPage, MarketError> {
    // Never a consumer nor a delegate: refused rather than answered with an empty page.
    if reader.principal == Principal::anonymous() && !reader.is_controller {
        return Err(MarketError::NotAuthorized {
            message: "the anonymous principal reads no audit entries: call with an identity".into(),
        });
    }
    let limit = super::page_limit(arg.limit)?;
    let from_ns = arg.from_ns.unwrap_or(0);
    let to_ns = arg.to_ns.unwrap_or(u64::MAX);
    if from_ns > to_ns {
        return Err(MarketError::InvalidWindow {
            message: format!("from_ns {from_ns} is after to_ns {to_ns}"),
        });
    }
    // The window's sequence numbers are `first..=last`: entries are in time order, so each
    // end is a binary search, narrowed by the cursor first.
    let len = len();
    let after = arg.after.unwrap_or(0).min(len);
    let first = partition_point(after + 1, len + 1, |at_ns| at_ns < from_ns);
    let last = partition_point(first, len + 1, |at_ns| at_ns <= to_ns) - 1;
    if first > last {
        return Ok(AuditPage {
            entries: vec![],
            next: None,
        });
    }
    let scan = Scan {
        reader,
        limit,
        budget: limit.saturating_mul(SCAN_PER_ENTRY).min(MAX_SCAN),
    };
    Ok(match arg.entity {
        None => scan.run(first..=last),
        Some(entity) => {
            let (kind, id) = entity_key(entity);
            BY_ENTITY.with_borrow(|index| {
                let seqs = index
                    .keys_range((kind, id, first)..=(kind, id, last))
                    .map(|(_, _, seq)| seq);
                scan.run(seqs)
            })
        }
    })
}

/// The first sequence number in `lo..hi` whose entry's time fails `before` (`hi` if none):
/// `before` must hold for a prefix of the log, as time comparisons against a bound do.
fn partition_point(mut lo: u64, mut hi: u64, before: impl Fn(u64) -> bool) -> u64 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let at_ns = entry(mid)
            .expect("every sequence number up to len is logged")
            .at_ns;
        if before(at_ns) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

struct Scan<'a, 'r> {
    reader: &'a Reader<'r>,
    limit: usize,
    /// Entries examined at most.
    budget: usize,
}

impl Scan<'_, '_> {
    /// Reads the entries `seqs` names, in order, keeping those the reader may see, until the
    /// page is full, the budget is spent or `seqs` ends.
    fn run(&self, seqs: impl Iterator<Item = u64>) -> AuditPage {
        let mut seqs = seqs.peekable();
        let mut entries = Vec::new();
        let mut last_examined = None;
        // Whether the reader acts for a provider, asked once per provider and page: the
        // answer is a stable-memory lookup, and one provider's entries come in runs.
        let mut acts_for: Vec<(String, bool)> = Vec::new();
        for _ in 0..self.budget {
            if entries.len() == self.limit {
                break;
            }
            let Some(seq) = seqs.next() else {
                break;
            };
            last_examined = Some(seq);
            let entry = entry(seq).expect("indexed audit entry is logged");
            if self.may_read(&entry, &mut acts_for) {
                entries.push(entry);
            }
        }
        let next = seqs.peek().and(last_examined);
        AuditPage { entries, next }
    }

    fn may_read(&self, entry: &AuditEntry, acts_for: &mut Vec<(String, bool)>) -> bool {
        let reader = self.reader;
        if reader.is_controller || entry.consumer == Some(reader.principal) {
            return true;
        }
        if let Some((_, known)) = acts_for.iter().find(|(pem, _)| *pem == entry.provider_pem) {
            return *known;
        }
        let allowed = reader.may_read(entry);
        acts_for.push((entry.provider_pem.clone(), allowed));
        allowed
    }
}

#[cfg(test)]
mod tests;
