use super::*;

fn arg(interval: Option<u64>, len: Option<u32>) -> InitArg {
    InitArg {
        cycles_sample_interval_seconds: interval,
        cycles_history_len: len,
        ..InitArg::default()
    }
}

#[test]
fn merge_overrides_given_fields_and_keeps_absent_ones() {
    let base = Config::default();
    assert_eq!(base.merge(InitArg::default()), Ok(base));
    assert_eq!(
        base.merge(arg(Some(60), None)),
        Ok(Config {
            cycles_sample_interval_seconds: 60,
            ..base
        })
    );
    assert_eq!(
        base.merge(arg(None, Some(2))),
        Ok(Config {
            cycles_history_len: 2,
            ..base
        })
    );
}

#[test]
fn merge_rejects_values_out_of_range() {
    let base = Config::default();
    assert_eq!(
        base.merge(arg(Some(59), None)),
        Err(ConfigError::SampleInterval(59))
    );
    assert_eq!(
        base.merge(arg(Some(7 * 24 * 3600 + 1), None)),
        Err(ConfigError::SampleInterval(604_801))
    );
    assert_eq!(
        base.merge(arg(None, Some(1))),
        Err(ConfigError::HistoryLen(1))
    );
    assert_eq!(
        base.merge(arg(None, Some(10_001))),
        Err(ConfigError::HistoryLen(10_001))
    );
    assert!(base.merge(arg(Some(7 * 24 * 3600), Some(10_000))).is_ok());
    let caps = |offerings, bytes| InitArg {
        max_offerings_per_provider: offerings,
        max_catalog_bytes: bytes,
        ..InitArg::default()
    };
    assert_eq!(
        base.merge(caps(Some(0), None)),
        Err(ConfigError::MaxOfferings(0))
    );
    assert_eq!(
        base.merge(caps(None, Some(32 * 1024 * 1024 + 1))),
        Err(ConfigError::MaxCatalogBytes(32 * 1024 * 1024 + 1))
    );
    let merged = base.merge(caps(Some(5), Some(1_024))).unwrap();
    assert_eq!(
        (merged.max_offerings_per_provider, merged.max_catalog_bytes),
        (5, 1_024)
    );
    assert_eq!(
        ConfigError::HistoryLen(1).to_string(),
        "cycles_history_len must be in 2..=10000, got 1"
    );
}

#[test]
fn global_caps_merge_and_refuse_values_out_of_range() {
    let base = Config::default();
    let global = |providers, offerings, items, offers| InitArg {
        max_providers: providers,
        max_offerings: offerings,
        max_items: items,
        max_open_offers: offers,
        ..InitArg::default()
    };
    let merged = base.merge(global(Some(3), None, Some(4), None)).unwrap();
    assert_eq!(
        (merged.max_providers, merged.max_offerings, merged.max_items),
        (3, base.max_offerings, 4)
    );
    let refused = base.merge(global(None, None, None, Some(0))).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "max_open_offers must be in 1..=2000000, got 0"
    );
    let refused = base
        .merge(global(Some(1_000_001), None, None, None))
        .unwrap_err();
    assert_eq!(
        refused.to_string(),
        "max_providers must be in 1..=1000000, got 1000001"
    );
    assert!(base
        .merge(global(None, Some(2_000_001), None, None))
        .is_err());
    assert!(base.merge(global(None, None, Some(0), None)).is_err());
}

#[test]
fn apply_stores_only_valid_configs() {
    assert_eq!(get(), Config::default());
    assert!(apply(arg(Some(10), None)).is_err());
    assert_eq!(get(), Config::default());
    let stored = apply(arg(Some(120), Some(5))).unwrap();
    assert_eq!(get(), stored);
    assert_eq!(apply(InitArg::default()), Ok(stored));
}

#[test]
fn storable_round_trips_and_defaults_missing_fields() {
    let config = Config {
        cycles_sample_interval_seconds: 61,
        cycles_history_len: 3,
        max_offerings_per_provider: 4,
        max_catalog_bytes: 5,
        caller_calls_per_minute: 6,
        caller_call_burst: 7,
        max_providers: 8,
        max_offerings: 9,
        max_items: 10,
        max_open_offers: 11,
        change_feed_window: 12,
        ledger: Some(Principal::from_slice(&[1, 2, 3])),
    };
    assert_eq!(Config::from_bytes(config.to_bytes()), config);
    let free = Config {
        ledger: None,
        ..config
    };
    assert_eq!(Config::from_bytes(free.to_bytes()), free);
    // What the canister stored before payments existed.
    let mut before_ledger = config.to_bytes().into_owned();
    before_ledger.truncate(before_ledger.len() - 4);
    assert_eq!(Config::from_bytes(Cow::Owned(before_ledger)), free);
    // What the canister stored before the change feed's window existed.
    let mut before_window = free.to_bytes().into_owned();
    before_window.truncate(before_window.len() - 9);
    assert_eq!(
        Config::from_bytes(Cow::Owned(before_window)),
        Config {
            change_feed_window: Config::default().change_feed_window,
            ..free
        }
    );
    let old = Config::from_bytes(Cow::Owned(61u64.to_le_bytes().to_vec()));
    assert_eq!(old.cycles_history_len, Config::default().cycles_history_len);
    // What the canister stored before the catalog caps existed.
    let mut before_caps = 61u64.to_le_bytes().to_vec();
    before_caps.extend(3u32.to_le_bytes());
    let old = Config::from_bytes(Cow::Owned(before_caps));
    assert_eq!(
        old,
        Config {
            cycles_sample_interval_seconds: 61,
            cycles_history_len: 3,
            ..Config::default()
        }
    );
}

#[test]
fn a_ledger_is_kept_across_upgrades_until_switched_off() {
    let ledger = Principal::from_slice(&[7; 10]);
    let paid = Config::default()
        .merge(InitArg {
            ledger: Some(ledger),
            ..InitArg::default()
        })
        .unwrap();
    assert_eq!(paid.ledger, Some(ledger));
    assert_eq!(paid.merge(InitArg::default()).unwrap().ledger, Some(ledger));
    let off = InitArg {
        no_ledger: Some(true),
        ..InitArg::default()
    };
    assert_eq!(paid.merge(off).unwrap().ledger, None);
    let both = InitArg {
        ledger: Some(ledger),
        no_ledger: Some(true),
        ..InitArg::default()
    };
    assert_eq!(paid.merge(both), Err(ConfigError::Ledger));
}
