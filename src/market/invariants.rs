//! The market's rules as code: what must hold between items, offers, offersets, executions,
//! bookings, the matching index and the usage counters after every message.
//!
//! The check runs **paged** over the stored records, a bounded number per call: a page visits
//! records in id order, section by section (item ids with their calendars, then offers,
//! offersets, executions, projects), and checks the rules anchored at each. A rule relating two records
//! is checked from one side, reading the other by key, so no page needs another's results.
//! Three rules count over all records (`claimed_offer_has_one_contract`, for offers an older
//! canister claimed whole, `usage_equals_recount`, `hold_counts_equal_recount`): they run only
//! when the whole check runs in one go ([`check_all`], with a [`Tally`]).
//!
//! Everything reads through [`Records`]: the canister's store ([`Stored`]) in production, the
//! model test's snapshot in `model_tests.rs`, so the rules exist once. Rules about time after
//! the manager ran and about the audit log compare against the model's expectations and stay
//! in the model test (`docs/market.md`, "Invariants").

mod rules;

pub use rules::Tally;

use super::store::{self, Booking, ProjectRecord, Usage};
use super::types::{Execution, Item, Offer, Offerset, Payment};
use crate::catalog::provider::ProviderKey;
use candid::{CandidType, Deserialize, Principal};
use std::borrow::Cow;
use std::cell::Cell;

/// Every rule checked here, by name (the model test checks ten more).
pub const RULES: [&str; 22] = [
    "calendar_no_overlap",
    "booking_window_nonempty",
    "booking_has_live_execution",
    "live_execution_has_its_booking",
    "item_reserved_or_leased_iff_its_lease_runs",
    "item_lease_id_only_while_reserved_or_leased",
    "running_lease_holds_its_item",
    "releasing_lease_gave_its_item_back",
    "claimed_offer_has_one_contract",
    "offered_execution_has_an_unclaimed_offer",
    "execution_within_its_offer",
    "reclaimed_lease_ends_by_its_deadline",
    "execution_in_its_offerset",
    "hold_expires_with_its_offerset",
    "offerset_status_agrees_with_its_executions",
    "final_phase_says_why",
    "removed_item_has_nothing_live",
    "matching_index_agrees_with_store",
    "usage_equals_recount",
    "hold_counts_equal_recount",
    "project_membership_agrees",
    "escrow_covers_its_transfers",
];

/// Records one page reads at most (each a Candid decode, 1 to 2 M instructions on the wasm,
/// an execution's whole check about 5 M): a full page stays far below the 5 B instruction
/// limit of a query (`tests/self_check.rs` measures it).
pub const MAX_PAGE: u32 = 500;
/// Records a page reads when the caller names no limit.
pub const DEFAULT_PAGE: u32 = 100;
/// Violations one page reports at most: a page stops early at this many, so a broken state
/// cannot make a reply too large.
pub const MAX_VIOLATIONS: usize = 100;
/// Longest detail of a violation, in bytes (records are printed whole).
const MAX_DETAIL_BYTES: usize = 1_000;

/// One broken rule: its name (one of [`RULES`], or the model test's) and what broke it.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub rule: String,
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.rule, self.detail)
    }
}

#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct SelfCheckArg {
    /// Where to start: `next` of the previous page; none for the first page.
    pub cursor: Option<u64>,
    /// Records to read, 1 to [`MAX_PAGE`]; [`DEFAULT_PAGE`] if none.
    pub limit: Option<u32>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SelfCheckPage {
    pub violations: Vec<Violation>,
    /// The cursor of the next page; none when this page reached the end.
    pub next: Option<u64>,
    /// Records this page read: the work it did.
    pub checked: u32,
}

/// What the rules read. Ids are dense: each kind's records have ids below its `next_*`.
pub trait Records {
    fn next_ids(&self) -> NextIds;
    fn item(&self, id: u64) -> Option<Cow<'_, Item>>;
    fn offer(&self, id: u64) -> Option<Cow<'_, Offer>>;
    fn offerset(&self, id: u64) -> Option<Cow<'_, Offerset>>;
    fn execution(&self, id: u64) -> Option<Cow<'_, Execution>>;
    /// An execution's payment: read where it is stored, whatever the source (payments move in
    /// the queue's settlement, which no snapshot sees).
    fn payment(&self, id: u64) -> Option<Payment> {
        store::payment(id)
    }
    /// Every booking of an item (ids without an item too), earliest first.
    fn bookings(&self, item_id: u64) -> Cow<'_, [Booking]>;
    /// The booking of `item_id` starting at `start_ns`, if any.
    fn booking_at(&self, item_id: u64, start_ns: u64) -> Option<Booking>;
    /// Ids of the item's offers in the heap's matching index.
    fn indexed_offers(&self, item_id: u64) -> Vec<u64>;
    fn usage(&self, principal: &Principal) -> Usage;
    /// The stored hold counters: items `consumer` holds, and holds on `provider`'s items.
    fn consumer_holds(&self, consumer: &Principal) -> u32;
    fn provider_holds(&self, provider: &ProviderKey) -> u32;
    /// A project with its members and what the reverse maps say of them (the store's: the
    /// model test keeps no projects of its own).
    fn project(&self, id: u64) -> Option<StoredProject> {
        let record = store::project(id)?;
        let members = store::project_members(id, super::projects::MAX_MEMBERS + 1);
        let listed = members
            .iter()
            .map(|member| store::member_project_listed(member, id))
            .collect();
        let owned = store::owned_project_listed(&record.owner, id);
        Some(StoredProject {
            record,
            members,
            listed,
            owned,
        })
    }
}

/// A project as its rule reads it.
pub struct StoredProject {
    pub record: ProjectRecord,
    /// Its members in principal order (one past the cap at most).
    pub members: Vec<Principal>,
    /// For each member, whether the member → project map lists it.
    pub listed: Vec<bool>,
    /// Whether the owner → project map lists it.
    pub owned: bool,
}

/// The first id not yet given out, per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NextIds {
    pub item: u64,
    pub offer: u64,
    pub offerset: u64,
    pub execution: u64,
    pub project: u64,
}

/// The canister's own records: stable memory and the heap's matching index.
pub struct Stored;

impl Records for Stored {
    fn next_ids(&self) -> NextIds {
        let meta = store::meta();
        NextIds {
            item: meta.next_item,
            offer: meta.next_offer,
            offerset: meta.next_offerset,
            execution: meta.next_execution,
            project: store::next_project_id(),
        }
    }
    fn item(&self, id: u64) -> Option<Cow<'_, Item>> {
        store::item(id).map(Cow::Owned)
    }
    fn offer(&self, id: u64) -> Option<Cow<'_, Offer>> {
        store::offer(id).map(Cow::Owned)
    }
    fn offerset(&self, id: u64) -> Option<Cow<'_, Offerset>> {
        store::offerset(id).map(Cow::Owned)
    }
    fn execution(&self, id: u64) -> Option<Cow<'_, Execution>> {
        store::execution(id).map(Cow::Owned)
    }
    fn bookings(&self, item_id: u64) -> Cow<'_, [Booking]> {
        Cow::Owned(store::item_bookings(item_id))
    }
    fn booking_at(&self, item_id: u64, start_ns: u64) -> Option<Booking> {
        // The only booking that can overlap `[start, start + 1)` is the last one starting at
        // or before `start`.
        store::overlapping_booking(item_id, start_ns, start_ns.saturating_add(1))
            .filter(|b| b.start_ns == start_ns)
    }
    fn indexed_offers(&self, item_id: u64) -> Vec<u64> {
        super::index::item_open_offers(item_id)
            .iter()
            .map(|o| o.offer_id)
            .collect()
    }
    fn usage(&self, principal: &Principal) -> Usage {
        store::usage(principal)
    }
    fn consumer_holds(&self, consumer: &Principal) -> u32 {
        store::consumer_holds(consumer)
    }
    fn provider_holds(&self, provider: &ProviderKey) -> u32 {
        store::provider_holds(provider).held
    }
}

/// Counts the records the rules read (a page's work); a booking counts as one.
struct Counted<'a, S> {
    src: &'a S,
    reads: Cell<u32>,
}

impl<S> Counted<'_, S> {
    fn read<T>(&self, n: usize, value: T) -> T {
        let n = u32::try_from(n).unwrap_or(u32::MAX);
        self.reads.set(self.reads.get().saturating_add(n));
        value
    }
}

impl<S: Records> Records for Counted<'_, S> {
    fn next_ids(&self) -> NextIds {
        self.src.next_ids()
    }
    fn item(&self, id: u64) -> Option<Cow<'_, Item>> {
        self.read(1, self.src.item(id))
    }
    fn offer(&self, id: u64) -> Option<Cow<'_, Offer>> {
        self.read(1, self.src.offer(id))
    }
    fn offerset(&self, id: u64) -> Option<Cow<'_, Offerset>> {
        self.read(1, self.src.offerset(id))
    }
    fn execution(&self, id: u64) -> Option<Cow<'_, Execution>> {
        self.read(1, self.src.execution(id))
    }
    fn bookings(&self, item_id: u64) -> Cow<'_, [Booking]> {
        let bookings = self.src.bookings(item_id);
        self.read(bookings.len(), bookings)
    }
    fn booking_at(&self, item_id: u64, start_ns: u64) -> Option<Booking> {
        self.read(1, self.src.booking_at(item_id, start_ns))
    }
    fn indexed_offers(&self, item_id: u64) -> Vec<u64> {
        self.src.indexed_offers(item_id)
    }
    fn usage(&self, principal: &Principal) -> Usage {
        self.src.usage(principal)
    }
    fn consumer_holds(&self, consumer: &Principal) -> u32 {
        self.src.consumer_holds(consumer)
    }
    fn provider_holds(&self, provider: &ProviderKey) -> u32 {
        self.src.provider_holds(provider)
    }
    fn project(&self, id: u64) -> Option<StoredProject> {
        let project = self.src.project(id);
        let n = project.as_ref().map_or(1, |p| 1 + p.members.len());
        self.read(n, project)
    }
}

/// The kinds of records, in the order a check visits them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    /// Ids 0 through `next.item` (an id without an item is a removed one, or a stray booking).
    Items = 0,
    Offers = 1,
    Offersets = 2,
    Executions = 3,
    Projects = 4,
}

/// A cursor is the section in the top byte and the next id to check below it.
const ID_BITS: u32 = 56;
const ID_MASK: u64 = (1 << ID_BITS) - 1;

impl Section {
    fn from_cursor(cursor: u64) -> Option<(Section, u64)> {
        let section = match cursor >> ID_BITS {
            0 => Section::Items,
            1 => Section::Offers,
            2 => Section::Offersets,
            3 => Section::Executions,
            4 => Section::Projects,
            _ => return None,
        };
        Some((section, cursor & ID_MASK))
    }

    fn cursor(self, id: u64) -> u64 {
        ((self as u64) << ID_BITS) | (id & ID_MASK)
    }

    /// The first id and the end (exclusive) of the section's ids.
    fn ids(self, next: NextIds) -> (u64, u64) {
        match self {
            Section::Items => (0, next.item.saturating_add(1)),
            Section::Offers => (1, next.offer),
            Section::Offersets => (1, next.offerset),
            Section::Executions => (1, next.execution),
            Section::Projects => (1, next.project),
        }
    }

    fn following(self) -> Option<Section> {
        match self {
            Section::Items => Some(Section::Offers),
            Section::Offers => Some(Section::Offersets),
            Section::Offersets => Some(Section::Executions),
            Section::Executions => Some(Section::Projects),
            Section::Projects => None,
        }
    }
}

/// The violations found and how many rule evaluations found them.
#[derive(Debug, Default)]
pub struct Report {
    pub violations: Vec<Violation>,
    /// Rule evaluations, each rule counted once per record it was evaluated on.
    pub evaluated: u64,
}

impl Report {
    pub(crate) fn check(&mut self, rule: &'static str, ok: bool, detail: impl FnOnce() -> String) {
        self.evaluated += 1;
        if !ok {
            let mut detail = detail();
            if detail.len() > MAX_DETAIL_BYTES {
                let mut end = MAX_DETAIL_BYTES;
                while !detail.is_char_boundary(end) {
                    end -= 1;
                }
                detail.truncate(end);
                detail.push('…');
            }
            self.violations.push(Violation {
                rule: rule.into(),
                detail,
            });
        }
    }
}

/// One page: what it found, where the next starts, and how many records it checked.
#[derive(Debug, Default)]
pub struct Page {
    pub report: Report,
    pub next: Option<u64>,
    pub checked: u32,
}

/// Checks the records from `cursor` on (`None`: from the start), the rules anchored at one
/// record at a time, until they read `limit` records (the record that reaches it is checked
/// whole: an item reads its calendar, an offerset its executions) or found [`MAX_VIOLATIONS`].
/// A `tally` collects the counts for [`Tally::finish`]. An undecodable cursor is an error
/// message.
pub fn check_page(
    src: &impl Records,
    cursor: Option<u64>,
    limit: u32,
    mut tally: Option<&mut Tally>,
) -> Result<Page, String> {
    let (mut section, mut id) = match cursor {
        None => (Section::Items, 0),
        Some(cursor) => Section::from_cursor(cursor)
            .ok_or_else(|| format!("cursor {cursor} is not one this check returned"))?,
    };
    let src = &Counted {
        src,
        reads: Cell::new(0),
    };
    let next_ids = src.next_ids();
    let mut page = Page::default();
    loop {
        let (first, end) = section.ids(next_ids);
        id = id.max(first);
        if id >= end {
            match section.following() {
                Some(following) => {
                    (section, id) = (following, 0);
                    continue;
                }
                None => {
                    page.checked = src.reads.get();
                    return Ok(page);
                }
            }
        }
        page.checked = src.reads.get();
        if page.checked >= limit.max(1) || page.report.violations.len() >= MAX_VIOLATIONS {
            page.next = Some(section.cursor(id));
            return Ok(page);
        }
        match section {
            Section::Items => rules::item(src, next_ids, id, &mut page.report),
            Section::Offers => rules::offer(src, id, &mut page.report, tally.as_deref_mut()),
            Section::Offersets => rules::offerset(src, id, &mut page.report, tally.as_deref_mut()),
            Section::Executions => {
                rules::execution(src, id, &mut page.report, tally.as_deref_mut())
            }
            Section::Projects => rules::project(src, id, &mut page.report),
        }
        id += 1;
    }
}

/// The whole check in one go: every page, then the counts. `principals` are checked for
/// `usage_equals_recount` besides those that have records (the store cannot list the
/// principals it keeps counters for).
pub fn check_all(src: &impl Records, principals: &[Principal]) -> Report {
    let mut tally = Tally::default();
    let mut report = Report::default();
    let mut cursor = None;
    loop {
        let page = check_page(src, cursor, MAX_PAGE, Some(&mut tally))
            .expect("the check's own cursors decode");
        report.evaluated += page.report.evaluated;
        report.violations.extend(page.report.violations);
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    tally.finish(src, principals, &mut report);
    report
}

/// The `market_self_check` query: one page of the check over the canister's records.
pub fn self_check_page(arg: SelfCheckArg) -> Result<SelfCheckPage, super::MarketError> {
    let limit = match arg.limit.unwrap_or(DEFAULT_PAGE) {
        0 => return Err(super::MarketError::invalid("limit must be at least 1")),
        n if n > MAX_PAGE => {
            return Err(super::MarketError::TooMany {
                what: "limit".into(),
                max: MAX_PAGE,
            })
        }
        n => n,
    };
    let page = check_page(&Stored, arg.cursor, limit, None).map_err(super::MarketError::invalid)?;
    Ok(SelfCheckPage {
        violations: page.report.violations,
        next: page.next,
        checked: page.checked,
    })
}

/// The whole check over the canister's records: the violations as one message, if any. The
/// `self-check` build traps with it at the end of every update and timer run.
pub fn self_check() -> Result<(), String> {
    let report = check_all(&Stored, &[]);
    if report.violations.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = report.violations.iter().map(|v| v.to_string()).collect();
    Err(format!(
        "self-check: {} market rule violation(s):\n{}",
        lines.len(),
        lines.join("\n")
    ))
}

#[cfg(test)]
mod tests;
