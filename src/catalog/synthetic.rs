//! Seeded synthetic catalogs for tests and benchmarks. The same seed always gives the same
//! providers, keys and rows, so a benchmark figure or a failing test can be reproduced; the mix
//! (locations, CPUs, GPUs, units, prices) resembles real hosting catalogs, so indexes and filters
//! are exercised with realistic selectivity.
//!
//! Providers are generated one at a time, so a million offerings never sit in memory at once.

mod amounts;
mod profile;
mod rng;
mod spec;
mod tables;

use crate::catalog::csv_format::write_catalog;
use profile::Profile;
use rng::Rng;

/// One provider: its Ed25519 secret key (any 32 bytes are a valid key) and its catalog file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntheticProvider {
    pub secret_key: [u8; 32],
    pub csv: Vec<u8>,
}

/// Providers `0..providers` of the catalog `seed`, each with `per_provider` offerings.
pub fn providers(
    seed: u64,
    providers: u32,
    per_provider: u32,
) -> impl Iterator<Item = SyntheticProvider> {
    (0..providers).map(move |index| provider(seed, index, per_provider))
}

/// Provider `index` of the catalog `seed`: the same whichever others are generated.
pub fn provider(seed: u64, index: u32, per_provider: u32) -> SyntheticProvider {
    let mut rng = Rng::for_provider(seed, index);
    let mut secret_key = [0; 32];
    for chunk in secret_key.chunks_exact_mut(8) {
        chunk.copy_from_slice(&rng.next().to_le_bytes());
    }
    let profile = Profile::new(&mut rng, index);
    let mut csv = write_catalog([]);
    for number in 0..per_provider {
        csv.extend(profile.offering(&mut rng, number).to_csv_row());
    }
    SyntheticProvider { secret_key, csv }
}

#[cfg(test)]
mod tests;
