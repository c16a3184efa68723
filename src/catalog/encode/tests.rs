use super::*;
use crate::catalog::csv_format::parse_catalog;
use crate::catalog::index::testing::{fixture, index_of, synthetic, Sample};
use crate::catalog::search::kinds::{ProductType, Stock};
use candid::encode_one;

fn pem(provider: u32) -> Option<String> {
    (provider < 100)
        .then(|| format!("-----BEGIN PUBLIC KEY-----\nKEY{provider}\n-----END PUBLIC KEY-----\n"))
}

/// The fixture's rows, alternating between providers 1 and 2.
fn items() -> Vec<Option<Item>> {
    let rows = fixture().iter().map(Sample::row).collect::<Vec<_>>();
    rows.into_iter()
        .enumerate()
        .map(|(n, row)| {
            Some(Item {
                provider: 1 + n as u32 % 2,
                row,
                indexed: None,
            })
        })
        .collect()
}

#[test]
fn records_give_typed_values_the_row_and_each_pem_once() {
    let Encoded { value, taken } = records(items(), pem, REPLY_BUDGET);
    assert_eq!(taken, 4);
    assert_eq!(value.providers, [pem(1).unwrap(), pem(2).unwrap()]);
    let providers: Vec<u32> = value.offerings.iter().map(|v| v.provider).collect();
    assert_eq!(providers, [0, 1, 0, 1]);
    let first = &value.offerings[0];
    assert_eq!(first.key, "DC2993");
    assert_eq!(first.name, "Intel Dual Core Dedicated Server");
    assert_eq!((first.price_minor, first.currency.as_str()), (9999, "EUR"));
    assert_eq!(
        (first.product_type, first.stock),
        (ProductType::Vps, Stock::InStock)
    );
    assert_eq!(
        (first.total_cores, first.cpu_mhz, first.memory_mb),
        (2, Some(2600), 8192)
    );
    assert_eq!(
        (first.ssd_gb, first.hdd_gb, first.gpu_name.as_deref()),
        (160, 0, None)
    );
    assert_eq!(
        (first.country.as_str(), first.city.as_str()),
        ("NL", "Rotterdam, Netherlands")
    );
    assert!(first.unmetered && first.visible);
    assert!(!value.offerings[2].visible);
    assert_eq!(first.csv_row.as_bytes(), fixture()[0].row());
}

#[test]
fn views_from_the_index_are_the_views_of_the_rows() {
    let mut samples = synthetic(9, 3, 40);
    samples.push(fixture());
    let index = index_of(&samples);
    for slot in 0..index.columns.slots() as u32 {
        let indexed = index.columns.row(slot).unwrap();
        let provider = indexed.provider as usize;
        let sample = &samples[provider][(indexed.id % 1_000_000) as usize];
        let row = sample.row();
        let view = OfferingView::of_row(5, &row);
        assert!(view.is_some());
        assert_eq!(
            OfferingView::of_indexed(5, &row, &indexed),
            view,
            "{}",
            sample.key()
        );
    }
}

#[test]
fn the_size_estimate_bounds_the_candid_encoding() {
    for sample in synthetic(7, 3, 30).iter().flatten() {
        let view = OfferingView::of_row(3, &sample.row()).unwrap();
        let encoded = encode_one(&view).unwrap().len();
        // The type table is sent once per reply, not per view.
        let table = encode_one(OfferingRecords::default()).unwrap().len();
        assert!(
            encoded - table <= view.encoded_size(),
            "{encoded} {}",
            view.encoded_size()
        );
    }
}

#[test]
fn catalogs_group_rows_by_provider_with_a_header_each() {
    let Encoded { value, taken } = catalogs(items(), pem, REPLY_BUDGET);
    assert_eq!(taken, 4);
    assert_eq!(value.len(), 2);
    assert_eq!(value[0].provider_pem, pem(1).unwrap());
    let rows = fixture();
    let expected = write_catalog([rows[0].row(), rows[2].row()].iter().map(Vec::as_slice));
    assert_eq!(value[0].csv.as_bytes(), expected);
    let parsed = parse_catalog(value[1].csv.as_bytes()).unwrap();
    let offerings: Vec<_> = parsed.into_iter().map(|(o, _)| o).collect();
    assert_eq!(
        offerings,
        [rows[1].offering.clone(), rows[3].offering.clone()]
    );
}

#[test]
fn json_is_the_compact_pem_and_csv_form() {
    let Encoded { value, taken } = json(items(), pem, REPLY_BUDGET);
    assert_eq!(taken, 4);
    let parsed: serde_json::Value = serde_json::from_str(&value).unwrap();
    let groups = parsed.as_array().unwrap();
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[1]["provider_pubkey_pem"], pem(2).unwrap());
    let csv = groups[0]["server_offerings_csv"].as_str().unwrap();
    assert_eq!(csv, catalogs(items(), pem, REPLY_BUDGET).value[0].csv);
    assert_eq!(groups[0].as_object().unwrap().len(), 2);
    assert!(!value.contains(": "), "compact");
}

#[test]
fn missing_rows_and_providers_are_skipped_but_counted() {
    let mut items = items();
    items.insert(1, None);
    items.push(Some(Item {
        provider: 500,
        row: fixture()[0].row(),
        indexed: None,
    }));
    for format in [Format::Records, Format::PemCsv, Format::Json] {
        let encoded = results(format, items.clone(), pem, REPLY_BUDGET);
        assert_eq!(encoded.taken, 6, "{format:?}");
    }
    let Encoded { value, .. } = records(items, pem, REPLY_BUDGET);
    assert_eq!(value.offerings.len(), 4);
    assert_eq!(value.providers.len(), 2);
}

/// Encodes `items` page by page within `budget`, as a client following cursors would.
fn pages(format: Format, items: &[Option<Item>], budget: usize) -> Vec<Encoded<Offerings>> {
    let mut pages = vec![];
    let mut start = 0;
    while start < items.len() {
        let page = results(format, items[start..].iter().cloned(), pem, budget);
        assert!(page.taken > 0, "every page makes progress");
        start += page.taken;
        pages.push(page);
    }
    pages
}

fn keys(offerings: &Offerings) -> Vec<String> {
    let rows_of = |csv: &str| {
        let parsed = parse_catalog(csv.as_bytes()).unwrap();
        parsed
            .into_iter()
            .map(|(o, _)| o.key().to_string())
            .collect::<Vec<_>>()
    };
    match offerings {
        Offerings::Records(records) => records.offerings.iter().map(|v| v.key.clone()).collect(),
        Offerings::PemCsv(catalogs) => catalogs.iter().flat_map(|c| rows_of(&c.csv)).collect(),
        Offerings::Json(text) => {
            let groups: Vec<JsonCatalog> = serde_json::from_str(text).unwrap();
            groups
                .iter()
                .flat_map(|c| rows_of(&c.server_offerings_csv))
                .collect()
        }
    }
}

#[test]
fn trimmed_replies_stay_within_budget_and_lose_no_row() {
    let samples = synthetic(8, 4, 25);
    let items: Vec<Option<Item>> = samples
        .iter()
        .enumerate()
        .flat_map(|(p, offerings)| offerings.iter().map(move |s| (p, s)))
        .map(|(p, s)| {
            Some(Item {
                provider: p as u32,
                row: s.row(),
                indexed: None,
            })
        })
        .collect();
    let mut all: Vec<String> = samples
        .iter()
        .flatten()
        .map(|s| s.key().to_string())
        .collect();
    all.sort();
    for format in [Format::Records, Format::PemCsv, Format::Json] {
        for budget in [1, 3_000, 20_000, REPLY_BUDGET] {
            let pages = pages(format, &items, budget);
            // The type table comes once with any reply, beside the budgeted payload.
            let table = encode_one(Offerings::Json(String::new())).unwrap().len();
            for page in &pages {
                let size = encode_one(&page.value).unwrap().len() - table;
                assert!(
                    page.taken == 1 || size <= budget,
                    "{format:?} {budget}: {size}"
                );
            }
            if budget == 1 {
                assert_eq!(pages.len(), items.len(), "one row a page");
            }
            let mut seen: Vec<String> = pages.iter().flat_map(|p| keys(&p.value)).collect();
            seen.sort();
            assert_eq!(seen, all, "{format:?} {budget}");
        }
    }
}

#[test]
fn json_lengths_match_serde_json() {
    for text in [
        "plain",
        "a \"quoted\" \\ cell\n",
        "tab\there\r\u{1}\u{1f}é€",
    ] {
        let serialized = serde_json::to_string(text).unwrap();
        assert_eq!(json_len(text.as_bytes()), serialized.len(), "{text}");
    }
}
