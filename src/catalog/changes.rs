//! The change feed: every offering upserted or removed, numbered from 1 in the order applied,
//! so a frontend can poll `catalog_changes` from the `next` it was given and stay current.

use crate::catalog::error::CatalogError;
use crate::catalog::{store, text};
use crate::memory::{self, Memory};
use candid::{CandidType, Deserialize};
use ic_stable_structures::storable::Bound;
use ic_stable_structures::{StableLog, Storable};
use std::borrow::Cow;

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

thread_local! {
    static LOG: StableLog<EntryBytes, Memory, Memory> = StableLog::init(
        memory::region(memory::CHANGES_INDEX),
        memory::region(memory::CHANGES_DATA),
    );
}

/// Creates this module's stable structures now (at install and upgrade) rather than at the
/// first call that touches them, so a call that changes nothing writes nothing.
pub fn open() {
    LOG.with(|_| ());
}

/// Appends a change and returns its sequence number.
pub(super) fn record(provider_id: u32, kind: ChangeKind, key: &str, at_ns: u64) -> u64 {
    let entry = Entry::encode(provider_id, kind, at_ns, key);
    // Only a full stable memory fails an append; no state may be built on a lost change.
    LOG.with(|log| log.append(&entry))
        .expect("stable memory is full")
        + 1
}

pub fn latest() -> u64 {
    LOG.with(|log| log.len())
}

pub fn page(arg: &ChangesArg) -> Result<ChangesPage, CatalogError> {
    let limit = arg.limit.unwrap_or(DEFAULT_LIMIT);
    if limit > MAX_LIMIT {
        return Err(CatalogError::LimitTooLarge { max: MAX_LIMIT });
    }
    let latest = latest();
    let start = arg.since.min(latest);
    let end = start.saturating_add(limit.into()).min(latest);
    // Consecutive changes are mostly one provider's: format its PEM once.
    let mut pem: Option<(u32, String)> = None;
    let changes = (start..end)
        .filter_map(|index| {
            let entry = Entry::decode(&LOG.with(|log| log.get(index))?.0);
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
