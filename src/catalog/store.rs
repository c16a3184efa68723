//! Providers and offerings in stable memory (layouts in `crate::memory`).
//!
//! Offerings are kept as the CSV row the provider's cells make: the source of truth from which
//! the search index is rebuilt and exports are written. Writes are `pub(super)`: only `publish`
//! changes the catalog, after it has validated a whole operation.
//!
//! Rows live in a heap of their own ([`rows`]) rather than a `StableBTreeMap`, which rewrites a
//! whole node of up to 11 rows on every insert: measured on the ic0 host, ~220k instructions per
//! insert and ~75k per read there, against a few thousand here.

use crate::catalog::provider::ProviderKey;
use crate::fields::Fields;
use crate::memory::{self, Memory};
use ic_stable_structures::storable::Bound;
use ic_stable_structures::{StableBTreeMap, StableVec, Storable};
use std::borrow::Cow;
use std::cell::RefCell;

/// What the canister knows of a provider. It outlives `provider_remove` (with no offerings) so
/// that sequence numbers keep increasing and old signed changes cannot be replayed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProviderRecord {
    pub id: u32,
    /// The last accepted sequence number.
    pub seq: u64,
    pub offerings: u32,
    /// Bytes of the provider's stored CSV rows.
    pub csv_bytes: u64,
    pub updated_at_ns: u64,
}

/// One region holds four tables, told apart by the key's first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    /// → [`Counters`]
    Counters,
    /// → [`ProviderRecord`]
    Key(ProviderKey),
    /// → the provider's key: ids are what the index and the change feed keep.
    Id(u32),
    /// → what the controllers decided about the key (`catalog::keys`), only for keys that have
    /// a state.
    State(ProviderKey),
}

/// Id counters: ids are never reused, so an id names one provider or upload for good
/// (offering ids are the positions in `OFFERING_SLOTS`, never reused either).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counters {
    next_provider_id: u32,
    next_upload_id: u64,
}

/// Where offering `id`'s row is: `OFFERING_SLOTS[id]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct RowSlot {
    /// Address of the row's block in `OFFERINGS`; 0 when the offering is removed.
    address: u64,
    len: u32,
    provider_id: u32,
}

thread_local! {
    static PROVIDERS: RefCell<StableBTreeMap<Slot, Vec<u8>, Memory>> =
        RefCell::new(StableBTreeMap::init(memory::region(memory::PROVIDERS)));
    static ROWS: rows::Heap = rows::Heap::init(memory::region(memory::OFFERINGS));
    static SLOTS: StableVec<RowSlot, Memory> =
        StableVec::init(memory::region(memory::OFFERING_SLOTS));
}

/// Creates this module's stable structures now (at install and upgrade) rather than at the
/// first call that touches them, so a call that changes nothing writes nothing.
pub fn open() {
    PROVIDERS.with(|_| ());
    ROWS.with(|_| ());
    SLOTS.with(|_| ());
}

/// The CSV row of offering `id`.
pub fn row(id: u64) -> Option<Vec<u8>> {
    let slot = SLOTS
        .with(|slots| slots.get(id))
        .filter(|s| s.address != 0)?;
    Some(ROWS.with(|rows| rows.read(slot.address, slot.len)))
}

/// Every stored offering as `(id, provider id, CSV row)`, in id order: what the search index
/// is rebuilt from when no snapshot of it can be loaded.
pub fn offerings() -> impl Iterator<Item = (u64, u32, Vec<u8>)> {
    let len = SLOTS.with(|slots| slots.len());
    (0..len).filter_map(|id| {
        let slot = SLOTS
            .with(|slots| slots.get(id))
            .filter(|s| s.address != 0)?;
        Some((
            id,
            slot.provider_id,
            ROWS.with(|rows| rows.read(slot.address, slot.len)),
        ))
    })
}

pub fn provider(key: &ProviderKey) -> Option<ProviderRecord> {
    PROVIDERS
        .with_borrow(|map| map.get(&Slot::Key(*key)))
        .map(|bytes| ProviderRecord::decode(&bytes))
}

pub fn provider_key(provider_id: u32) -> Option<ProviderKey> {
    PROVIDERS
        .with_borrow(|map| map.get(&Slot::Id(provider_id)))
        .map(|bytes| ProviderKey::from_bytes(Cow::Owned(bytes)))
}

/// The stored state of `key` (`catalog::keys` encodes it), if it has one.
pub(super) fn key_state(key: &ProviderKey) -> Option<Vec<u8>> {
    PROVIDERS.with_borrow(|map| map.get(&Slot::State(*key)))
}

/// Stores `key`'s state, or removes it (`None`).
pub(super) fn set_key_state(key: &ProviderKey, state: Option<Vec<u8>>) {
    PROVIDERS.with_borrow_mut(|map| match state {
        Some(bytes) => map.insert(Slot::State(*key), bytes),
        None => map.remove(&Slot::State(*key)),
    });
}

/// Every provider ever seen as `(id, key)`, in id order.
pub fn providers() -> Vec<(u32, ProviderKey)> {
    PROVIDERS.with_borrow(|map| {
        // Ids sort before key states: stop at the first of those.
        let ids = map.range(Slot::Id(0)..);
        ids.map_while(|entry| match *entry.key() {
            Slot::Id(id) => Some((id, ProviderKey::from_bytes(Cow::Owned(entry.value())))),
            _ => None,
        })
        .collect()
    })
}

/// Providers ever seen, including removed ones (which keep their record).
pub fn provider_count() -> u64 {
    u64::from(counters().next_provider_id)
}

pub fn offering_count() -> u64 {
    ROWS.with(rows::Heap::live)
}

/// Records a new provider and returns its record.
pub(super) fn add_provider(key: &ProviderKey, now: u64) -> ProviderRecord {
    let mut counters = counters();
    let record = ProviderRecord {
        id: counters.next_provider_id,
        updated_at_ns: now,
        ..ProviderRecord::default()
    };
    counters.next_provider_id += 1;
    PROVIDERS.with_borrow_mut(|map| {
        map.insert(Slot::Counters, counters.encode());
        map.insert(Slot::Id(record.id), key.as_bytes().to_vec());
        map.insert(Slot::Key(*key), record.encode());
    });
    record
}

pub(super) fn set_provider(key: &ProviderKey, record: &ProviderRecord) {
    PROVIDERS.with_borrow_mut(|map| map.insert(Slot::Key(*key), record.encode()));
}

/// Stores the row of a new offering; returns its id.
pub(super) fn add_offering(provider_id: u32, row: &[u8]) -> u64 {
    let address = ROWS.with(|rows| rows.place(0, 0, row));
    let slot = RowSlot {
        address,
        len: row_len(row),
        provider_id,
    };
    SLOTS.with(|slots| {
        slots.push(&slot);
        slots.len() - 1
    })
}

/// A fresh offering id, to be filled by [`put_offering`].
#[cfg(test)]
fn new_offering_id() -> u64 {
    SLOTS.with(|slots| {
        slots.push(&RowSlot::default());
        slots.len() - 1
    })
}

pub(super) fn new_upload_id() -> u64 {
    let mut counters = counters();
    let id = counters.next_upload_id;
    counters.next_upload_id += 1;
    PROVIDERS.with_borrow_mut(|map| map.insert(Slot::Counters, counters.encode()));
    id
}

/// Stores the row of offering `id`, stored before.
pub(super) fn put_offering(id: u64, provider_id: u32, row: &[u8]) {
    let old = SLOTS.with(|slots| slots.get(id)).unwrap_or_default();
    let address = ROWS.with(|rows| rows.place(old.address, old.len, row));
    let slot = RowSlot {
        address,
        len: row_len(row),
        provider_id,
    };
    SLOTS.with(|slots| slots.set(id, &slot));
}

fn row_len(row: &[u8]) -> u32 {
    u32::try_from(row.len()).expect("a row is far below 4 GiB")
}

pub(super) fn remove_offering(id: u64) {
    let Some(old) = SLOTS.with(|slots| slots.get(id)).filter(|s| s.address != 0) else {
        return;
    };
    ROWS.with(|rows| rows.free(old.address, old.len));
    SLOTS.with(|slots| slots.set(id, &RowSlot::default()));
}

fn counters() -> Counters {
    PROVIDERS
        .with_borrow(|map| map.get(&Slot::Counters))
        .map(|bytes| Counters::decode(&bytes))
        .unwrap_or_default()
}

impl ProviderRecord {
    /// Little-endian fields, appended over time (see `crate::fields`).
    fn encode(&self) -> Vec<u8> {
        let mut bytes = self.id.to_le_bytes().to_vec();
        bytes.extend(self.seq.to_le_bytes());
        bytes.extend(self.offerings.to_le_bytes());
        bytes.extend(self.csv_bytes.to_le_bytes());
        bytes.extend(self.updated_at_ns.to_le_bytes());
        bytes
    }

    fn decode(bytes: &[u8]) -> Self {
        let mut fields = Fields::new(bytes);
        Self {
            id: fields.u32().unwrap_or_default(),
            seq: fields.u64().unwrap_or_default(),
            offerings: fields.u32().unwrap_or_default(),
            csv_bytes: fields.u64().unwrap_or_default(),
            updated_at_ns: fields.u64().unwrap_or_default(),
        }
    }
}

impl Counters {
    fn encode(&self) -> Vec<u8> {
        let mut bytes = self.next_provider_id.to_le_bytes().to_vec();
        bytes.extend(self.next_upload_id.to_le_bytes());
        bytes
    }

    fn decode(bytes: &[u8]) -> Self {
        let mut fields = Fields::new(bytes);
        Self {
            next_provider_id: fields.u32().unwrap_or_default(),
            next_upload_id: fields.u64().unwrap_or_default(),
        }
    }
}

const SLOT_COUNTERS: u8 = 0;
const SLOT_KEY: u8 = 1;
const SLOT_ID: u8 = 2;
const SLOT_STATE: u8 = 3;

impl Storable for Slot {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.into_bytes())
    }

    fn into_bytes(self) -> Vec<u8> {
        match self {
            Self::Counters => vec![SLOT_COUNTERS],
            Self::Key(key) => [&[SLOT_KEY][..], key.as_bytes()].concat(),
            Self::Id(id) => [&[SLOT_ID][..], &id.to_be_bytes()].concat(),
            Self::State(key) => [&[SLOT_STATE][..], key.as_bytes()].concat(),
        }
    }

    /// Only this module writes slots.
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        match (bytes[0], &bytes[1..]) {
            (SLOT_KEY, key) => Self::Key(ProviderKey::from_bytes(Cow::Borrowed(key))),
            (SLOT_ID, id) => Self::Id(u32::from_be_bytes(id.try_into().expect("4-byte id"))),
            (SLOT_STATE, key) => Self::State(ProviderKey::from_bytes(Cow::Borrowed(key))),
            _ => Self::Counters,
        }
    }

    const BOUND: Bound = Bound::Bounded {
        max_size: 33,
        is_fixed_size: false,
    };
}

impl Storable for RowSlot {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.into_bytes())
    }

    fn into_bytes(self) -> Vec<u8> {
        let mut bytes = self.address.to_le_bytes().to_vec();
        bytes.extend(self.len.to_le_bytes());
        bytes.extend(self.provider_id.to_le_bytes());
        bytes
    }

    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        let mut fields = Fields::new(&bytes);
        Self {
            address: fields.u64().unwrap_or_default(),
            len: fields.u32().unwrap_or_default(),
            provider_id: fields.u32().unwrap_or_default(),
        }
    }

    const BOUND: Bound = Bound::Bounded {
        max_size: 16,
        is_fixed_size: true,
    };
}

/// A heap of row blocks in size classes (64-byte steps up to 4 KiB, then 4 KiB steps), each
/// class with a free list of the blocks it got back, so space is reused and waste stays under
/// one step. Layout: a 4 KiB header (magic, bump address, live rows, free-list heads), then
/// blocks; a free block holds the address of the next free one of its class.
mod rows {
    use crate::memory::Memory;
    use ic_stable_structures::Memory as _;
    use std::cell::RefCell;

    const MAGIC: &[u8; 4] = b"ROW1";
    const BUMP: u64 = 8;
    const LIVE: u64 = 16;
    const HEADS: u64 = 64;
    const HEADER_BYTES: u64 = 4096;
    /// Where the header's words end: the free-list heads are its last.
    const WORDS_END: u64 = HEADS + 8 * CLASSES;
    const SMALL_STEP: u64 = 64;
    const SMALL_CLASSES: u64 = 64;
    const LARGE_STEP: u64 = 4096;
    /// Up to (CLASSES - 62) × 4 KiB = 776 KiB: more than a row of 35 cells can take.
    const CLASSES: u64 = 256;
    const PAGE: u64 = 65_536;

    pub struct Heap {
        memory: Memory,
        /// The header's words (bump address, live rows, free-list heads), read from stable
        /// memory once and then from here; writes go to both. Only this heap writes its
        /// region, and a trap rolls the heap back with stable memory, so the copy stays
        /// exact, and a row placed reads and writes stable memory a third as often.
        words: RefCell<Vec<u64>>,
    }

    impl Heap {
        pub fn init(memory: Memory) -> Self {
            let heap = Self {
                memory,
                words: RefCell::default(),
            };
            if heap.memory.size() == 0 {
                heap.write_at(0, MAGIC);
                heap.set(BUMP, HEADER_BYTES);
            }
            heap
        }

        pub fn live(&self) -> u64 {
            self.get(LIVE)
        }

        pub fn read(&self, address: u64, len: u32) -> Vec<u8> {
            let mut row = vec![0; len as usize];
            self.memory.read(address, &mut row);
            row
        }

        /// Writes `row` in place of the block at `old` (0 for none) and returns its address:
        /// the same block when the size class is the same.
        pub fn place(&self, old: u64, old_len: u32, row: &[u8]) -> u64 {
            let class = class(row.len() as u64);
            let address = if old != 0 && class == self::class(u64::from(old_len)) {
                old
            } else {
                if old != 0 {
                    self.free(old, old_len);
                }
                self.set(LIVE, self.live() + 1);
                self.alloc(class)
            };
            self.write_at(address, row);
            address
        }

        pub fn free(&self, address: u64, len: u32) {
            let head = HEADS + 8 * class(u64::from(len));
            self.set(address, self.get(head));
            self.set(head, address);
            self.set(LIVE, self.live() - 1);
        }

        fn alloc(&self, class: u64) -> u64 {
            let head = HEADS + 8 * class;
            match self.get(head) {
                0 => {
                    let address = self.get(BUMP);
                    self.set(BUMP, address + block_bytes(class));
                    address
                }
                free => {
                    self.set(head, self.get(free));
                    free
                }
            }
        }

        fn get(&self, address: u64) -> u64 {
            if address < WORDS_END {
                return self.header_words()[(address / 8) as usize];
            }
            let mut bytes = [0; 8];
            self.memory.read(address, &mut bytes);
            u64::from_le_bytes(bytes)
        }

        fn set(&self, address: u64, value: u64) {
            if address < WORDS_END {
                if let Some(word) = self.words.borrow_mut().get_mut((address / 8) as usize) {
                    *word = value;
                }
            }
            self.write_at(address, &value.to_le_bytes());
        }

        /// The header's words, read from stable memory the first time.
        fn header_words(&self) -> std::cell::Ref<'_, Vec<u64>> {
            if self.words.borrow().is_empty() {
                let mut bytes = vec![0; WORDS_END as usize];
                self.memory.read(0, &mut bytes);
                let words = bytes
                    .chunks_exact(8)
                    .map(|word| u64::from_le_bytes(word.try_into().expect("8 bytes")));
                *self.words.borrow_mut() = words.collect();
            }
            self.words.borrow()
        }

        fn write_at(&self, address: u64, bytes: &[u8]) {
            let end = address + bytes.len() as u64;
            let size = self.memory.size() * PAGE;
            // Only a full stable memory fails to grow; no state may be built on a lost row.
            if end > size && self.memory.grow((end - size).div_ceil(PAGE)) < 0 {
                ic_cdk::trap("stable memory is full");
            }
            self.memory.write(address, bytes);
        }
    }

    fn class(len: u64) -> u64 {
        let class = if len <= SMALL_STEP * SMALL_CLASSES {
            len.max(1).div_ceil(SMALL_STEP) - 1
        } else {
            SMALL_CLASSES - 2 + len.div_ceil(LARGE_STEP)
        };
        assert!(class < CLASSES, "a row of {len} bytes has no size class");
        class
    }

    fn block_bytes(class: u64) -> u64 {
        if class < SMALL_CLASSES {
            SMALL_STEP * (class + 1)
        } else {
            LARGE_STEP * (class + 2 - SMALL_CLASSES)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn classes_fit_rows_with_less_than_one_step_to_spare() {
            for len in [1, 63, 64, 65, 550, 4096, 4097, 8192, 8193, 300_000] {
                let block = block_bytes(class(len));
                let step = if len <= 4096 { SMALL_STEP } else { LARGE_STEP };
                assert!(block >= len && block - len < step, "{len} in {block}");
            }
            assert_eq!((class(64), class(4096), class(4097)), (0, 63, 64));
            assert!(block_bytes(CLASSES - 1) > 35 * (2 * 4096 + 3));
        }
    }
}

#[cfg(test)]
mod tests;
