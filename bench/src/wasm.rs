//! Figures of the canister's wasm on the ic0 host: instructions (wasmi fuel) per message and
//! stable memory, deterministic for a given wasm and catalog.

use crate::report::{human, Report};
use crate::{Scale, SEED};
use candid::Principal;
use ic0_host::Host;
use marketplace::api::InitArg;
use marketplace::catalog::provider::ProviderKeyInput;
use marketplace::catalog::publish::{CatalogError, Receipt};
use marketplace::catalog::search::{OfferingGetArg, SearchError, SearchPage};
use marketplace::catalog::signing;
use marketplace::catalog::synthetic;
use serde_bytes::ByteBuf;

const WASM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../target/wasm/marketplace.wasm.gz"
);

fn user() -> Principal {
    Principal::self_authenticating(b"bench user")
}

/// The canister with `scale`'s catalog imported, and the instructions the imports took.
pub fn loaded(scale: Scale) -> (Host, Vec<u8>, u64, usize) {
    let wasm =
        std::fs::read(WASM).unwrap_or_else(|e| panic!("{WASM}: {e}; run scripts/build.sh first"));
    let mut host = Host::new();
    host.install(&wasm, &candid::encode_one(None::<InitArg>).unwrap())
        .expect("install");
    let stable_before = host.stable_memory().len();
    let mut instructions = 0;
    let bar = crate::progress::bar(
        u64::from(scale.providers),
        &format!(
            "wasm: importing {} offerings",
            human(scale.offerings() as f64)
        ),
    );
    for (i, provider) in synthetic::providers(SEED, scale.providers, scale.per_provider).enumerate()
    {
        let arg = crate::signed_replace(&provider, host.canister_id(), 1);
        // Each provider delivers its own catalog, as in real use: one principal sending every
        // provider's would meet the per-caller rate limit.
        let publisher = Principal::self_authenticating(format!("bench publisher {i}"));
        let reply = host
            .update(
                publisher,
                "catalog_replace",
                &candid::encode_one(arg).unwrap(),
            )
            .expect("catalog_replace runs");
        let receipt: Result<Receipt, CatalogError> = candid::decode_one(&reply).unwrap();
        receipt.expect("a synthetic catalog imports");
        instructions += host.last_instructions();
        bar.inc(1);
    }
    bar.finish_and_clear();
    (host, wasm, instructions, stable_before)
}

fn query<A: candid::CandidType>(host: &mut Host, method: &str, arg: &A) -> (Vec<u8>, u64) {
    let reply = host
        .query(user(), method, &candid::encode_one(arg).unwrap())
        .unwrap_or_else(|r| panic!("{method}: {r}"));
    (reply, host.last_instructions())
}

fn search(host: &mut Host) -> (usize, u64) {
    let (reply, instructions) = query(host, "offerings_search", &crate::compound_query());
    let page: Result<SearchPage, SearchError> = candid::decode_one(&reply).unwrap();
    (
        crate::rows(&page.expect("the compound query is valid")),
        instructions,
    )
}

pub fn run(scale: Scale, report: &mut Report) {
    let offerings = scale.offerings();
    let (mut host, wasm, import, stable_before) = loaded(scale);
    let size = human(offerings as f64);
    report.at_most(
        format!("wasm instructions per imported offering [{size}]"),
        (import / offerings) as f64,
        300_000.0,
        "",
    );

    let (rows, instructions) = search(&mut host);
    report.at_most(
        format!("wasm instructions, compound query page [{size}, {rows} rows]"),
        instructions as f64,
        10_000_000.0,
        "",
    );

    let first = synthetic::provider(SEED, 0, scale.per_provider);
    let key = signing::provider_of(&first.secret_key);
    let offering_key = String::from_utf8_lossy(&first.csv)
        .lines()
        .nth(1)
        .and_then(|row| row.split(',').nth(2))
        .unwrap_or_default()
        .to_string();
    let arg = OfferingGetArg {
        provider: ProviderKeyInput::Raw(ByteBuf::from(key.as_bytes().to_vec())),
        key: offering_key,
    };
    let (_, lookup) = query(&mut host, "offering_get", &arg);
    report.at_most(
        "wasm instructions, direct lookup",
        lookup as f64,
        150_000.0,
        "",
    );

    let per_offering = (host.stable_memory().len() - stable_before) as f64 / offerings as f64;
    report.at_most(
        format!("stable memory per offering, indexes included [{size}]"),
        per_offering,
        1536.0,
        "bytes",
    );

    host.upgrade(&wasm, &candid::encode_one(None::<InitArg>).unwrap())
        .expect("upgrade");
    report.info(
        format!("wasm instructions, upgrade with {size} offerings"),
        human(host.last_instructions() as f64),
    );
    let (after, _) = search(&mut host);
    assert_eq!(after, rows, "the upgraded canister answers the same");
}

/// The rows measured at a million offerings: providers of 1 000 offerings, so the import takes
/// a thousand messages (the host copies the whole heap for every message's rollback snapshot).
pub fn run_million(report: &mut Report) {
    let scale = Scale {
        providers: 1_000,
        per_provider: 1_000,
    };
    let (mut host, wasm, _, _) = loaded(scale);
    let (rows, instructions) = search(&mut host);
    report.at_most(
        format!("wasm instructions, compound query page [1 M, {rows} rows]"),
        instructions as f64,
        15_000_000.0,
        "",
    );
    host.upgrade(&wasm, &candid::encode_one(None::<InitArg>).unwrap())
        .expect("upgrade");
    report.at_most(
        "wasm instructions, upgrade with 1 M offerings",
        host.last_instructions() as f64,
        1e9,
        "",
    );
}
