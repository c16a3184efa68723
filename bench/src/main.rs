//! Catalog benchmarks (issue 3's table) and market benchmarks: every figure printed beside its
//! target, never asserted. Wall times are native and vary with the machine; instruction counts
//! come from the ic0 host's fuel and are deterministic.
//!
//!   bench                     100 k offerings (1 000 providers × 100), market of 10 k items
//!   bench --offerings 5000    a smaller catalog (providers of 100 offerings) and a market of a
//!                             tenth as many items (500)
//!   bench --market-items N    the market's size (items; five offers each); 0 skips the market
//!   bench --million           also the 1 M rows (1 000 providers × 1 000; takes many minutes)
//!   bench --native | --wasm   only that half (the market is measured on the wasm only)

mod market;
mod native;
mod progress;
mod report;
mod wasm;

use candid::Principal;
use marketplace::catalog::encode::Offerings;
use marketplace::catalog::provider::ProviderKeyInput;
use marketplace::catalog::publish::PublishArg;
use marketplace::catalog::search::query::{Filters, PriceFilter, SearchQuery};
use marketplace::catalog::search::SearchPage;
use marketplace::catalog::signing::{self, Operation};
use marketplace::catalog::synthetic::SyntheticProvider;
use report::Report;
use serde_bytes::ByteBuf;

/// The catalog every measure runs on: synthetic providers of `per_provider` offerings.
#[derive(Clone, Copy)]
pub struct Scale {
    pub providers: u32,
    pub per_provider: u32,
}

impl Scale {
    pub fn offerings(self) -> u64 {
        u64::from(self.providers) * u64::from(self.per_provider)
    }
}

pub const SEED: u64 = 1;

fn main() {
    let mut offerings = 100_000u32;
    let mut market_items = None;
    let mut million = false;
    let (mut native, mut wasm) = (true, true);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--offerings" => {
                offerings = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--market-items" => {
                market_items = Some(
                    args.next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or_else(|| usage()),
                )
            }
            "--million" => million = true,
            "--native" => wasm = false,
            "--wasm" => native = false,
            _ => usage(),
        }
    }
    let scale = Scale {
        providers: (offerings / 100).max(1),
        per_provider: 100,
    };
    let mut report = Report::new();
    if native {
        native::run(scale, &mut report);
    }
    if wasm {
        wasm::run(scale, &mut report);
    }
    // A tenth of the offerings unless told: 10 k items in the full run, small in the smoke run.
    let market_items = market_items.unwrap_or(offerings / 10);
    if wasm && market_items > 0 {
        market::run(market_items, &mut report);
    }
    if million && wasm {
        wasm::run_million(&mut report);
    }
    report.print();
}

/// A whole-catalog replacement signed by the provider, as a client would send it.
pub fn signed_replace(provider: &SyntheticProvider, canister: Principal, seq: u64) -> PublishArg {
    let hash = signing::payload_hash(&provider.csv);
    let signature = signing::sign(
        &provider.secret_key,
        &canister,
        Operation::ReplaceCatalog,
        seq,
        &hash,
    );
    let key = signing::provider_of(&provider.secret_key);
    PublishArg {
        provider: ProviderKeyInput::Raw(ByteBuf::from(key.as_bytes().to_vec())),
        seq,
        signature: ByteBuf::from(signature.to_vec()),
        csv: ByteBuf::from(provider.csv.clone()),
    }
}

/// Text, price, country and memory together: the compound query.
pub fn compound_query() -> SearchQuery {
    SearchQuery {
        text: Some("xeon".into()),
        filters: Some(Filters {
            price: Some(PriceFilter {
                currency: "EUR".into(),
                min_minor: None,
                max_minor: Some(200_000),
            }),
            country: Some("DE".into()),
            min_memory_mb: Some(16_384),
            ..Filters::default()
        }),
        limit: Some(50),
        ..SearchQuery::default()
    }
}

/// Price and country only: every offering is a candidate, no text narrows them.
pub fn filter_query() -> SearchQuery {
    SearchQuery {
        filters: Some(Filters {
            price: Some(PriceFilter {
                currency: "USD".into(),
                min_minor: Some(10_000),
                max_minor: Some(100_000),
            }),
            country: Some("US".into()),
            ..Filters::default()
        }),
        limit: Some(50),
        ..SearchQuery::default()
    }
}

/// Rows on a page of records (the queries here ask for the default encoding, records).
pub fn rows(page: &SearchPage) -> usize {
    match &page.offerings {
        Offerings::Records(records) => records.offerings.len(),
        other => panic!("the bench asks for records, got {other:?}"),
    }
}

fn usage() -> ! {
    eprintln!("usage: bench [--offerings N] [--market-items N] [--million] [--native | --wasm]");
    std::process::exit(2)
}
