use super::*;
use crate::catalog::csv_format::parse_catalog;
use crate::catalog::offering::{Normalized, Offering, ProductType};
use std::collections::HashSet;

fn parsed(provider: &SyntheticProvider) -> Vec<(Offering, Normalized)> {
    parse_catalog(&provider.csv).unwrap_or_else(|errors| panic!("{errors:?}"))
}

#[test]
fn catalogs_parse_for_any_seed() {
    for seed in [0, 1, 42, u64::MAX] {
        for provider in providers(seed, 3, 200) {
            assert_eq!(parsed(&provider).len(), 200);
        }
    }
}

#[test]
fn generation_is_deterministic_per_seed_and_index() {
    let all: Vec<SyntheticProvider> = providers(7, 4, 50).collect();
    assert_eq!(all[2], provider(7, 2, 50));
    assert_eq!(all, providers(7, 4, 50).collect::<Vec<_>>());
    assert_ne!(all[0], provider(8, 0, 50));
    let keys: HashSet<[u8; 32]> = all.iter().map(|p| p.secret_key).collect();
    assert_eq!(keys.len(), all.len());
    assert_eq!(provider(7, 2, 0).csv, write_catalog([]));
}

#[test]
fn the_mix_is_realistic() {
    let offerings: Vec<Normalized> = providers(3, 200, 30)
        .flat_map(|p| parsed(&p))
        .map(|(_, n)| n)
        .collect();
    let share = |f: fn(&Normalized) -> bool| {
        offerings.iter().filter(|n| f(n)).count() * 100 / offerings.len()
    };
    assert!((10..=20).contains(&share(|n| n.gpu_name.is_some())));
    assert!((2..=8).contains(&share(|n| !n.visible)));
    assert!(share(|n| n.product_type == ProductType::Vps) > 20);
    assert!(share(|n| n.hdd_count > 0) > 5);
    let distinct =
        |f: fn(&Normalized) -> String| offerings.iter().map(f).collect::<HashSet<_>>().len();
    assert!(distinct(|n| String::from_utf8_lossy(&n.country).into()) >= 30);
    assert_eq!(distinct(|n| String::from_utf8_lossy(&n.currency).into()), 4);
    assert_eq!(distinct(|n| format!("{:?}", n.product_type)), 4);
    assert_eq!(distinct(|n| format!("{:?}", n.billing)), 5);
    assert!(distinct(|n| n.processor_name.clone().unwrap_or_default()) >= 20);
    for n in &offerings {
        assert!((300..=500_000).contains(&n.price_minor));
        assert!((1024..=1 << 20).contains(&n.memory_mb));
        assert!((1..=128).contains(&n.processor_cores));
    }
}
