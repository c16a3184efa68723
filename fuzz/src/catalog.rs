//! A small catalog published natively, once per process, through the same `publish::replace`
//! the canister runs (signature, CSV import, store, index), and the words and values found in
//! it, so fuzzed queries hit offerings rather than nothing.

use marketplace::api::{ProviderKeyInput, PublishArg};
use marketplace::catalog::csv_format;
use marketplace::catalog::offering::{Normalized, Offering};
use marketplace::catalog::publish;
use marketplace::catalog::signing::{self, Operation};
use marketplace::catalog::synthetic;
use marketplace::catalog::text;
use marketplace::runtime::FakeRuntime;
use serde_bytes::ByteBuf;
use std::collections::BTreeSet;

/// The repository's example catalog (4 offerings, one of them invisible).
pub const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/serverhunter-offering-example.csv");
const FIXTURE_SECRET: [u8; 32] = [9; 32];
/// Synthetic providers beside the fixture, and offerings each: enough for several pages, few
/// enough that a query stays fast.
pub const SYNTHETIC_PROVIDERS: u32 = 2;
pub const SYNTHETIC_OFFERINGS: u32 = 30;
const SEED: u64 = 21;

/// What was published, and values to build queries from.
pub struct Published {
    /// Every offering published (visible or not) with its normalised values.
    pub offerings: Vec<(Offering, Normalized)>,
    pub words: Vec<String>,
    pub countries: Vec<String>,
    pub currencies: Vec<String>,
    pub cities: Vec<String>,
    pub operating_systems: Vec<String>,
    pub features: Vec<String>,
    pub gpu_names: Vec<String>,
    /// Provider keys as `ProviderKeyInput::Raw`.
    pub providers: Vec<ProviderKeyInput>,
}

thread_local! {
    static PUBLISHED: &'static Published = Box::leak(Box::new(publish_all()));
}

/// The catalog, published on first use (on this thread: the canister's state is thread-local,
/// and libFuzzer runs every input on one thread).
pub fn published() -> &'static Published {
    PUBLISHED.with(|p| *p)
}

fn publish_all() -> Published {
    let rt = FakeRuntime::new();
    let mut catalogs: Vec<([u8; 32], Vec<u8>)> = vec![(FIXTURE_SECRET, FIXTURE.to_vec())];
    catalogs.extend(
        synthetic::providers(SEED, SYNTHETIC_PROVIDERS, SYNTHETIC_OFFERINGS)
            .map(|p| (p.secret_key, p.csv)),
    );
    let mut offerings = Vec::new();
    let mut providers = Vec::new();
    for (secret, csv) in &catalogs {
        publish::replace(&rt, signed_replace(secret, csv)).expect("the fuzz catalog publishes");
        offerings.extend(csv_format::parse_catalog(csv).expect("the fuzz catalog parses"));
        let key = signing::provider_of(secret);
        providers.push(ProviderKeyInput::Raw(ByteBuf::from(
            key.as_bytes().to_vec(),
        )));
    }
    let mut words = BTreeSet::new();
    let (mut countries, mut currencies, mut cities) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let (mut oses, mut features, mut gpus) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for (offering, n) in &offerings {
        for cell in &offering.cells {
            words.extend(text::tokenize(cell));
        }
        countries.insert(String::from_utf8_lossy(&n.country).into_owned());
        currencies.insert(String::from_utf8_lossy(&n.currency).into_owned());
        cities.insert(n.city.clone());
        oses.extend(n.operating_systems.iter().cloned());
        features.extend(n.features.iter().cloned());
        gpus.extend(n.gpu_name.iter().cloned());
    }
    Published {
        offerings,
        words: words.into_iter().collect(),
        countries: countries.into_iter().collect(),
        currencies: currencies.into_iter().collect(),
        cities: cities.into_iter().collect(),
        operating_systems: oses.into_iter().collect(),
        features: features.into_iter().collect(),
        gpu_names: gpus.into_iter().collect(),
        providers,
    }
}

/// A `catalog_replace` of `csv` signed for [`FakeRuntime::CANISTER_ID`], sequence 1.
pub fn signed_replace(secret: &[u8; 32], csv: &[u8]) -> PublishArg {
    let seq = 1;
    let hash = signing::payload_hash(csv);
    let signature = signing::sign(
        secret,
        &FakeRuntime::CANISTER_ID,
        Operation::ReplaceCatalog,
        seq,
        &hash,
    );
    let key = signing::provider_of(secret);
    PublishArg {
        provider: ProviderKeyInput::Raw(ByteBuf::from(key.as_bytes().to_vec())),
        seq,
        signature: ByteBuf::from(signature.to_vec()),
        csv: ByteBuf::from(csv.to_vec()),
    }
}
