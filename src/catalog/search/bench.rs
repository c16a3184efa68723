//! Native timings at the benchmark's scale (100 000 offerings: 1 000 providers × 100), run on
//! demand: `cargo test --release -p marketplace --lib bench -- --ignored --nocapture`.

use super::eval::search;
use super::query::{check, Filters, PriceFilter, SearchQuery};
use crate::catalog::csv_format::parse_catalog;
use crate::catalog::encode::{self, Item};
use crate::catalog::index::Index;
use crate::catalog::offering::values;
use crate::catalog::synthetic;
use ic_stable_structures::VectorMemory;
use std::time::{Duration, Instant};

/// The index of 100 000 synthetic offerings, their rows, and the time the inserts took.
fn index_100k() -> (Index, Vec<Vec<u8>>, Duration) {
    let mut parsed = vec![];
    for (p, provider) in synthetic::providers(1, 1000, 100).enumerate() {
        for (offering, _) in parse_catalog(&provider.csv).unwrap() {
            let values = values(&offering).unwrap();
            parsed.push((p as u32, offering, values));
        }
    }
    let mut index = Index::default();
    let start = Instant::now();
    for (id, (provider, offering, values)) in parsed.iter().enumerate() {
        index.insert(id as u64, *provider, offering, values);
    }
    let inserts = start.elapsed();
    let rows = parsed
        .iter()
        .map(|(_, offering, ..)| offering.to_csv_row())
        .collect();
    (index, rows, inserts)
}

/// The median time of `f` over `runs` runs.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn price(currency: &str, max: u64) -> Option<PriceFilter> {
    Some(PriceFilter {
        currency: currency.into(),
        min_minor: None,
        max_minor: Some(max),
    })
}

#[test]
#[ignore = "benchmark"]
fn native_pages_at_100k_offerings() {
    let (index, rows, built) = index_100k();
    let compound = SearchQuery {
        text: Some("xeon".into()),
        filters: Some(Filters {
            price: price("EUR", 20_000),
            country: Some("DE".into()),
            min_memory_mb: Some(16 * 1024),
            ..Filters::default()
        }),
        ..SearchQuery::default()
    };
    let filter = SearchQuery {
        filters: Some(Filters {
            price: price("USD", 10_000),
            country: Some("US".into()),
            ..Filters::default()
        }),
        ..SearchQuery::default()
    };
    for (name, request) in [("compound", compound), ("price + country", filter)] {
        let (query, page) = check(&request).unwrap();
        let matches = search(&index, &query, None, page.limit);
        let time = median(51, || {
            search(&index, &query, None, page.limit);
        });
        let items = || {
            matches.slots.iter().map(|&slot| {
                let at = slot as usize;
                let row = rows[index.columns.id[at] as usize].clone();
                Some(Item {
                    provider: index.columns.provider[at],
                    row,
                    indexed: index.columns.row(slot),
                })
            })
        };
        let encode = median(21, || {
            encode::records(items(), |p| Some(format!("pem {p}")), encode::REPLY_BUDGET);
        });
        println!(
            "{name}: {} rows (more: {}), search {time:?}, records encoding {encode:?}",
            matches.slots.len(),
            matches.more
        );
    }
    let memory = VectorMemory::default();
    let start = Instant::now();
    let bytes = index.save(&memory).unwrap() as usize;
    let saved = start.elapsed();
    let start = Instant::now();
    assert!(Index::load(&memory).unwrap() == index);
    let loaded = start.elapsed();
    let n = rows.len();
    println!(
        "{n} offerings inserted in {built:?}; heap {} B/offering; snapshot {} B/offering, saved in {saved:?}, loaded in {loaded:?}",
        index.heap_bytes() / n,
        bytes / n,
    );
}
