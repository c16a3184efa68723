use super::testing::*;
use super::*;
use crate::catalog::changes::{ChangesArg, ChangesPage};
use crate::catalog::offering::{Column, Offering};
use crate::config::InitArg;
use crate::runtime::FakeRuntime;

fn replace_with(
    rt: &FakeRuntime,
    seq: u64,
    offerings: &[(&str, &str)],
) -> Result<Receipt, CatalogError> {
    replace(
        rt,
        publish_arg(Operation::ReplaceCatalog, seq, csv(offerings)),
    )
}

fn upsert_with(
    rt: &FakeRuntime,
    seq: u64,
    offerings: &[(&str, &str)],
) -> Result<Receipt, CatalogError> {
    upsert(
        rt,
        publish_arg(Operation::UpsertOfferings, seq, csv(offerings)),
    )
}

fn remove_keys(rt: &FakeRuntime, seq: u64, keys: &[&str]) -> Result<Receipt, CatalogError> {
    let keys: Vec<String> = keys.iter().map(|key| key.to_string()).collect();
    let payload = signing::remove_offerings_payload(&keys);
    remove_offerings(
        rt,
        RemoveOfferingsArg {
            provider: key_input(&SECRET),
            seq,
            signature: signature(&SECRET, Operation::RemoveOfferings, seq, &payload),
            keys,
        },
    )
}

fn remove_all(rt: &FakeRuntime, seq: u64) -> Result<Receipt, CatalogError> {
    remove_provider(
        rt,
        RemoveProviderArg {
            provider: key_input(&SECRET),
            seq,
            signature: signature(&SECRET, Operation::RemoveProvider, seq, b""),
        },
    )
}

/// The provider's offerings as (key, id, price cell), sorted by key.
fn catalog() -> Vec<(String, u64, String)> {
    let Some(record) = store::provider(&signing::provider_of(&SECRET)) else {
        return vec![];
    };
    let mut offerings: Vec<_> = index::provider_offerings(record.id)
        .into_iter()
        .map(|(key, id)| {
            let row = store::row(id).expect("indexed offerings are stored");
            let offering = Offering::from_csv_row(&row).unwrap();
            assert_eq!(offering.key(), key);
            (key, id, offering.cell(Column::MonthlyPrice).to_string())
        })
        .collect();
    offerings.sort();
    offerings
}

/// Everything a refused change must leave as it was.
#[derive(Debug, PartialEq)]
struct State {
    provider: Option<ProviderRecord>,
    catalog: Vec<(String, u64, String)>,
    feed: ChangesPage,
    offerings: u64,
}

fn state() -> State {
    State {
        provider: store::provider(&signing::provider_of(&SECRET)),
        catalog: catalog(),
        feed: changes::page(&ChangesArg {
            since: 0,
            limit: Some(1_000),
        })
        .unwrap(),
        offerings: store::offering_count(),
    }
}

fn keys_and_prices(catalog: &[(String, u64, String)]) -> Vec<(&str, &str)> {
    catalog
        .iter()
        .map(|(k, _, p)| (k.as_str(), p.as_str()))
        .collect()
}

#[test]
fn first_replace_creates_the_provider_and_records_every_offering() {
    let rt = FakeRuntime::new();
    let receipt = replace_with(&rt, 1, &[("a", "10.00"), ("b", "20.00")]).unwrap();
    let provider = signing::provider_of(&SECRET);
    assert_eq!(
        receipt,
        Receipt {
            provider_pem: provider.to_pem(),
            seq: 1,
            offerings: 2,
            upserted: 2,
            unchanged: 0,
            removed: 0,
            change_seq: 2,
        }
    );
    let record = store::provider(&provider).unwrap();
    let rows =
        offering("a", "10.00", "A server.").len() + offering("b", "20.00", "A server.").len();
    assert_eq!(
        (
            record.seq,
            record.offerings,
            record.csv_bytes,
            record.updated_at_ns
        ),
        (1, 2, rows as u64, rt.time())
    );
    assert_eq!(store::provider_key(record.id), Some(provider));
    assert_eq!(
        keys_and_prices(&catalog()),
        [("a", "10.00"), ("b", "20.00")]
    );
    let feed = changes::page(&ChangesArg {
        since: 0,
        limit: None,
    })
    .unwrap();
    let keys: Vec<_> = feed
        .changes
        .iter()
        .map(|c| (c.offering_key.as_str(), c.kind))
        .collect();
    assert_eq!(keys, [("a", ChangeKind::Upsert), ("b", ChangeKind::Upsert)]);
}

#[test]
fn replace_keeps_ids_of_kept_keys_and_removes_the_rest() {
    let rt = FakeRuntime::new();
    replace_with(&rt, 1, &[("a", "10.00"), ("b", "20.00"), ("c", "30.00")]).unwrap();
    let before = catalog();
    let receipt = replace_with(&rt, 2, &[("a", "10.00"), ("b", "25.00"), ("d", "40.00")]).unwrap();
    assert_eq!(
        (
            receipt.offerings,
            receipt.upserted,
            receipt.unchanged,
            receipt.removed
        ),
        (3, 2, 1, 1)
    );
    let after = catalog();
    assert_eq!(
        keys_and_prices(&after),
        [("a", "10.00"), ("b", "25.00"), ("d", "40.00")]
    );
    // Unchanged and changed offerings keep their ids; a new one gets a new id.
    assert_eq!((after[0].1, after[1].1), (before[0].1, before[1].1));
    assert!(after[2].1 > before[2].1);
    assert_eq!(store::row(before[2].1), None);
    assert_eq!(store::offering_count(), 3);
    let feed = changes::page(&ChangesArg {
        since: 3,
        limit: None,
    })
    .unwrap();
    let kinds: Vec<_> = feed
        .changes
        .iter()
        .map(|c| (c.offering_key.as_str(), c.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("c", ChangeKind::Remove),
            ("b", ChangeKind::Upsert),
            ("d", ChangeKind::Upsert)
        ]
    );
    assert_eq!(receipt.change_seq, 6);
}

#[test]
fn upsert_adds_and_changes_without_removing() {
    let rt = FakeRuntime::new();
    upsert_with(&rt, 1, &[("a", "10.00"), ("b", "20.00")]).unwrap();
    let receipt = upsert_with(&rt, 2, &[("b", "21.00"), ("c", "30.00")]).unwrap();
    assert_eq!(
        (receipt.offerings, receipt.upserted, receipt.removed),
        (3, 2, 0)
    );
    assert_eq!(
        keys_and_prices(&catalog()),
        [("a", "10.00"), ("b", "21.00"), ("c", "30.00")]
    );
    let expected: usize = [("a", "10.00"), ("b", "21.00"), ("c", "30.00")]
        .iter()
        .map(|(k, p)| offering(k, p, "A server.").len())
        .sum();
    let record = store::provider(&signing::provider_of(&SECRET)).unwrap();
    assert_eq!(record.csv_bytes, expected as u64);
    // A header without offerings is not an upsert.
    let err = upsert(&rt, publish_arg(Operation::UpsertOfferings, 3, header())).unwrap_err();
    assert!(matches!(err, CatalogError::InvalidCsv { .. }), "{err:?}");
}

#[test]
fn remove_offerings_by_key() {
    let rt = FakeRuntime::new();
    assert_eq!(
        remove_keys(&rt, 1, &["a"]),
        Err(CatalogError::UnknownProvider)
    );
    replace_with(&rt, 1, &[("a", "10.00"), ("b", "20.00"), ("c", "30.00")]).unwrap();
    let receipt = remove_keys(&rt, 2, &["c", "a"]).unwrap();
    assert_eq!(
        (receipt.offerings, receipt.removed, receipt.upserted),
        (1, 2, 0)
    );
    assert_eq!(keys_and_prices(&catalog()), [("b", "20.00")]);
    let record = store::provider(&signing::provider_of(&SECRET)).unwrap();
    assert_eq!(
        record.csv_bytes,
        offering("b", "20.00", "A server.").len() as u64
    );

    let before = state();
    assert_eq!(
        remove_keys(&rt, 3, &["b", "zz"]),
        Err(CatalogError::UnknownOffering { key: "zz".into() })
    );
    for keys in [&[][..], &["b", "b"], &["b\n"]] {
        let err = remove_keys(&rt, 3, keys).unwrap_err();
        assert!(
            matches!(err, CatalogError::InvalidArgument { .. }),
            "{keys:?}: {err:?}"
        );
    }
    assert_eq!(state(), before);
}

#[test]
fn remove_provider_removes_everything_but_keeps_the_sequence() {
    let rt = FakeRuntime::new();
    assert_eq!(remove_all(&rt, 1), Err(CatalogError::UnknownProvider));
    let old_replace = publish_arg(
        Operation::ReplaceCatalog,
        1,
        csv(&[("a", "1.00"), ("b", "2.00")]),
    );
    replace(&rt, old_replace.clone()).unwrap();
    let receipt = remove_all(&rt, 2).unwrap();
    assert_eq!(
        (receipt.offerings, receipt.removed, receipt.change_seq),
        (0, 2, 4)
    );
    assert!(catalog().is_empty());
    assert_eq!(store::offering_count(), 0);
    let record = store::provider(&signing::provider_of(&SECRET)).unwrap();
    assert_eq!((record.seq, record.offerings, record.csv_bytes), (2, 0, 0));
    // The old signed catalog cannot come back.
    assert_eq!(
        replace(&rt, old_replace),
        Err(CatalogError::StaleSequence { last: 2 })
    );
    replace_with(&rt, 3, &[("a", "1.00")]).unwrap();
    assert_eq!(keys_and_prices(&catalog()), [("a", "1.00")]);
}

#[test]
fn sequence_numbers_must_increase() {
    let rt = FakeRuntime::new();
    assert_eq!(
        replace_with(&rt, 0, &[("a", "1.00")]),
        Err(CatalogError::StaleSequence { last: 0 })
    );
    let arg = publish_arg(Operation::ReplaceCatalog, 5, csv(&[("a", "1.00")]));
    replace(&rt, arg.clone()).unwrap();
    let before = state();
    assert_eq!(
        replace(&rt, arg),
        Err(CatalogError::StaleSequence { last: 5 })
    );
    assert_eq!(
        upsert_with(&rt, 4, &[("b", "1.00")]),
        Err(CatalogError::StaleSequence { last: 5 })
    );
    assert_eq!(
        remove_keys(&rt, 5, &["a"]),
        Err(CatalogError::StaleSequence { last: 5 })
    );
    assert_eq!(
        remove_all(&rt, 1),
        Err(CatalogError::StaleSequence { last: 5 })
    );
    assert_eq!(state(), before);
    // Gaps are fine.
    assert!(upsert_with(&rt, 100, &[("b", "1.00")]).is_ok());
}

#[test]
fn signatures_must_be_the_providers_over_this_change() {
    let rt = FakeRuntime::new();
    replace_with(&rt, 1, &[("a", "1.00")]).unwrap();
    let before = state();
    let mut arg = publish_arg(Operation::ReplaceCatalog, 2, csv(&[("b", "1.00")]));
    // Another payload, another operation, another key's signature, a flipped bit.
    let mut other_csv = arg.clone();
    other_csv.csv = ByteBuf::from(csv(&[("c", "1.00")]));
    assert_eq!(replace(&rt, other_csv), Err(CatalogError::InvalidSignature));
    assert_eq!(
        upsert(&rt, arg.clone()),
        Err(CatalogError::InvalidSignature)
    );
    let mut by_other = arg.clone();
    by_other.signature = signature(&[8; 32], Operation::ReplaceCatalog, 2, &arg.csv);
    assert_eq!(replace(&rt, by_other), Err(CatalogError::InvalidSignature));
    arg.signature[10] ^= 1;
    assert_eq!(
        replace(&rt, arg.clone()),
        Err(CatalogError::InvalidSignature)
    );
    arg.provider = ProviderKeyInput::Raw(ByteBuf::from(vec![1; 31]));
    assert!(matches!(
        replace(&rt, arg),
        Err(CatalogError::InvalidKey { .. })
    ));
    assert_eq!(state(), before);
}

#[test]
fn a_catalog_with_one_bad_row_changes_nothing() {
    let rt = FakeRuntime::new();
    replace_with(&rt, 1, &[("a", "1.00"), ("b", "2.00")]).unwrap();
    let before = state();
    let bad = [
        csv(&[("a", "5.00"), ("c", "3.00")]),
        offering("d", "not a price", "x"),
    ]
    .concat();
    let Err(CatalogError::InvalidCsv { errors }) =
        replace(&rt, publish_arg(Operation::ReplaceCatalog, 2, bad))
    else {
        panic!("a bad row must refuse the catalog");
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].row, errors[0].column.as_deref()),
        (4, Some("Monthly price"))
    );
    let duplicate = csv(&[("a", "5.00"), ("a", "6.00")]);
    let err = upsert(&rt, publish_arg(Operation::UpsertOfferings, 2, duplicate)).unwrap_err();
    assert!(matches!(err, CatalogError::InvalidCsv { .. }), "{err:?}");
    assert_eq!(state(), before);
}

#[test]
fn caps_on_offerings_and_bytes() {
    let rt = FakeRuntime::new();
    let caps = |offerings, bytes| {
        config::apply(InitArg {
            max_offerings_per_provider: offerings,
            max_catalog_bytes: bytes,
            ..InitArg::default()
        })
        .unwrap()
    };
    caps(Some(2), None);
    replace_with(&rt, 1, &[("a", "1.00"), ("b", "2.00")]).unwrap();
    let before = state();
    let too_many = Err(CatalogError::TooManyOfferings { max: 2 });
    assert_eq!(
        replace_with(&rt, 2, &[("a", "1"), ("b", "2"), ("c", "3")]),
        too_many
    );
    assert_eq!(upsert_with(&rt, 2, &[("c", "3.00")]), too_many);
    assert_eq!(state(), before);

    // b's row is longer than the header, so a payload exactly at the cap that grows a
    // goes over it once b's stored row is counted.
    let b = offering("b", "2.00", &"b".repeat(300));
    let long_a = offering("a", "1.00", &"a".repeat(500));
    let upsert_a = csv_format::write_catalog([long_a.as_slice()]);
    replace(
        &rt,
        publish_arg(
            Operation::ReplaceCatalog,
            2,
            csv_format::write_catalog([b.as_slice()]),
        ),
    )
    .unwrap();
    let max_bytes = upsert_a.len() as u64;
    caps(None, Some(max_bytes));
    let before = state();
    let too_large = Err(CatalogError::CatalogTooLarge { max_bytes });
    assert_eq!(
        upsert(
            &rt,
            publish_arg(Operation::UpsertOfferings, 3, upsert_a.clone())
        ),
        too_large
    );
    let over = [upsert_a.as_slice(), b"\n"].concat();
    assert_eq!(
        upsert(&rt, publish_arg(Operation::UpsertOfferings, 3, over)),
        too_large
    );
    assert_eq!(state(), before);
    // A replace counts only what it keeps.
    let receipt = replace(&rt, publish_arg(Operation::ReplaceCatalog, 3, upsert_a)).unwrap();
    assert_eq!((receipt.offerings, receipt.removed), (1, 1));
}

#[test]
fn a_sequence_number_far_ahead_is_refused_and_changes_nothing() {
    let rt = FakeRuntime::new();
    let clock = rt.time() / crate::time::SECOND_NS;
    let bound = clock + signing::MAX_SEQ_LEAD;
    for seq in [u64::MAX, bound + 1] {
        assert!(matches!(
            replace_with(&rt, seq, &[("a", "10")]),
            Err(CatalogError::InvalidArgument { .. })
        ));
    }
    assert_eq!(catalog(), vec![]);
    // Unix seconds as `mkt` sends them, up to a day ahead, are accepted.
    replace_with(&rt, clock, &[("a", "10")]).unwrap();
    upsert_with(&rt, bound, &[("b", "20")]).unwrap();
    assert!(matches!(
        upsert_with(&rt, u64::MAX, &[("c", "30")]),
        Err(CatalogError::InvalidArgument { .. })
    ));
    assert_eq!(catalog().len(), 2);
}

/// A replace by the provider of `secret`.
fn replace_as(rt: &FakeRuntime, secret: &[u8; 32], offerings: &[(&str, &str)]) -> CatalogResult {
    let csv = csv(offerings);
    replace(
        rt,
        PublishArg {
            provider: key_input(secret),
            seq: 1,
            signature: signature(secret, Operation::ReplaceCatalog, 1, &csv),
            csv: ByteBuf::from(csv),
        },
    )
}

type CatalogResult = Result<Receipt, CatalogError>;

#[test]
fn global_caps_on_providers_and_offerings_refuse_growth_and_allow_shrinking() {
    let rt = FakeRuntime::new();
    config::apply(InitArg {
        max_providers: Some(2),
        max_offerings: Some(3),
        ..InitArg::default()
    })
    .unwrap();
    replace_with(&rt, 1, &[("a", "1.00"), ("b", "2.00")]).unwrap();
    // A second provider fits one more offering, not two.
    let full = Err(CatalogError::CapacityReached {
        what: "offerings".into(),
        max: 3,
    });
    let before = state();
    assert_eq!(replace_as(&rt, &[2; 32], &[("x", "1"), ("y", "2")]), full);
    assert_eq!(state(), before);
    replace_as(&rt, &[2; 32], &[("x", "1.00")]).unwrap();
    // A third provider is refused even with room for offerings: trim first.
    replace_with(&rt, 2, &[("a", "1.00")]).unwrap();
    let before = state();
    assert_eq!(
        replace_as(&rt, &[3; 32], &[("z", "1")]),
        Err(CatalogError::CapacityReached {
            what: "providers".into(),
            max: 2,
        })
    );
    assert_eq!(state(), before);
    // b fits again (3 in all), c does not; at the cap, a replace that shrinks passes.
    upsert_with(&rt, 3, &[("b", "2.00")]).unwrap();
    assert_eq!(upsert_with(&rt, 4, &[("c", "3.00")]), full);
    replace_with(&rt, 4, &[("c", "3.00")]).unwrap();
}
