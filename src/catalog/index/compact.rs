//! Compaction: removed offerings leave dead slots behind, which are dropped in one pass once
//! they are a quarter of all slots, so a query never scans more than a third extra.

use super::dict::Dict;
use super::postings::Postings;
use super::{Index, LIVE, MIN_DEAD, NO_GPU, NO_SLOT};

impl Index {
    pub(super) fn compact_if_sparse(&mut self) {
        if self.dead >= MIN_DEAD && self.dead * 4 >= self.columns.slots() {
            self.compact();
        }
    }

    /// Drops dead slots, renumbering the live ones in order, and every term, GPU name and id
    /// only dead slots used.
    pub(super) fn compact(&mut self) {
        let keep: Vec<bool> = (0..self.columns.slots() as u32)
            .map(|slot| self.columns.has(slot, LIVE))
            .collect();
        let mut remap = vec![NO_SLOT; keep.len()];
        let mut keys = Vec::new();
        let mut key_ends = Vec::new();
        for (slot, _) in keep.iter().enumerate().filter(|(_, &live)| live) {
            remap[slot] = key_ends.len() as u32;
            keys.extend_from_slice(self.key(slot as u32));
            key_ends.push(keys.len() as u32);
        }
        let new_slot = |slot: u32| remap.get(slot as usize).copied().unwrap_or(NO_SLOT);

        let mut terms = Dict::default();
        let mut postings = Postings::default();
        let mut slots = Vec::new();
        for term in 0..self.terms.len() as u32 {
            slots.clear();
            slots.extend(
                self.postings
                    .cursor(term)
                    .map(new_slot)
                    .filter(|&s| s != NO_SLOT),
            );
            if !slots.is_empty() {
                let id = terms.intern(self.terms.entry(term));
                slots.iter().for_each(|&slot| postings.push(id, slot));
            }
        }

        self.columns.retain(&keep);
        self.columns.key_end = key_ends;
        let mut used = vec![false; self.gpus.len()];
        for &gpu in self.columns.gpu.iter().filter(|&&gpu| gpu != NO_GPU) {
            used[gpu as usize] = true;
        }
        let (gpus, gpu_remap) = self.gpus.retain(|id| used[id as usize]);
        for gpu in self.columns.gpu.iter_mut().filter(|gpu| **gpu != NO_GPU) {
            *gpu = gpu_remap[*gpu as usize].unwrap_or(NO_GPU);
        }
        for list in self.by_provider.values_mut() {
            list.iter_mut().for_each(|slot| *slot = new_slot(*slot));
        }
        let (ids, id_slots) = self
            .ids
            .iter()
            .zip(&self.id_slots)
            .map(|(&id, &slot)| (id, new_slot(slot)))
            .filter(|&(_, slot)| slot != NO_SLOT)
            .unzip();
        (self.ids, self.id_slots) = (ids, id_slots);
        (self.keys, self.terms, self.postings, self.gpus) = (keys, terms, postings, gpus);
        self.dead = 0;
        // Term ids changed.
        self.words.clear();
        self.tags.clear();
    }
}
