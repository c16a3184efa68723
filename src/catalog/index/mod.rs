//! The search index: every offering's searchable values on the heap, in a form a query can scan
//! in a few million instructions and an upgrade can save and load in bulk.
//!
//! Each offering gets a dense *slot*: its values sit at that position of [`Columns`], its terms'
//! posting lists ([`Postings`]) name it, and its provider's key-ordered list holds it. New
//! offerings always take the next slot, so posting lists only grow at their tails; a removed
//! offering's slot is marked dead and skipped, and once a quarter of the slots are dead they are
//! compacted away in one pass (renumbering keeps every list in order). Reusing freed slots
//! instead would insert into the middle of long posting lists on every import.
//!
//! Text terms and *tags* share one dictionary: a tag is a field's whole folded value behind a
//! namespace byte (city, operating system, feature), so those equality filters are posting-list
//! intersections like words. Invisible offerings are kept for lookup, browse and export but get
//! no postings: public search never returns them. Indexing an offering finds the term ids of
//! the cell texts it shares with offerings indexed lately in a memo ([`memo`]) rather than
//! cutting and interning them again.
//!
//! The index also holds the providers' keys ([`providers`]), so that lookups by key and the
//! PEMs of replies need not read the providers' stable map.
//!
//! Everything here is plain vectors of numbers (a `BTreeMap` of providers aside), which the
//! snapshot writes and reads with one stable-memory copy each; see [`snapshot`].

mod columns;
mod compact;
mod dict;
mod memo;
mod persist;
mod postings;
mod providers;
use crate::snapshot;
#[cfg(test)]
pub mod testing;

pub use columns::{Columns, Row, LIVE, NO_GPU, UNMETERED, VISIBLE};
pub(crate) use dict::Dict;
pub use postings::{intersect, Cursor};

use crate::catalog::csv_format;
use crate::catalog::offering::{self, Cells, Column, Values};
use crate::catalog::provider::ProviderKey;
use crate::catalog::search::kinds;
use crate::catalog::store;
use crate::catalog::text;
use crate::memory;
use memo::TermMemo;
use postings::Postings;
use providers::ProviderKeys;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// Snapshot format version: bump with any change to what [`Index::save`] writes or to the
/// dictionaries' hash.
const SNAPSHOT_VERSION: u32 = 2;
/// Compaction waits for this many dead slots at least, so small catalogs do not churn.
const MIN_DEAD: usize = 64;
/// Longest tag kept (bytes after the namespace byte); longer values are cut at a character.
const MAX_TAG_BYTES: usize = 64;
/// The id order's mark for a removed offering's id.
const NO_SLOT: u32 = u32::MAX;

/// The namespaces of tags: the first byte of the term, which word terms (letters and digits
/// only) never start with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    City = 1,
    Os = 2,
    Feature = 3,
    /// The two upper-case letters. Country and currency have columns too; their lists let a
    /// query that filters on them scan only those offerings.
    Country = 4,
    /// The three upper-case letters.
    Currency = 5,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Index {
    pub columns: Columns,
    /// Offering keys, one after the other in slot order (`columns.key_end`).
    keys: Vec<u8>,
    terms: Dict,
    postings: Postings,
    /// Folded GPU names (`columns.gpu`).
    gpus: Dict,
    /// Each provider's live slots, in key order.
    by_provider: BTreeMap<u32, Vec<u32>>,
    /// Offering ids in increasing order and each one's slot ([`NO_SLOT`] once removed). Ids
    /// come from a counter, so new ones append.
    ids: Vec<u64>,
    id_slots: Vec<u32>,
    dead: usize,
    providers: ProviderKeys,
    /// Term ids of the cell texts and of the field values (behind their tag byte) indexed
    /// lately.
    words: TermMemo,
    tags: TermMemo,
}

/// `text`'s folded words joined by single spaces, as tags and GPU names are compared.
pub fn fold(text: &str) -> String {
    let mut folded = Vec::new();
    fold_into(&mut folded, text);
    text::utf8_string(&folded)
}

/// Appends the UTF-8 bytes of [`fold`] of `text` to `out`.
fn fold_into(out: &mut Vec<u8>, text: &str) {
    let start = out.len();
    text::for_each_term(text, |term| {
        if out.len() > start {
            out.push(b' ');
        }
        out.extend_from_slice(term);
    });
}

/// The term of a field value: `tag`'s byte, then the folded value; `None` when it has no word.
pub fn tag(tag: Tag, value: &str) -> Option<Vec<u8>> {
    let mut term = Vec::new();
    write_tag(&mut term, tag, value).then_some(term)
}

/// Writes [`tag`] of `value` over `out`; false when the value has no word.
fn write_tag(out: &mut Vec<u8>, tag: Tag, value: &str) -> bool {
    out.clear();
    out.push(tag as u8);
    fold_into(out, value);
    if out.len() == 1 {
        return false;
    }
    // Cut at a character boundary: not before a UTF-8 continuation byte.
    let mut end = out.len().min(1 + MAX_TAG_BYTES);
    while out.get(end).is_some_and(|&b| b & 0xc0 == 0x80) {
        end -= 1;
    }
    out.truncate(end);
    true
}

/// A city's tag: its first comma-separated part, so "Rotterdam, Netherlands" is "rotterdam".
pub fn city_tag(city: &str) -> Option<Vec<u8>> {
    tag(Tag::City, first_part(city))
}

fn first_part(city: &str) -> &str {
    city.split(',').next().unwrap_or_default()
}

/// The tag of a code kept as is (country, currency).
pub fn code_tag(tag: Tag, code: &[u8]) -> Vec<u8> {
    [&[tag as u8][..], code].concat()
}

thread_local! {
    /// The tag or folded GPU name [`Index::insert`] is building: reused from offering to
    /// offering, as an allocation costs thousands of instructions on wasm.
    static SCRATCH: RefCell<Vec<u8>> = RefCell::default();
}

impl Index {
    /// Adds offering `id`, or replaces the provider's offering with the same key.
    pub fn insert(&mut self, id: u64, provider: u32, offering: &impl Cells, values: &Values) {
        // An id inserted again without a removal replaces its offering, whatever the key.
        self.remove(id);
        let key = offering.key();
        let slot = self.columns.slots() as u32;
        self.keys.extend_from_slice(key.as_bytes());
        let row = self.row(id, provider, offering, values);
        self.columns.push(row);
        if values.visible {
            self.post(slot, offering, values);
        }
        let list = self.by_provider.entry(provider).or_default();
        let (keys, ends) = (&self.keys, &self.columns.key_end);
        match list.binary_search_by(|&s| key_of(keys, ends, s).cmp(key.as_bytes())) {
            Ok(at) => {
                let old = std::mem::replace(&mut list[at], slot);
                let old_id = self.columns.id[old as usize];
                self.set_id_slot(old_id, NO_SLOT);
                self.kill(old);
            }
            Err(at) => list.insert(at, slot),
        }
        self.set_id_slot(id, slot);
        self.compact_if_sparse();
    }

    /// Removes offering `id`; nothing happens for an id the index does not hold.
    pub fn remove(&mut self, id: u64) {
        let Some(slot) = self.slot_of_id(id) else {
            return;
        };
        self.set_id_slot(id, NO_SLOT);
        let provider = self.columns.provider[slot as usize];
        if let Some(list) = self.by_provider.get_mut(&provider) {
            let key = key_of(&self.keys, &self.columns.key_end, slot);
            let (keys, ends) = (&self.keys, &self.columns.key_end);
            if let Ok(at) = list.binary_search_by(|&s| key_of(keys, ends, s).cmp(key)) {
                // The key may have moved to a newer offering already.
                if list[at] == slot {
                    list.remove(at);
                }
            }
            if list.is_empty() {
                self.by_provider.remove(&provider);
            }
        }
        self.kill(slot);
        self.compact_if_sparse();
    }

    /// Removes every offering of `provider`.
    pub fn remove_provider(&mut self, provider: u32) {
        for slot in self.by_provider.remove(&provider).unwrap_or_default() {
            let id = self.columns.id[slot as usize];
            self.set_id_slot(id, NO_SLOT);
            self.kill(slot);
        }
        self.compact_if_sparse();
    }

    /// The live slot of `provider`'s offering `key`.
    pub fn lookup(&self, provider: u32, key: &[u8]) -> Option<u32> {
        let list = self.provider_slots(provider);
        let at = list.binary_search_by(|&s| self.key(s).cmp(key)).ok()?;
        Some(list[at])
    }

    /// `provider`'s live slots in key order.
    pub fn provider_slots(&self, provider: u32) -> &[u32] {
        self.by_provider.get(&provider).map_or(&[], Vec::as_slice)
    }

    /// The offering key of `slot`.
    pub fn key(&self, slot: u32) -> &[u8] {
        key_of(&self.keys, &self.columns.key_end, slot)
    }

    /// The id of the provider with `key`, if it ever published.
    pub fn provider_id(&self, key: &ProviderKey) -> Option<u32> {
        self.providers.id(key)
    }

    /// The key of provider `id`.
    pub fn provider_key(&self, id: u32) -> Option<ProviderKey> {
        self.providers.key(id)
    }

    /// The term id of a word or tag, if any offering ever had it.
    pub fn term(&self, term: &[u8]) -> Option<u32> {
        self.terms.get(term)
    }

    /// How many slots `term`'s posting list names (dead ones included).
    pub fn term_len(&self, term: u32) -> u32 {
        self.postings.len(term)
    }

    pub fn term_cursor(&self, term: u32) -> Cursor<'_> {
        self.postings.cursor(term)
    }

    /// Every folded GPU name with its id (`columns.gpu`).
    pub fn gpu_names(&self) -> impl Iterator<Item = (u32, &[u8])> {
        (0..self.gpus.len() as u32).map(|id| (id, self.gpus.entry(id)))
    }

    /// Adds `slot` to the posting lists of the offering's words and tags.
    fn post(&mut self, slot: u32, offering: &impl Cells, values: &Values) {
        let (terms, postings) = (&mut self.terms, &mut self.postings);
        for column in text::SEARCHABLE {
            let cell = offering.cell(column);
            let ids = self.words.ids(cell.as_bytes(), |ids| {
                text::for_each_term(cell, |term| ids.push(terms.intern(term)));
            });
            ids.iter().for_each(|&term| postings.push(term, slot));
        }
        let [a, b] = values.country;
        postings.push(terms.intern(&[Tag::Country as u8, a, b]), slot);
        let [a, b, c] = values.currency;
        postings.push(terms.intern(&[Tag::Currency as u8, a, b, c]), slot);
        let city = (Tag::City, first_part(offering.cell(Column::DatacenterCity)));
        let list = |tag, column| offering::list(offering.cell(column)).map(move |item| (tag, item));
        let os = list(Tag::Os, Column::OperatingSystems);
        let features = list(Tag::Feature, Column::Features);
        SCRATCH.with_borrow_mut(|buffer| {
            for (kind, value) in [city].into_iter().chain(os).chain(features) {
                // The memo's key: the kind, then the value as written.
                buffer.clear();
                buffer.push(kind as u8);
                buffer.extend_from_slice(value.as_bytes());
                let ids = self.tags.ids(buffer, |ids| {
                    let mut tag = Vec::new();
                    if write_tag(&mut tag, kind, value) {
                        ids.push(terms.intern(&tag));
                    }
                });
                ids.iter().for_each(|&term| postings.push(term, slot));
            }
        });
    }

    fn row(&mut self, id: u64, provider: u32, offering: &impl Cells, v: &Values) -> Row {
        let flag = |on: bool, flag: u8| if on { flag } else { 0 };
        let unmetered = offering::list(offering.cell(Column::Unmetered))
            .next()
            .is_some();
        let gpu = SCRATCH.with_borrow_mut(|text| {
            text.clear();
            fold_into(text, offering.cell(Column::GpuName));
            match text.is_empty() {
                true => NO_GPU,
                false => self.gpus.intern(text),
            }
        });
        Row {
            id,
            provider,
            price: v.price_minor,
            currency: v.currency,
            country: v.country,
            product_type: kinds::ProductType::from(v.product_type) as u8,
            virtualization: kinds::Virtualization::from(v.virtualization) as u8,
            billing: kinds::BillingInterval::from(v.billing) as u8,
            stock: kinds::Stock::from(v.stock) as u8,
            flags: LIVE | flag(v.visible, VISIBLE) | flag(unmetered, UNMETERED),
            cores: v.total_cores,
            memory_mb: v.memory_mb,
            ssd_gb: v.ssd_gb,
            hdd_gb: v.hdd_gb,
            gpu,
            key_end: self.keys.len() as u32,
        }
    }

    fn kill(&mut self, slot: u32) {
        if let Some(flags) = self.columns.flags.get_mut(slot as usize) {
            if *flags & LIVE != 0 {
                *flags &= !LIVE;
                self.dead += 1;
            }
        }
    }

    fn slot_of_id(&self, id: u64) -> Option<u32> {
        let at = self.ids.binary_search(&id).ok()?;
        Some(self.id_slots[at]).filter(|&slot| slot != NO_SLOT)
    }

    fn set_id_slot(&mut self, id: u64, slot: u32) {
        match self.ids.binary_search(&id) {
            Ok(at) => self.id_slots[at] = slot,
            Err(at) => {
                self.ids.insert(at, id);
                self.id_slots.insert(at, slot);
            }
        }
    }
}

fn key_of<'a>(keys: &'a [u8], ends: &[u32], slot: u32) -> &'a [u8] {
    let slot = slot as usize;
    let start = match slot {
        0 => 0,
        _ => ends.get(slot - 1).copied().unwrap_or(0) as usize,
    };
    let end = ends.get(slot).copied().unwrap_or(0) as usize;
    keys.get(start..end).unwrap_or_default()
}

thread_local! {
    static INDEX: RefCell<Index> = RefCell::default();
}

/// Reads the index.
pub fn with<R>(f: impl FnOnce(&Index) -> R) -> R {
    INDEX.with_borrow(f)
}

/// See [`Index::insert`].
pub fn insert(id: u64, provider: u32, offering: &impl Cells, values: &Values) {
    INDEX.with_borrow_mut(|index| index.insert(id, provider, offering, values));
}

/// Records a new provider's key (the store's provider `id`).
pub fn add_provider(id: u32, key: &ProviderKey) {
    INDEX.with_borrow_mut(|index| index.providers.add(id, key));
}

pub fn remove(id: u64) {
    INDEX.with_borrow_mut(|index| index.remove(id));
}

pub fn remove_provider(provider: u32) {
    INDEX.with_borrow_mut(|index| index.remove_provider(provider));
}

/// The id of `provider`'s offering `key`.
pub fn lookup(provider: u32, key: &str) -> Option<u64> {
    with(|index| {
        let slot = index.lookup(provider, key.as_bytes())?;
        Some(index.columns.id[slot as usize])
    })
}

/// Every offering of `provider` as (key, id), in key order.
pub fn provider_offerings(provider: u32) -> Vec<(String, u64)> {
    with(|index| {
        let slots = index.provider_slots(provider);
        let key = |slot| text::utf8_string(index.key(slot));
        slots
            .iter()
            .map(|&slot| (key(slot), index.columns.id[slot as usize]))
            .collect()
    })
}

/// Indexes stored offerings `(id, provider, CSV row)` and the store's providers from scratch,
/// replacing the index: the fallback when no snapshot can be loaded. Every row is parsed and
/// normalised again, so it is slow (the import's cost per offering, against a bulk copy for a
/// snapshot) but complete.
pub fn rebuild(offerings: impl IntoIterator<Item = (u64, u32, Vec<u8>)>) {
    let mut index = Index::default();
    for (id, key) in store::providers() {
        index.providers.add(id, &key);
    }
    for (id, provider, row) in offerings {
        // The store keeps only rows that passed this same parse when they were published.
        let Ok(cells) = csv_format::read_offering(&row) else {
            continue;
        };
        let offering = cells.row(0);
        if let Ok(values) = offering::values(&offering) {
            index.insert(id, provider, &offering, &values);
        }
    }
    INDEX.set(index);
}

/// Saves the index to the `INDEX_SNAPSHOT` region (pre_upgrade); returns the bytes written.
pub fn save() -> Result<u64, String> {
    with(|index| index.save(&memory::region(memory::INDEX_SNAPSHOT)))
}

/// Loads the index saved by the previous version's pre_upgrade; an error says why there is
/// none to load, and the index is then left empty for a rebuild.
pub fn load() -> Result<(), String> {
    let index = Index::load(&memory::region(memory::INDEX_SNAPSHOT))?;
    INDEX.set(index);
    Ok(())
}

#[cfg(test)]
mod tests;
