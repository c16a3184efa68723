//! Providers' keys on the heap: by id (dense, from the store's counter) and ids in key order.
//! Lookups by key and the PEMs of replies read these rather than the providers' stable map,
//! a B-tree whose every read decodes nodes from stable memory (about a hundred thousand
//! instructions at a thousand providers).

use crate::catalog::provider::ProviderKey;
use ic_stable_structures::Storable;
use std::borrow::Cow;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProviderKeys {
    /// Provider `id`'s key at `id`.
    pub(super) keys: Vec<[u8; 32]>,
    /// The ids, in key order.
    pub(super) by_key: Vec<u32>,
}

impl ProviderKeys {
    /// Records provider `id` (a new one: ids are never reused).
    pub fn add(&mut self, id: u32, key: &ProviderKey) {
        let at = id as usize;
        if self.keys.len() <= at {
            self.keys.resize(at + 1, [0; 32]);
        }
        self.keys[at] = *key.as_bytes();
        if let Err(position) = self.position(key.as_bytes()) {
            self.by_key.insert(position, id);
        }
    }

    pub fn id(&self, key: &ProviderKey) -> Option<u32> {
        let at = self.position(key.as_bytes()).ok()?;
        Some(self.by_key[at])
    }

    pub fn key(&self, id: u32) -> Option<ProviderKey> {
        let bytes = self.keys.get(id as usize)?;
        self.id_of(bytes)
            .filter(|&known| known == id)
            .map(|_| ProviderKey::from_bytes(Cow::Borrowed(bytes)))
    }

    /// Whether every id in key order names a key: checked on a loaded snapshot.
    pub(super) fn is_consistent(&self) -> bool {
        self.by_key
            .iter()
            .all(|&id| (id as usize) < self.keys.len())
    }

    fn id_of(&self, bytes: &[u8; 32]) -> Option<u32> {
        let at = self.position(bytes).ok()?;
        Some(self.by_key[at])
    }

    fn position(&self, key: &[u8; 32]) -> Result<usize, usize> {
        self.by_key
            .binary_search_by(|&id| self.keys[id as usize].cmp(key))
    }
}

#[cfg(test)]
mod tests;
