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
        budget: limit.saturating_mul(SCAN_PER_ENTRY),
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
mod tests {
    use super::*;

    const P1: &str = "provider one";
    const P2: &str = "provider two";

    fn principal(n: u8) -> Principal {
        Principal::from_slice(&[n; 29])
    }

    fn add(at_ns: u64, entity: Entity, consumer: Option<Principal>, provider_pem: &str) -> u64 {
        record(
            at_ns,
            &Actor::Canister,
            Change {
                entity,
                from: "a",
                to: "b",
                why: "test",
                consumer,
                provider_pem,
            },
        )
    }

    fn none(_: &str) -> bool {
        false
    }

    fn controller() -> Reader<'static> {
        Reader {
            principal: principal(99),
            is_controller: true,
            acts_for: &none,
        }
    }

    fn consumer(n: u8) -> Reader<'static> {
        Reader {
            principal: principal(n),
            is_controller: false,
            acts_for: &none,
        }
    }

    fn seqs(page: &AuditPage) -> Vec<u64> {
        page.entries.iter().map(|entry| entry.seq).collect()
    }

    fn all(reader: &Reader, arg: AuditArg) -> Vec<u64> {
        seqs(&page(reader, &arg).unwrap())
    }

    #[test]
    fn readers_see_what_is_theirs() {
        let (alice, bob) = (principal(1), principal(2));
        add(1, Entity::Item(1), None, P1);
        add(2, Entity::Offerset(1), Some(alice), P2);
        add(3, Entity::Execution(1), Some(alice), P1);
        add(4, Entity::Execution(2), Some(bob), P2);

        assert_eq!(all(&controller(), AuditArg::default()), [1, 2, 3, 4]);
        assert_eq!(all(&consumer(1), AuditArg::default()), [2, 3]);
        assert_eq!(all(&consumer(2), AuditArg::default()), [4]);
        let anonymous = Reader {
            principal: Principal::anonymous(),
            ..consumer(1)
        };
        assert!(matches!(
            page(&anonymous, &AuditArg::default()),
            Err(MarketError::NotAuthorized { .. })
        ));
        let stranger = page(&consumer(3), &AuditArg::default()).unwrap();
        assert_eq!(
            stranger,
            AuditPage {
                entries: vec![],
                next: None
            }
        );

        // A delegate of provider one, asked once per provider.
        let asked = std::cell::RefCell::new(Vec::new());
        let acts_for = |pem: &str| {
            asked.borrow_mut().push(pem.to_string());
            pem == P1
        };
        let delegate = Reader {
            principal: principal(7),
            is_controller: false,
            acts_for: &acts_for,
        };
        assert_eq!(all(&delegate, AuditArg::default()), [1, 3]);
        assert_eq!(*asked.borrow(), [P1, P2]);
        // A delegate who is also a consumer sees both.
        let both = Reader {
            principal: bob,
            ..delegate
        };
        assert_eq!(all(&both, AuditArg::default()), [1, 3, 4]);
    }

    #[test]
    fn entries_of_one_entity() {
        let alice = principal(1);
        add(1, Entity::Execution(1), Some(alice), P1);
        add(2, Entity::Item(1), None, P1);
        add(3, Entity::Execution(2), Some(alice), P1);
        add(4, Entity::Execution(1), Some(alice), P1);
        add(5, Entity::Offer(1), None, P1);
        let of = |entity| AuditArg {
            entity: Some(entity),
            ..AuditArg::default()
        };
        assert_eq!(all(&controller(), of(Entity::Execution(1))), [1, 4]);
        assert_eq!(all(&controller(), of(Entity::Item(1))), [2]);
        assert_eq!(all(&controller(), of(Entity::Offer(1))), [5]);
        assert_eq!(
            all(&controller(), of(Entity::Offerset(1))),
            Vec::<u64>::new()
        );
        // Visibility still applies.
        assert_eq!(all(&consumer(1), of(Entity::Item(1))), Vec::<u64>::new());
        assert_eq!(all(&consumer(1), of(Entity::Execution(1))), [1, 4]);
        // With a cursor and a window.
        let arg = AuditArg {
            after: Some(1),
            ..of(Entity::Execution(1))
        };
        assert_eq!(all(&controller(), arg), [4]);
        let arg = AuditArg {
            to_ns: Some(3),
            ..of(Entity::Execution(1))
        };
        assert_eq!(all(&controller(), arg), [1]);
    }

    #[test]
    fn time_range_is_inclusive_and_checked() {
        for at_ns in [10, 20, 20, 30, 40] {
            add(at_ns, Entity::Item(1), None, P1);
        }
        let window = |from_ns, to_ns| AuditArg {
            from_ns,
            to_ns,
            ..AuditArg::default()
        };
        let c = controller();
        assert_eq!(all(&c, window(Some(20), Some(30))), [2, 3, 4]);
        assert_eq!(all(&c, window(Some(25), None)), [4, 5]);
        assert_eq!(all(&c, window(None, Some(15))), [1]);
        assert_eq!(all(&c, window(Some(20), Some(20))), [2, 3]);
        assert_eq!(all(&c, window(Some(0), Some(9))), Vec::<u64>::new());
        assert_eq!(all(&c, window(Some(41), None)), Vec::<u64>::new());
        assert_eq!(all(&c, window(Some(40), Some(40))), [5]);
        assert_eq!(all(&c, window(None, None)), [1, 2, 3, 4, 5]);
        assert!(matches!(
            page(&c, &window(Some(31), Some(30))),
            Err(MarketError::InvalidWindow { .. })
        ));
        // A window after the cursor, and a cursor past the log.
        let arg = AuditArg {
            after: Some(3),
            ..window(Some(10), Some(30))
        };
        assert_eq!(all(&c, arg), [4]);
        let arg = AuditArg {
            after: Some(99),
            ..AuditArg::default()
        };
        assert_eq!(
            page(&c, &arg).unwrap(),
            AuditPage {
                entries: vec![],
                next: None
            }
        );
    }

    #[test]
    fn time_range_over_an_empty_log() {
        let arg = AuditArg {
            from_ns: Some(5),
            to_ns: Some(9),
            ..AuditArg::default()
        };
        assert_eq!(all(&controller(), arg), Vec::<u64>::new());
    }

    #[test]
    fn pages_follow_the_cursor() {
        for at_ns in 1..=7 {
            add(at_ns, Entity::Item(at_ns % 2), None, P1);
        }
        let arg = |after| AuditArg {
            after,
            limit: Some(3),
            ..AuditArg::default()
        };
        let first = page(&controller(), &arg(None)).unwrap();
        assert_eq!((seqs(&first), first.next), (vec![1, 2, 3], Some(3)));
        let second = page(&controller(), &arg(first.next)).unwrap();
        assert_eq!((seqs(&second), second.next), (vec![4, 5, 6], Some(6)));
        let third = page(&controller(), &arg(second.next)).unwrap();
        assert_eq!((seqs(&third), third.next), (vec![7], None));

        // A page that ends exactly at the last entry says nothing follows.
        let item_one = |after| AuditArg {
            entity: Some(Entity::Item(1)),
            after,
            limit: Some(2),
            ..AuditArg::default()
        };
        let first = page(&controller(), &item_one(None)).unwrap();
        assert_eq!((seqs(&first), first.next), (vec![1, 3], Some(3)));
        let second = page(&controller(), &item_one(first.next)).unwrap();
        assert_eq!((seqs(&second), second.next), (vec![5, 7], None));
    }

    #[test]
    fn limits_are_checked() {
        let zero = AuditArg {
            limit: Some(0),
            ..AuditArg::default()
        };
        assert!(matches!(
            page(&controller(), &zero),
            Err(MarketError::InvalidArgument { .. })
        ));
        let many = AuditArg {
            limit: Some(crate::market::MAX_PAGE + 1),
            ..AuditArg::default()
        };
        assert!(matches!(
            page(&controller(), &many),
            Err(MarketError::TooMany { .. })
        ));
    }

    #[test]
    fn a_reader_who_may_see_little_gets_bounded_pages() {
        let alice = principal(1);
        for at_ns in 1..=95 {
            add(at_ns, Entity::Execution(1), Some(principal(2)), P2);
        }
        let mine = add(96, Entity::Execution(1), Some(alice), P2);
        add(97, Entity::Execution(1), Some(principal(2)), P2);

        for entity in [None, Some(Entity::Execution(1))] {
            let mut after = None;
            let mut pages = 0;
            let mut found = vec![];
            loop {
                let arg = AuditArg {
                    entity,
                    after,
                    limit: Some(1),
                    ..AuditArg::default()
                };
                let page = page(&consumer(1), &arg).unwrap();
                pages += 1;
                // At most ten entries examined per page of one.
                if let (Some(next), Some(after)) = (page.next, after) {
                    assert!(next - after <= 10, "{after} → {next}");
                }
                found.extend(seqs(&page));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            assert_eq!(found, [mine]);
            // Nine pages of ten, one that reaches alice's entry, one for the entry after it.
            assert_eq!(pages, 11, "{entity:?}");
        }
    }
}
