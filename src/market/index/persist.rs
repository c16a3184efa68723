//! The market index's upgrade snapshot (`MARKET_INDEX_SNAPSHOT`, in the `snapshot` format):
//! the items' summaries, the open offers and the calendar's bookings as columns, so
//! `post_upgrade` loads them with a few bulk reads and decodes no stored record. An open offer's
//! entry copies its item's attributes, so the offers' columns hold only what is the offer's own.

use super::{Index, ItemSummary, OpenOffer};
use crate::market::offers::Rules;
use crate::market::types::ItemStatus;
use crate::snapshot::{self, Reader};
use candid::Principal;
use ic_stable_structures::Memory;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::rc::Rc;

/// The snapshot's format; a snapshot of another one is not loaded (the index is rebuilt).
/// Format 2 is format 1 followed by the open offers' terms (`rules`); format 3 stores the
/// principals of the terms as bytes instead of text (parsing text costs ~50 times more). Older
/// snapshots still load: format 2 parsing the text, format 1 (from before offers had terms)
/// with every offer on the default terms.
const VERSION: u32 = 3;
const VERSION_TEXT_PRINCIPALS: u32 = 2;
const VERSION_WITHOUT_TERMS: u32 = 1;

/// Item statuses by their code in the snapshot.
const STATUSES: [ItemStatus; 6] = [
    ItemStatus::Available,
    ItemStatus::Reserving,
    ItemStatus::Leased,
    ItemStatus::Rebuilding,
    ItemStatus::Maintenance,
    ItemStatus::Archiving,
];

fn status_code(status: ItemStatus) -> u8 {
    STATUSES.iter().position(|s| *s == status).unwrap_or(0) as u8
}

/// Strings as one byte string and each one's end offset.
#[derive(Default)]
struct Strings {
    bytes: Vec<u8>,
    ends: Vec<u64>,
}

impl Strings {
    fn push(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
        self.ends.push(self.bytes.len() as u64);
    }

    fn read<M: Memory>(input: &mut Reader<M>) -> Result<Self, String> {
        Ok(Self {
            bytes: input.take()?,
            ends: input.take()?,
        })
    }

    /// Each string's bytes, borrowed: nothing is allocated per string.
    fn slices(&self) -> Result<Vec<&[u8]>, String> {
        let mut start = 0;
        self.ends
            .iter()
            .map(|&end| {
                let slice = usize::try_from(end)
                    .ok()
                    .filter(|&end| start <= end && end <= self.bytes.len())
                    .map(|end| &self.bytes[start..end])
                    .ok_or("a string of the snapshot is out of bounds")?;
                start = end as usize;
                Ok(slice)
            })
            .collect()
    }
}

/// Shares each distinct text among the items that carry it (an offer's entry then shares its
/// item's): one allocation and one UTF-8 check per distinct text. Items are saved in id order,
/// so neighbours often carry the same text, which costs one comparison. A tree, not a hash:
/// the texts are the callers'.
#[derive(Default)]
struct Interner<'a> {
    /// Each distinct text, shared, and its number (0, 1, … in order of first sight).
    seen: BTreeMap<&'a [u8], (Rc<str>, usize)>,
    last: Option<(&'a [u8], Rc<str>, usize)>,
}

impl<'a> Interner<'a> {
    fn share(&mut self, bytes: &'a [u8]) -> Result<(Rc<str>, usize), String> {
        if let Some((last, text, n)) = &self.last {
            if *last == bytes {
                return Ok((text.clone(), *n));
            }
        }
        let (text, n) = match self.seen.get(bytes) {
            Some(shared) => shared.clone(),
            None => {
                let text: Rc<str> = std::str::from_utf8(bytes)
                    .map_err(|_| "a string of the snapshot is not UTF-8")?
                    .into();
                let shared = (text, self.seen.len());
                self.seen.insert(bytes, shared.clone());
                shared
            }
        };
        self.last = Some((bytes, text.clone(), n));
        Ok((text, n))
    }
}

impl Index {
    /// Writes the snapshot; returns its size in bytes.
    pub(super) fn save<M: Memory>(&self, memory: &M) -> Result<u64, String> {
        self.save_as(memory, Principals::Raw)
    }

    /// Writes the snapshot in format 3 (`Raw`), or for tests in format 2 (`Text`).
    fn save_as<M: Memory>(&self, memory: &M, principals: Principals) -> Result<u64, String> {
        let version = principals.version();
        let m = self.items.len();
        let (mut ids, mut statuses) = (Vec::with_capacity(m), Vec::with_capacity(m));
        let (mut cores, mut gpus) = (Vec::with_capacity(m), Vec::with_capacity(m));
        let (mut memory_mb, mut storage_gb) = (Vec::with_capacity(m), Vec::with_capacity(m));
        let (mut skus, mut classes) = (Strings::default(), Strings::default());
        // In id order: neighbours then mostly share their SKU and class (see `Interner`).
        let mut sorted: Vec<u64> = self.items.keys().copied().collect();
        sorted.sort_unstable();
        for (id, item) in sorted
            .iter()
            .filter_map(|id| Some((id, self.items.get(id)?)))
        {
            ids.push(*id);
            statuses.push(status_code(item.status));
            cores.push(item.cores);
            gpus.push(item.gpus);
            memory_mb.push(item.memory_mb);
            storage_gb.push(item.storage_gb);
            skus.push(item.sku.as_bytes());
            classes.push(item.resource_class.as_bytes());
        }
        // One pass over the offers for every column (this runs in pre_upgrade at the caps).
        let n = self.by_price.len();
        let mut offers = OfferColumns::with_capacity(n);
        let (mut min_ns, mut step_ns, mut counts) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let mut visible = Strings::default();
        for o in self.by_price.values() {
            offers.ids.push(o.offer_id);
            offers.item_ids.push(o.item_id);
            offers.starts.push(o.start_ns);
            offers.ends.push(o.end_ns);
            offers.prices.push(o.price_per_hour);
            min_ns.push(o.rules.min_ns);
            step_ns.push(o.rules.step_ns);
            let list = o.rules.visible_to().unwrap_or_default();
            for p in list {
                match principals {
                    Principals::Text => visible.push(p.to_text().as_bytes()),
                    _ => visible.push(p.as_slice()),
                }
            }
            counts.push(list.len() as u32);
        }
        snapshot::save(memory, version, |out| {
            out.put(&ids);
            out.put(&statuses);
            out.put(&cores);
            out.put(&gpus);
            out.put(&memory_mb);
            out.put(&storage_gb);
            for strings in [&skus, &classes] {
                out.put(&strings.bytes);
                out.put(&strings.ends);
            }
            out.put(&offers.ids);
            out.put(&offers.item_ids);
            out.put(&offers.starts);
            out.put(&offers.ends);
            out.put(&offers.prices);
            let bookings = self.calendar.iter();
            out.put(&bookings.clone().map(|(k, _)| k.0).collect::<Vec<u64>>());
            out.put(&bookings.clone().map(|(k, _)| k.1).collect::<Vec<u64>>());
            out.put(&bookings.clone().map(|(_, v)| v.0).collect::<Vec<u64>>());
            out.put(&bookings.map(|(_, v)| v.1).collect::<Vec<u64>>());
            // Since format 2: the terms, in the offers' column order; a public offer has count
            // 0; its principals' bytes (format 3).
            out.put(&min_ns);
            out.put(&step_ns);
            out.put(&counts);
            out.put(&visible.bytes);
            out.put(&visible.ends);
        })
    }

    /// Reads the snapshot [`Index::save`] wrote, checking its shape: columns of one length,
    /// known statuses, every offer's item present. The maps are built in bulk from the sorted
    /// columns (the offers are saved in matching order), not entry by entry: this is most of
    /// what an upgrade costs at the caps.
    pub(super) fn load<M: Memory>(memory: &M) -> Result<Index, String> {
        let principals = match snapshot::version(memory) {
            Some(VERSION_TEXT_PRINCIPALS) => Principals::Text,
            Some(VERSION_WITHOUT_TERMS) => Principals::Absent,
            _ => Principals::Raw,
        };
        snapshot::load(memory, principals.version(), |input| {
            read(input, principals)
        })
    }
}

/// How a format stores the principals an offer is visible to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Principals {
    /// Format 3: their bytes.
    Raw,
    /// Format 2: their text.
    Text,
    /// Format 1: no terms at all.
    Absent,
}

impl Principals {
    fn version(self) -> u32 {
        match self {
            Self::Raw => VERSION,
            Self::Text => VERSION_TEXT_PRINCIPALS,
            Self::Absent => VERSION_WITHOUT_TERMS,
        }
    }
}

fn read<M: Memory>(input: &mut Reader<M>, principals: Principals) -> Result<Index, String> {
    let mut index = read_items(input)?;
    let offers = OfferColumns::read(input)?;
    let booked_items: Vec<u64> = input.take()?;
    let booked_starts: Vec<u64> = input.take()?;
    let booked_ends: Vec<u64> = input.take()?;
    let holders: Vec<u64> = input.take()?;
    let booking_columns = [booked_starts.len(), booked_ends.len(), holders.len()];
    if booking_columns.iter().any(|&len| len != booked_items.len()) {
        return Err("the bookings' columns differ in length".into());
    }
    let rules = RuleColumns::read(input, principals, offers.ids.len())?;
    index.calendar = (0..booked_items.len())
        .map(|i| {
            let key = (booked_items[i], booked_starts[i]);
            (key, (booked_ends[i], holders[i]))
        })
        .collect();
    offers.build(&mut index, rules)?;
    Ok(index)
}

fn read_items<M: Memory>(input: &mut Reader<M>) -> Result<Index, String> {
    let ids: Vec<u64> = input.take()?;
    let statuses: Vec<u8> = input.take()?;
    let cores: Vec<u32> = input.take()?;
    let gpus: Vec<u32> = input.take()?;
    let memory_mb: Vec<u64> = input.take()?;
    let storage_gb: Vec<u64> = input.take()?;
    let (skus, classes) = (Strings::read(input)?, Strings::read(input)?);
    let (skus, classes) = (skus.slices()?, classes.slices()?);
    let item_columns = [
        statuses.len(),
        cores.len(),
        gpus.len(),
        memory_mb.len(),
        storage_gb.len(),
        skus.len(),
        classes.len(),
    ];
    if item_columns.iter().any(|&len| len != ids.len()) {
        return Err("the items' columns differ in length".into());
    }
    let mut index = Index::default();
    index.items.reserve(ids.len());
    let (mut sku_texts, mut class_texts) = (Interner::default(), Interner::default());
    // Each SKU's items, by the SKU's number.
    let mut groups: Vec<(Rc<str>, Vec<u64>)> = vec![];
    for (i, &id) in ids.iter().enumerate() {
        let status = *STATUSES
            .get(usize::from(statuses[i]))
            .ok_or("an unknown item status")?;
        let (sku, n) = sku_texts.share(skus[i])?;
        if n == groups.len() {
            groups.push((sku.clone(), vec![]));
        }
        groups[n].1.push(id);
        let summary = ItemSummary {
            sku,
            status,
            cores: cores[i],
            memory_mb: memory_mb[i],
            storage_gb: storage_gb[i],
            gpus: gpus[i],
            resource_class: class_texts.share(classes[i])?.0,
        };
        if index.items.insert(id, summary).is_some() {
            return Err("an item is in the snapshot twice".into());
        }
    }
    index.by_sku = groups
        .into_iter()
        .map(|(sku, ids)| (sku.to_string(), ids.into_iter().collect()))
        .collect();
    Ok(index)
}

/// The open offers' own columns, in matching order.
struct OfferColumns {
    ids: Vec<u64>,
    item_ids: Vec<u64>,
    starts: Vec<u64>,
    ends: Vec<u64>,
    prices: Vec<u64>,
}

impl OfferColumns {
    fn with_capacity(n: usize) -> Self {
        Self {
            ids: Vec::with_capacity(n),
            item_ids: Vec::with_capacity(n),
            starts: Vec::with_capacity(n),
            ends: Vec::with_capacity(n),
            prices: Vec::with_capacity(n),
        }
    }

    fn read<M: Memory>(input: &mut Reader<M>) -> Result<Self, String> {
        let columns = Self {
            ids: input.take()?,
            item_ids: input.take()?,
            starts: input.take()?,
            ends: input.take()?,
            prices: input.take()?,
        };
        let lens = [
            columns.item_ids.len(),
            columns.starts.len(),
            columns.ends.len(),
            columns.prices.len(),
        ];
        if lens.iter().any(|&len| len != columns.ids.len()) {
            return Err("the offers' columns differ in length".into());
        }
        Ok(columns)
    }

    /// Fills the offer maps of `index`, whose items are already in place.
    fn build(self, index: &mut Index, rules: RuleColumns) -> Result<(), String> {
        let n = self.ids.len();
        let mut entries = Vec::with_capacity(n);
        index.price_of.reserve(n);
        // Each item's list of offers allocated once, at its size.
        let mut per_item: FxHashMap<u64, usize> = FxHashMap::default();
        per_item.reserve(index.items.len());
        for item_id in &self.item_ids {
            *per_item.entry(*item_id).or_default() += 1;
        }
        index.by_item.reserve(per_item.len());
        let mut visible = 0;
        for i in 0..n {
            let rules = rules.rules(i, &mut visible)?;
            let (offer_id, item_id) = (self.ids[i], self.item_ids[i]);
            let item = index
                .items
                .get(&item_id)
                .ok_or("an offer's item is not in the snapshot")?;
            let open = OpenOffer {
                offer_id,
                item_id,
                start_ns: self.starts[i],
                end_ns: self.ends[i],
                price_per_hour: self.prices[i],
                cores: item.cores,
                memory_mb: item.memory_mb,
                storage_gb: item.storage_gb,
                gpus: item.gpus,
                sku: item.sku.clone(),
                resource_class: item.resource_class.clone(),
                rules,
            };
            if index
                .price_of
                .insert(offer_id, open.price_per_hour)
                .is_some()
            {
                return Err("an offer is in the snapshot twice".into());
            }
            index
                .by_item
                .entry(item_id)
                .or_insert_with(|| Vec::with_capacity(per_item.get(&item_id).copied().unwrap_or(1)))
                .push(offer_id);
            entries.push(((open.price_per_hour, offer_id), open));
        }
        // Saved in key order, so this is one pass (the sort finds the run) and a bulk build.
        index.by_price = entries.into_iter().collect();
        Ok(())
    }
}

/// The terms' columns: each open offer's, in the offers' column order.
struct RuleColumns {
    min_ns: Vec<u64>,
    step_ns: Vec<u64>,
    /// How many of `visible` each offer takes, in order (0: public).
    counts: Vec<u32>,
    visible: Vec<Principal>,
}

impl RuleColumns {
    fn read<M: Memory>(
        input: &mut Reader<M>,
        principals: Principals,
        offers: usize,
    ) -> Result<Self, String> {
        if principals == Principals::Absent {
            return Ok(Self {
                min_ns: vec![0; offers],
                step_ns: vec![0; offers],
                counts: vec![0; offers],
                visible: vec![],
            });
        }
        let min_ns: Vec<u64> = input.take()?;
        let step_ns: Vec<u64> = input.take()?;
        let counts: Vec<u32> = input.take()?;
        let visible = Strings::read(input)?
            .slices()?
            .into_iter()
            .map(|bytes| match principals {
                Principals::Text => std::str::from_utf8(bytes)
                    .ok()
                    .and_then(|text| Principal::from_text(text).ok())
                    .ok_or("a principal that does not parse"),
                _ => Principal::try_from_slice(bytes).map_err(|_| "a principal too long"),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if [min_ns.len(), step_ns.len(), counts.len()]
            .iter()
            .any(|&len| len != offers)
        {
            return Err("the terms' columns differ in length".into());
        }
        Ok(Self {
            min_ns,
            step_ns,
            counts,
            visible,
        })
    }

    /// Offer `i`'s terms; `visible` is where the principals of offer `i` start.
    fn rules(&self, i: usize, visible: &mut usize) -> Result<Rules, String> {
        let count = self.counts[i] as usize;
        let visible_to = if count == 0 {
            None
        } else {
            let list = self
                .visible
                .get(*visible..*visible + count)
                .ok_or("fewer principals than counted")?;
            *visible += count;
            Some(list.to_vec())
        };
        Ok(Rules::new(self.min_ns[i], self.step_ns[i], visible_to))
    }
}

#[cfg(test)]
mod tests;
