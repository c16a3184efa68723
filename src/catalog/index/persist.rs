//! What the snapshot of an index holds, in order: the columns, the key bytes, the term and GPU
//! dictionaries, the postings, the providers' key-ordered lists, the id order, the count of
//! dead slots and the providers' keys (layout of each part in `snapshot`).

use super::columns::Columns;
use super::dict::Dict;
use super::postings::Postings;
use super::providers::ProviderKeys;
use super::{snapshot, Index, NO_GPU, NO_SLOT, SNAPSHOT_VERSION};
use ic_stable_structures::Memory;

impl Index {
    /// Writes the snapshot; returns its size in bytes.
    pub fn save<M: Memory>(&self, memory: &M) -> Result<u64, String> {
        snapshot::save(memory, SNAPSHOT_VERSION, |out| {
            self.columns.write(out);
            out.put(&self.keys);
            for dict in [&self.terms, &self.gpus] {
                out.put(&dict.bytes);
                out.put(&dict.ends);
                out.put(&dict.table);
            }
            let postings = &self.postings;
            for part in [
                &postings.pool,
                &postings.heads,
                &postings.tails,
                &postings.lens,
            ] {
                out.put(part);
            }
            let providers: Vec<u32> = self.by_provider.keys().copied().collect();
            let lens: Vec<u32> = self.by_provider.values().map(|l| l.len() as u32).collect();
            let slots: Vec<u32> = self.by_provider.values().flatten().copied().collect();
            out.put(&providers);
            out.put(&lens);
            out.put(&slots);
            out.put(&self.ids);
            out.put(&self.id_slots);
            out.put(&[self.dead as u64]);
            out.put(&self.providers.keys);
            out.put(&self.providers.by_key);
        })
    }

    /// Reads the snapshot [`Index::save`] wrote, checking its shape.
    pub fn load<M: Memory>(memory: &M) -> Result<Index, String> {
        let index = snapshot::load(memory, SNAPSHOT_VERSION, |input| {
            let columns = Columns::read(input)?;
            let keys = input.take()?;
            let mut dict = || -> Result<Dict, String> {
                Ok(Dict {
                    bytes: input.take()?,
                    ends: input.take()?,
                    table: input.take()?,
                })
            };
            let (terms, gpus) = (dict()?, dict()?);
            let postings = Postings {
                pool: input.take()?,
                heads: input.take()?,
                tails: input.take()?,
                lens: input.take()?,
            };
            let providers: Vec<u32> = input.take()?;
            let lens: Vec<u32> = input.take()?;
            let mut slots = input.take::<u32>()?.into_iter();
            let by_provider = providers
                .into_iter()
                .zip(lens)
                .map(|(provider, len)| (provider, slots.by_ref().take(len as usize).collect()))
                .collect();
            let (ids, id_slots) = (input.take()?, input.take()?);
            let dead = input.take::<u64>()?.first().copied().unwrap_or(0) as usize;
            let providers = ProviderKeys {
                keys: input.take()?,
                by_key: input.take()?,
            };
            Ok(Index {
                columns,
                keys,
                terms,
                postings,
                gpus,
                by_provider,
                ids,
                id_slots,
                dead,
                providers,
                ..Index::default()
            })
        })?;
        index.check_shape()?;
        Ok(index)
    }

    /// What a query relies on to never index out of bounds: checked on a loaded snapshot in
    /// time linear in the offerings. (Slots inside posting lists are not checked, which would
    /// cost as much as the lists; queries read columns at them with bounds checks.)
    pub(super) fn check_shape(&self) -> Result<(), String> {
        let slots = self.columns.slots();
        let ends = &self.columns.key_end;
        let keys_ok = ends.windows(2).all(|w| w[0] <= w[1])
            && ends.last().map_or(0, |&end| end as usize) == self.keys.len();
        let in_range = |slot: &u32| (*slot as usize) < slots;
        let lists_ok = self.by_provider.values().flatten().all(in_range);
        let ids_ok = self.ids.len() == self.id_slots.len()
            && self.id_slots.iter().all(|s| *s == NO_SLOT || in_range(s));
        let gpus_ok = self
            .columns
            .gpu
            .iter()
            .all(|&g| g == NO_GPU || (g as usize) < self.gpus.len());
        let dicts_ok = self.terms.is_consistent() && self.gpus.is_consistent();
        let providers_ok = self.providers.is_consistent();
        let postings_ok = self.postings.is_consistent();
        match keys_ok && lists_ok && ids_ok && gpus_ok && dicts_ok && providers_ok && postings_ok {
            true => Ok(()),
            false => Err("the snapshot's index is inconsistent".into()),
        }
    }
}
