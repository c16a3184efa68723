//! A dictionary of byte strings to dense ids (0, 1, 2, …): terms, GPU names.
//!
//! Everything is a flat vector of plain numbers, hash table included, so the upgrade snapshot
//! writes and reads it as is: no string allocation and no rehashing per entry, which is what
//! keeps an upgrade with a million offerings within its instruction budget.

/// Marks an unused table entry; the table holds `id + 1` otherwise.
const EMPTY: u32 = 0;
const MIN_TABLE: usize = 16;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dict {
    /// The entries' bytes, one after the other.
    pub(super) bytes: Vec<u8>,
    /// Where entry `i` ends in `bytes` (it starts where entry `i - 1` ends).
    pub(super) ends: Vec<u32>,
    /// Open addressing with linear probing; a power of two long, at most half full.
    pub(super) table: Vec<u32>,
}

impl Dict {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The bytes of entry `id`; empty for an id the dictionary never gave.
    pub fn entry(&self, id: u32) -> &[u8] {
        let id = id as usize;
        let start = match id {
            0 => 0,
            _ => self.ends.get(id - 1).copied().unwrap_or(0) as usize,
        };
        let end = self.ends.get(id).copied().unwrap_or(0) as usize;
        self.bytes.get(start..end).unwrap_or_default()
    }

    pub fn get(&self, key: &[u8]) -> Option<u32> {
        match self.probe(key) {
            Probe::Found(id) => Some(id),
            Probe::Vacant(_) => None,
        }
    }

    /// The id of `key`, added if new.
    pub fn intern(&mut self, key: &[u8]) -> u32 {
        if (self.len() + 1) * 2 > self.table.len() {
            self.grow();
        }
        match self.probe(key) {
            Probe::Found(id) => id,
            Probe::Vacant(at) => self.add(key, at),
        }
    }

    /// Adds `key` at table entry `at`. Out of line, as is `grow`: the ic0 host (wasmi) charges
    /// all the instructions of a function's body on entry, whichever branches are then taken,
    /// and most keys are found.
    #[inline(never)]
    fn add(&mut self, key: &[u8], at: usize) -> u32 {
        let id = self.len() as u32;
        self.bytes.extend_from_slice(key);
        self.ends.push(self.bytes.len() as u32);
        self.table[at] = id + 1;
        id
    }

    /// The entries `keep` accepts, renumbered in their order, and each old id's new id.
    pub fn retain(&self, keep: impl Fn(u32) -> bool) -> (Dict, Vec<Option<u32>>) {
        let mut kept = Dict::default();
        let remap = (0..self.len() as u32)
            .map(|id| keep(id).then(|| kept.intern(self.entry(id))))
            .collect();
        (kept, remap)
    }

    /// Whether the table is shaped as `intern` leaves it: checked on a loaded snapshot, so that
    /// probing always ends and entries slice within `bytes`.
    pub(super) fn is_consistent(&self) -> bool {
        let table_ok = self.table.is_empty() && self.ends.is_empty()
            || self.table.len().is_power_of_two() && self.len() * 2 <= self.table.len();
        let ends_ok = self.ends.windows(2).all(|w| w[0] <= w[1])
            && self.ends.last().map_or(0, |&end| end as usize) == self.bytes.len();
        let ids_ok = self.table.iter().all(|&e| e as usize <= self.len());
        table_ok && ends_ok && ids_ok
    }

    fn probe(&self, key: &[u8]) -> Probe {
        if self.table.is_empty() {
            return Probe::Vacant(0);
        }
        let mask = self.table.len() - 1;
        let mut at = hash(key) as usize & mask;
        loop {
            match self.table[at] {
                EMPTY => return Probe::Vacant(at),
                e if self.entry(e - 1) == key => return Probe::Found(e - 1),
                _ => at = (at + 1) & mask,
            }
        }
    }

    #[inline(never)]
    fn grow(&mut self) {
        let size = (self.table.len() * 2).max(MIN_TABLE);
        self.table = vec![EMPTY; size];
        let mask = size - 1;
        for id in 0..self.len() as u32 {
            let mut at = hash(self.entry(id)) as usize & mask;
            while self.table[at] != EMPTY {
                at = (at + 1) & mask;
            }
            self.table[at] = id + 1;
        }
    }
}

enum Probe {
    Found(u32),
    Vacant(usize),
}

/// FNV-1a, 64 bits. Part of the snapshot format (tables are saved as laid out): changing it
/// needs a new snapshot version. Out of line, so that its loop is just the hashing.
#[inline(never)]
fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests;
