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

/// The snapshot's format; a snapshot of another one is not loaded (the index is rebuilt).
/// Format 2 is format 1 followed by the open offers' terms (`rules`); a format 1 snapshot
/// (from before offers had terms) still loads, every offer with the default terms.
const VERSION: u32 = 2;
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
    fn push(&mut self, text: &str) {
        self.bytes.extend_from_slice(text.as_bytes());
        self.ends.push(self.bytes.len() as u64);
    }

    fn read<M: Memory>(input: &mut Reader<M>) -> Result<Vec<String>, String> {
        let bytes: Vec<u8> = input.take()?;
        let ends: Vec<u64> = input.take()?;
        let mut start = 0;
        ends.iter()
            .map(|&end| {
                let text = usize::try_from(end)
                    .ok()
                    .filter(|&end| start <= end && end <= bytes.len())
                    .and_then(|end| String::from_utf8(bytes[start..end].to_vec()).ok())
                    .ok_or("a string of the snapshot is out of bounds or not UTF-8")?;
                start = end as usize;
                Ok(text)
            })
            .collect()
    }
}

impl Index {
    /// Writes the snapshot; returns its size in bytes.
    pub(super) fn save<M: Memory>(&self, memory: &M) -> Result<u64, String> {
        let (mut ids, mut statuses, mut cores, mut gpus) = (vec![], vec![], vec![], vec![]);
        let (mut memory_mb, mut storage_gb) = (vec![], vec![]);
        let (mut skus, mut classes) = (Strings::default(), Strings::default());
        for (id, item) in &self.items {
            ids.push(*id);
            statuses.push(status_code(item.status));
            cores.push(item.cores);
            gpus.push(item.gpus);
            memory_mb.push(item.memory_mb);
            storage_gb.push(item.storage_gb);
            skus.push(&item.sku);
            classes.push(&item.resource_class);
        }
        let offers = self.by_price.values();
        let columns = |f: fn(&OpenOffer) -> u64| offers.clone().map(f).collect::<Vec<u64>>();
        snapshot::save(memory, VERSION, |out| {
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
            out.put(&columns(|o| o.offer_id));
            out.put(&columns(|o| o.item_id));
            out.put(&columns(|o| o.start_ns));
            out.put(&columns(|o| o.end_ns));
            out.put(&columns(|o| o.price_per_hour));
            let bookings = self.calendar.iter();
            out.put(&bookings.clone().map(|(k, _)| k.0).collect::<Vec<u64>>());
            out.put(&bookings.clone().map(|(k, _)| k.1).collect::<Vec<u64>>());
            out.put(&bookings.clone().map(|(_, v)| v.0).collect::<Vec<u64>>());
            out.put(&bookings.map(|(_, v)| v.1).collect::<Vec<u64>>());
            // Format 2: the terms, in the offers' column order; a public offer has count 0.
            out.put(&columns(|o| o.rules.min_ns));
            out.put(&columns(|o| o.rules.step_ns));
            let mut visible = Strings::default();
            let counts: Vec<u32> = offers
                .clone()
                .map(|o| {
                    let list = o.rules.visible_to.as_deref().unwrap_or_default();
                    list.iter().for_each(|p| visible.push(&p.to_text()));
                    list.len() as u32
                })
                .collect();
            out.put(&counts);
            out.put(&visible.bytes);
            out.put(&visible.ends);
        })
    }

    /// Reads the snapshot [`Index::save`] wrote, checking its shape: columns of one length,
    /// known statuses, every offer's item present.
    pub(super) fn load<M: Memory>(memory: &M) -> Result<Index, String> {
        snapshot::load(memory, VERSION, |input| {
            let (mut index, offer_ids) = Self::read(input)?;
            read_rules(input, &mut index, &offer_ids)?;
            Ok(index)
        })
        .or_else(|error| {
            snapshot::load(memory, VERSION_WITHOUT_TERMS, |input| {
                Ok(Self::read(input)?.0)
            })
            .map_err(|_| error)
        })
    }

    /// The columns both formats share; also the offers' ids in column order.
    fn read<M: Memory>(input: &mut Reader<M>) -> Result<(Index, Vec<u64>), String> {
        {
            let ids: Vec<u64> = input.take()?;
            let statuses: Vec<u8> = input.take()?;
            let cores: Vec<u32> = input.take()?;
            let gpus: Vec<u32> = input.take()?;
            let memory_mb: Vec<u64> = input.take()?;
            let storage_gb: Vec<u64> = input.take()?;
            let skus = Strings::read(input)?;
            let classes = Strings::read(input)?;
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
            let mut skus = skus.into_iter();
            let mut classes = classes.into_iter();
            for (i, &id) in ids.iter().enumerate() {
                let status = *STATUSES
                    .get(usize::from(statuses[i]))
                    .ok_or("an unknown item status")?;
                let summary = ItemSummary {
                    sku: skus.next().unwrap_or_default(),
                    status,
                    cores: cores[i],
                    memory_mb: memory_mb[i],
                    storage_gb: storage_gb[i],
                    gpus: gpus[i],
                    resource_class: classes.next().unwrap_or_default(),
                };
                index.note_summary(id, summary);
            }
            let offer_ids: Vec<u64> = input.take()?;
            let item_ids: Vec<u64> = input.take()?;
            let starts: Vec<u64> = input.take()?;
            let ends: Vec<u64> = input.take()?;
            let prices: Vec<u64> = input.take()?;
            let offer_columns = [item_ids.len(), starts.len(), ends.len(), prices.len()];
            if offer_columns.iter().any(|&len| len != offer_ids.len()) {
                return Err("the offers' columns differ in length".into());
            }
            for (i, &offer_id) in offer_ids.iter().enumerate() {
                let item = index
                    .items
                    .get(&item_ids[i])
                    .ok_or("an offer's item is not in the snapshot")?;
                let open = OpenOffer {
                    offer_id,
                    item_id: item_ids[i],
                    start_ns: starts[i],
                    end_ns: ends[i],
                    price_per_hour: prices[i],
                    cores: item.cores,
                    memory_mb: item.memory_mb,
                    storage_gb: item.storage_gb,
                    gpus: item.gpus,
                    sku: item.sku.clone(),
                    resource_class: item.resource_class.clone(),
                    rules: Rules::default(),
                };
                index.insert(open);
            }
            let booked_items: Vec<u64> = input.take()?;
            let booked_starts: Vec<u64> = input.take()?;
            let booked_ends: Vec<u64> = input.take()?;
            let holders: Vec<u64> = input.take()?;
            let booking_columns = [booked_starts.len(), booked_ends.len(), holders.len()];
            if booking_columns.iter().any(|&len| len != booked_items.len()) {
                return Err("the bookings' columns differ in length".into());
            }
            index.calendar = (0..booked_items.len())
                .map(|i| {
                    let key = (booked_items[i], booked_starts[i]);
                    (key, (booked_ends[i], holders[i]))
                })
                .collect();
            Ok((index, offer_ids))
        }
    }
}

/// Format 2's columns: each open offer's terms, in `offer_ids`' order.
fn read_rules<M: Memory>(
    input: &mut Reader<M>,
    index: &mut Index,
    offer_ids: &[u64],
) -> Result<(), String> {
    let min_ns: Vec<u64> = input.take()?;
    let step_ns: Vec<u64> = input.take()?;
    let counts: Vec<u32> = input.take()?;
    let visible = Strings::read(input)?;
    if [min_ns.len(), step_ns.len(), counts.len()]
        .iter()
        .any(|&len| len != offer_ids.len())
    {
        return Err("the terms' columns differ in length".into());
    }
    let mut visible = visible.into_iter();
    for (i, offer_id) in offer_ids.iter().enumerate() {
        let list = (counts[i] > 0)
            .then(|| {
                (0..counts[i])
                    .map(|_| {
                        let text = visible.next().ok_or("fewer principals than counted")?;
                        Principal::from_text(text).map_err(|_| "a principal that does not parse")
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let price = *index.price_of.get(offer_id).ok_or("an offer not indexed")?;
        let open = index
            .by_price
            .get_mut(&(price, *offer_id))
            .ok_or("an offer not indexed")?;
        open.rules = Rules {
            min_ns: min_ns[i],
            step_ns: step_ns[i],
            visible_to: list,
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests;
