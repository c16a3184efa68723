//! The change feed: every offering upserted or removed, numbered from 1 in the order applied,
//! so a frontend can poll `catalog_changes` from the `next` it was given and stay current.
//!
//! It keeps a window: the newest `change_feed_window` changes (configuration). A change costs
//! a stranger nothing but a signed publication, so an unbounded feed would grow for good; each
//! append prunes up to two changes that fell out of the window, so the feed shrinks back to it
//! after the window is lowered too. A reader polling from before the window is told so
//! (`fell_behind`) and re-reads the catalogs.
//!
//! Changes up to the first one recorded by this version sit in the old `StableLog` (regions
//! `CHANGES_INDEX`/`CHANGES_DATA`), which is never appended to again: its length is where the
//! window's map (`CHANGES_WINDOW`) takes over, with no migration at upgrade.

use crate::catalog::error::CatalogError;
use crate::catalog::{store, text};
use crate::memory::{self, Memory};
use candid::{CandidType, Deserialize};
use ic_stable_structures::storable::Bound;
use ic_stable_structures::{StableBTreeMap, StableLog, Storable};
use std::borrow::Cow;
use std::cell::RefCell;

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1_000;

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    Upsert,
    Remove,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub seq: u64,
    pub provider_pem: String,
    pub offering_key: String,
    pub kind: ChangeKind,
    pub at_ns: u64,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ChangesArg {
    /// Changes after this sequence number are returned; 0 for all.
    pub since: u64,
    pub limit: Option<u32>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ChangesPage {
    pub changes: Vec<Change>,
    /// The `since` of the next poll.
    pub next: u64,
    /// The newest change's sequence number.
    pub latest: u64,
    /// The oldest change still kept.
    pub oldest: u64,
    /// `since` is older than the window: changes were pruned unseen (this page starts at
    /// `oldest`), so the reader must re-read the catalogs.
    pub fell_behind: bool,
}

/// A change as logged: the provider by id (4 bytes instead of 32), then kind, time and key.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    provider_id: u32,
    kind: ChangeKind,
    at_ns: u64,
    key: String,
}

/// An [`Entry`]'s bytes, which is what the log holds: appending one is a single allocation
/// (an allocation costs thousands of instructions on wasm, and every offering published is
/// logged).
struct EntryBytes(Vec<u8>);

/// Changes pruned per append: more than one, so the feed catches up after the window shrinks.
const PRUNE_PER_APPEND: usize = 2;

thread_local! {
    /// Changes `1..=LEGACY.len()`, recorded before the window existed; read-only.
    static LEGACY: StableLog<EntryBytes, Memory, Memory> = StableLog::init(
        memory::region(memory::CHANGES_INDEX),
        memory::region(memory::CHANGES_DATA),
    );
    /// Every later change still in the window, by sequence number.
    static WINDOW: RefCell<StableBTreeMap<u64, EntryBytes, Memory>> =
        RefCell::new(StableBTreeMap::init(memory::region(memory::CHANGES_WINDOW)));
}

/// Creates this module's stable structures now (at install and upgrade) rather than at the
/// first call that touches them, so a call that changes nothing writes nothing.
pub fn open() {
    LEGACY.with(|_| ());
    WINDOW.with(|_| ());
}

fn legacy_len() -> u64 {
    LEGACY.with(|log| log.len())
}

/// Appends a change and returns its sequence number; prunes what fell out of the window.
pub(super) fn record(provider_id: u32, kind: ChangeKind, key: &str, at_ns: u64) -> u64 {
    let seq = latest() + 1;
    let entry = Entry::encode(provider_id, kind, at_ns, key);
    let first_kept = oldest_in(seq, crate::config::get().change_feed_window);
    WINDOW.with_borrow_mut(|window| {
        window.insert(seq, entry);
        for _ in 0..PRUNE_PER_APPEND {
            match window.first_key_value() {
                Some((old, _)) if old < first_kept => window.remove(&old),
                _ => break,
            };
        }
    });
    seq
}

pub fn latest() -> u64 {
    WINDOW
        .with_borrow(|window| window.last_key_value().map(|(seq, _)| seq))
        .unwrap_or_else(legacy_len)
}

/// The oldest change a feed whose newest is `latest` keeps with `window`.
fn oldest_in(latest: u64, window: u64) -> u64 {
    latest.saturating_sub(window).saturating_add(1)
}

/// The change `seq`, if kept.
fn entry(seq: u64) -> Option<Entry> {
    let bytes = if seq <= legacy_len() {
        LEGACY.with(|log| log.get(seq - 1))?
    } else {
        WINDOW.with_borrow(|window| window.get(&seq))?
    };
    Some(Entry::decode(&bytes.0))
}

pub fn page(arg: &ChangesArg) -> Result<ChangesPage, CatalogError> {
    let limit = arg.limit.unwrap_or(DEFAULT_LIMIT);
    if limit > MAX_LIMIT {
        return Err(CatalogError::LimitTooLarge { max: MAX_LIMIT });
    }
    let latest = latest();
    let oldest = oldest_in(latest, crate::config::get().change_feed_window);
    // Changes before `oldest` may still be stored (pruning catches up): they are not served.
    let fell_behind = arg.since.saturating_add(1) < oldest && arg.since < latest;
    let start = arg.since.max(oldest - 1).min(latest);
    let end = start.saturating_add(limit.into()).min(latest);
    // Consecutive changes are mostly one provider's: format its PEM once.
    let mut pem: Option<(u32, String)> = None;
    let changes = (start..end)
        .filter_map(|index| {
            let entry = entry(index + 1)?;
            if pem.as_ref().is_none_or(|(id, _)| *id != entry.provider_id) {
                let key = store::provider_key(entry.provider_id)?;
                pem = Some((entry.provider_id, key.to_pem()));
            }
            Some(Change {
                seq: index + 1,
                provider_pem: pem.as_ref()?.1.clone(),
                offering_key: entry.key,
                kind: entry.kind,
                at_ns: entry.at_ns,
            })
        })
        .collect();
    Ok(ChangesPage {
        changes,
        next: end,
        latest,
        oldest,
        fell_behind,
    })
}

impl Entry {
    fn encode(provider_id: u32, kind: ChangeKind, at_ns: u64, key: &str) -> EntryBytes {
        let mut bytes = Vec::with_capacity(4 + 1 + 8 + key.len());
        bytes.extend(provider_id.to_le_bytes());
        bytes.push(match kind {
            ChangeKind::Upsert => 0,
            ChangeKind::Remove => 1,
        });
        bytes.extend(at_ns.to_le_bytes());
        bytes.extend(key.as_bytes());
        EntryBytes(bytes)
    }

    /// Only [`record`] writes entries.
    fn decode(bytes: &[u8]) -> Self {
        let (id, rest) = bytes.split_at(4);
        let (kind, rest) = rest.split_at(1);
        let (at, key) = rest.split_at(8);
        Self {
            provider_id: u32::from_le_bytes(id.try_into().expect("4 bytes")),
            kind: if kind[0] == 0 {
                ChangeKind::Upsert
            } else {
                ChangeKind::Remove
            },
            at_ns: u64::from_le_bytes(at.try_into().expect("8 bytes")),
            key: text::utf8_string(key),
        }
    }
}

impl Storable for EntryBytes {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.0)
    }

    fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        Self(bytes.into_owned())
    }

    const BOUND: Bound = Bound::Unbounded;
}

#[cfg(test)]
mod tests;
