//! Offerings for the index, search and encode tests: the fixture's rows, edited copies of its
//! first row, and synthetic catalogs, all through the real parser and `normalize`.

use crate::catalog::csv_format::parse_catalog;
use crate::catalog::offering::{normalize, values, Column, Normalized, Offering, Values};
use crate::catalog::synthetic;

use super::Index;

pub const FIXTURE: &[u8] =
    include_bytes!("../../../tests/fixtures/serverhunter-offering-example.csv");

/// An offering with everything search needs about it.
#[derive(Clone, Debug)]
pub struct Sample {
    pub offering: Offering,
    pub normalized: Normalized,
}

impl Sample {
    pub fn new(offering: Offering) -> Self {
        let normalized = normalize(&offering).expect("a valid test offering");
        Self {
            offering,
            normalized,
        }
    }

    pub fn key(&self) -> &str {
        self.offering.key()
    }

    pub fn values(&self) -> Values {
        values(&self.offering).expect("a valid test offering")
    }

    pub fn row(&self) -> Vec<u8> {
        self.offering.to_csv_row()
    }

    /// Adds this offering to `index` as offering `id` of `provider`.
    pub fn insert_into(&self, index: &mut Index, id: u64, provider: u32) {
        index.insert(id, provider, &self.offering, &self.values());
    }
}

/// The fixture's four offerings (the third is invisible).
pub fn fixture() -> Vec<Sample> {
    parse_catalog(FIXTURE)
        .expect("the fixture parses")
        .into_iter()
        .map(|(offering, _)| Sample::new(offering))
        .collect()
}

/// The fixture's first offering with `cells` changed.
pub fn edited(cells: &[(Column, &str)]) -> Sample {
    let mut offering = fixture().swap_remove(0).offering;
    for (column, value) in cells {
        offering.cells[column.index()] = value.to_string();
    }
    Sample::new(offering)
}

/// The offerings of the synthetic catalog `seed`, by provider number.
pub fn synthetic(seed: u64, providers: u32, per_provider: u32) -> Vec<Vec<Sample>> {
    synthetic::providers(seed, providers, per_provider)
        .map(|provider| {
            let rows = parse_catalog(&provider.csv).expect("synthetic catalogs parse");
            rows.into_iter()
                .map(|(offering, normalized)| Sample {
                    offering,
                    normalized,
                })
                .collect()
        })
        .collect()
}

/// An index of `samples`: provider `p`'s offerings get ids `p * 1_000_000 + n`.
pub fn index_of(samples: &[Vec<Sample>]) -> Index {
    let mut index = Index::default();
    for (provider, offerings) in samples.iter().enumerate() {
        for (n, sample) in offerings.iter().enumerate() {
            let id = provider as u64 * 1_000_000 + n as u64;
            sample.insert_into(&mut index, id, provider as u32);
        }
    }
    index
}

impl Index {
    /// Bytes the index holds on the heap (vector capacities; map nodes estimated).
    pub fn heap_bytes(&self) -> usize {
        fn vec<T>(v: &Vec<T>) -> usize {
            v.capacity() * size_of::<T>()
        }
        let dicts = [&self.terms, &self.gpus]
            .iter()
            .map(|d| vec(&d.bytes) + vec(&d.ends) + vec(&d.table))
            .sum::<usize>();
        let p = &self.postings;
        let postings = vec(&p.pool) + vec(&p.heads) + vec(&p.tails) + vec(&p.lens);
        // A BTreeMap entry is about its key and value plus a third for the nodes.
        let providers = self
            .by_provider
            .values()
            .map(|l| vec(l) + 48)
            .sum::<usize>();
        self.columns.heap_bytes()
            + vec(&self.keys)
            + dicts
            + postings
            + providers
            + vec(&self.ids)
            + vec(&self.id_slots)
    }
}
