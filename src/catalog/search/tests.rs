//! The read endpoints over catalogs published through `publish`, as the canister serves them.

use super::query::{Filters, PriceFilter, MAX_LIMIT, MAX_TERMS, MAX_TEXT_BYTES};
use super::*;
use crate::catalog::csv_format::parse_catalog;
use crate::catalog::encode::JsonCatalog;
use crate::catalog::index::testing::FIXTURE;
use crate::catalog::publish::testing::{key_input, signature};
use crate::catalog::publish::{self, PublishArg};
use crate::catalog::signing::{provider_of, Operation};
use crate::catalog::synthetic;
use crate::runtime::FakeRuntime;
use serde_bytes::ByteBuf;

const SECRET: [u8; 32] = [9; 32];

fn publish(secret: &[u8; 32], csv: &[u8]) {
    let seq = store::provider(&provider_of(secret)).map_or(1, |record| record.seq + 1);
    let arg = PublishArg {
        provider: key_input(secret),
        seq,
        signature: signature(secret, Operation::ReplaceCatalog, seq, csv),
        csv: ByteBuf::from(csv.to_vec()),
    };
    publish::replace(&FakeRuntime::new(), arg).expect("published");
}

/// Publishes synthetic catalog 21: `providers` providers of `per_provider` offerings.
fn publish_synthetic(providers: u32, per_provider: u32) -> Vec<[u8; 32]> {
    synthetic::providers(21, providers, per_provider)
        .map(|provider| {
            publish(&provider.secret_key, &provider.csv);
            provider.secret_key
        })
        .collect()
}

fn pem_of(secret: &[u8; 32]) -> String {
    provider_of(secret).to_pem()
}

fn get(provider: ProviderKeyInput, key: &str) -> Result<OfferingRecords, SearchError> {
    offering_get(&OfferingGetArg {
        provider,
        key: key.into(),
    })
}

#[test]
fn offering_get_finds_by_raw_or_pem_key_invisible_included() {
    publish(&SECRET, FIXTURE);
    let found = get(key_input(&SECRET), "QC1494").unwrap();
    assert_eq!(found.providers, [pem_of(&SECRET)]);
    assert_eq!(found.offerings[0].key, "QC1494");
    assert_eq!(found.offerings[0].price_minor, 14999);
    let by_pem = get(ProviderKeyInput::Pem(pem_of(&SECRET)), "QC1494").unwrap();
    assert_eq!(by_pem, found);
    let invisible = get(key_input(&SECRET), "2XQC9381").unwrap();
    assert!(!invisible.offerings[0].visible);
}

#[test]
fn offering_get_refuses_bad_and_unknown_keys() {
    publish(&SECRET, FIXTURE);
    assert_eq!(
        get(key_input(&SECRET), "nope"),
        Err(SearchError::UnknownOffering)
    );
    assert_eq!(
        get(key_input(&[1; 32]), "QC1494"),
        Err(SearchError::UnknownProvider)
    );
    let short = ProviderKeyInput::Raw(ByteBuf::from(vec![1; 31]));
    assert!(matches!(
        get(short, "QC1494"),
        Err(SearchError::InvalidKey { .. })
    ));
    let bad_pem = ProviderKeyInput::Pem("-----BEGIN PUBLIC KEY-----\n".into());
    assert!(matches!(
        get(bad_pem, "QC1494"),
        Err(SearchError::InvalidKey { .. })
    ));
    let long = "k".repeat(129);
    assert!(matches!(
        get(key_input(&SECRET), &long),
        Err(SearchError::InvalidArgument { .. })
    ));
}

fn keys_of(offerings: &Offerings) -> Vec<String> {
    let rows_of = |csv: &str| -> Vec<String> {
        let parsed = parse_catalog(csv.as_bytes()).unwrap();
        parsed
            .into_iter()
            .map(|(o, _)| o.key().to_string())
            .collect()
    };
    match offerings {
        Offerings::Records(r) => r.offerings.iter().map(|v| v.key.clone()).collect(),
        Offerings::PemCsv(catalogs) => catalogs.iter().flat_map(|c| rows_of(&c.csv)).collect(),
        Offerings::Json(text) => {
            let catalogs: Vec<JsonCatalog> = serde_json::from_str(text).unwrap();
            catalogs
                .iter()
                .flat_map(|c| rows_of(&c.server_offerings_csv))
                .collect()
        }
    }
}

#[test]
fn provider_offerings_walks_visible_offerings_in_key_order() {
    publish(&SECRET, FIXTURE);
    publish(&[1; 32], FIXTURE);
    for format in [Format::Records, Format::PemCsv, Format::Json] {
        let mut arg = ProviderOfferingsArg {
            provider: key_input(&SECRET),
            cursor: None,
            limit: Some(2),
            format: Some(format),
        };
        let first = provider_offerings(&arg).unwrap();
        assert_eq!(keys_of(&first.offerings), ["4XQC3719", "DC2993"]);
        arg.cursor = first.next_cursor;
        let second = provider_offerings(&arg).unwrap();
        assert_eq!(keys_of(&second.offerings), ["QC1494"]);
        assert_eq!(second.next_cursor, None);
        // A cursor is the provider's own.
        arg.provider = key_input(&[1; 32]);
        assert_eq!(provider_offerings(&arg), Err(SearchError::InvalidCursor));
    }
}

fn search_page(request: &SearchQuery, budget: usize) -> Result<SearchPage, SearchError> {
    search_within(request, budget)
}

/// Every page of `request`, following cursors.
fn search_walk(request: &SearchQuery, budget: usize) -> (Vec<String>, usize) {
    let mut request = request.clone();
    let mut keys = vec![];
    let mut pages = 0;
    loop {
        let page = search_page(&request, budget).unwrap();
        assert_eq!(search_page(&request, budget).unwrap(), page, "repeatable");
        keys.extend(keys_of(&page.offerings));
        pages += 1;
        match page.next_cursor {
            Some(cursor) => request.cursor = Some(cursor),
            None => return (keys, pages),
        }
    }
}

#[test]
fn search_pages_cut_by_size_lose_no_row_in_any_format() {
    publish_synthetic(3, 40);
    let request = SearchQuery {
        text: Some("server".into()),
        filters: Some(Filters {
            price: Some(PriceFilter {
                currency: "USD".into(),
                min_minor: None,
                max_minor: Some(50_000),
            }),
            ..Filters::default()
        }),
        limit: Some(5),
        ..SearchQuery::default()
    };
    let (all, pages) = search_walk(&request, REPLY_BUDGET);
    assert!(all.len() > 10, "{}", all.len());
    assert_eq!(pages, all.len().div_ceil(5));
    for format in [Format::Records, Format::PemCsv, Format::Json] {
        let request = SearchQuery {
            format: Some(format),
            ..request.clone()
        };
        let (mut keys, pages) = search_walk(&request, 1);
        assert_eq!(pages, all.len(), "one row a page");
        if format == Format::Records {
            assert_eq!(keys, all);
        }
        let mut sorted = all.clone();
        sorted.sort();
        keys.sort();
        assert_eq!(keys, sorted, "{format:?}");
    }
}

#[test]
fn search_records_give_each_provider_pem_once() {
    let secrets = publish_synthetic(3, 30);
    let page = offerings_search(&SearchQuery {
        limit: Some(60),
        ..SearchQuery::default()
    })
    .unwrap();
    let Offerings::Records(records) = page.offerings else {
        panic!("records by default");
    };
    assert_eq!(records.offerings.len(), 60);
    assert!(page.next_cursor.is_some());
    let mut pems = records.providers.clone();
    pems.sort();
    let mut expected: Vec<String> = secrets.iter().map(pem_of).collect();
    expected.sort();
    assert_eq!(pems, expected);
    let prices: Vec<u64> = records.offerings.iter().map(|v| v.price_minor).collect();
    assert!(prices.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn bad_requests_are_typed_errors() {
    publish(&SECRET, FIXTURE);
    let search = |request: SearchQuery| offerings_search(&request).map(|_| ());
    let text = |text: String| SearchQuery {
        text: Some(text),
        ..SearchQuery::default()
    };
    let limit = |limit| SearchQuery {
        limit: Some(limit),
        ..SearchQuery::default()
    };
    let filters = |f| SearchQuery {
        filters: Some(f),
        ..SearchQuery::default()
    };
    let too_long = SearchError::QueryTooLong {
        max_bytes: MAX_TEXT_BYTES as u32,
    };
    assert_eq!(
        search(text("x".repeat(MAX_TEXT_BYTES + 1))),
        Err(too_long.clone())
    );
    let words: Vec<String> = (0..=MAX_TERMS).map(|n| format!("w{n}")).collect();
    let too_many = SearchError::TooManyTerms {
        max: MAX_TERMS as u32,
    };
    assert_eq!(search(text(words.join(" "))), Err(too_many));
    assert_eq!(search(text(words[..MAX_TERMS].join(" "))), Ok(()));
    let too_large = SearchError::PageSizeTooLarge { max: MAX_LIMIT };
    assert_eq!(search(limit(MAX_LIMIT + 1)), Err(too_large));
    assert!(matches!(
        search(limit(0)),
        Err(SearchError::InvalidArgument { .. })
    ));
    let city = Filters {
        city: Some("x".repeat(300)),
        ..Filters::default()
    };
    assert_eq!(search(filters(city)), Err(too_long));
    for bad in [
        Filters {
            country: Some("NLD".into()),
            ..Filters::default()
        },
        Filters {
            price: Some(PriceFilter {
                currency: "€".into(),
                min_minor: None,
                max_minor: None,
            }),
            ..Filters::default()
        },
        Filters {
            price: Some(PriceFilter {
                currency: "EUR".into(),
                min_minor: Some(2),
                max_minor: Some(1),
            }),
            ..Filters::default()
        },
    ] {
        assert!(matches!(
            search(filters(bad)),
            Err(SearchError::InvalidArgument { .. })
        ));
    }
    let with_cursor = |cursor: &str, text: &str| SearchQuery {
        text: Some(text.into()),
        cursor: Some(cursor.into()),
        limit: Some(1),
        ..SearchQuery::default()
    };
    assert_eq!(
        search(with_cursor("garbage", "xeon")),
        Err(SearchError::InvalidCursor)
    );
    let first = offerings_search(&SearchQuery {
        limit: Some(1),
        ..text("xeon".into())
    })
    .unwrap();
    let cursor = first.next_cursor.unwrap();
    assert_eq!(search(with_cursor(&cursor, "xeon")), Ok(()));
    assert_eq!(
        search(with_cursor(&cursor, "intel")),
        Err(SearchError::InvalidCursor)
    );
    let browse = ProviderOfferingsArg {
        provider: key_input(&SECRET),
        cursor: None,
        limit: Some(MAX_LIMIT + 1),
        format: None,
    };
    assert_eq!(
        provider_offerings(&browse),
        Err(SearchError::PageSizeTooLarge { max: MAX_LIMIT })
    );
}

fn export(secret: &[u8; 32], cursor: Option<String>, budget: usize) -> CatalogExport {
    let arg = CatalogExportArg {
        provider: key_input(secret),
        cursor,
    };
    export_within(&arg, budget).unwrap()
}

#[test]
fn export_gives_the_whole_catalog_as_published_in_pages() {
    publish(&SECRET, FIXTURE);
    let whole = export(&SECRET, None, REPLY_BUDGET);
    assert_eq!(whole.provider_pem, pem_of(&SECRET));
    assert_eq!(whole.next_cursor, None);
    // Every fixture row comes back byte for byte, the invisible one included, in key order.
    let lines: Vec<&str> = std::str::from_utf8(FIXTURE).unwrap().lines().collect();
    let exported: Vec<&str> = whole.csv.lines().collect();
    assert_eq!(exported[0], lines[0]);
    let mut rows = lines[1..].to_vec();
    rows.sort_by_key(|line| line.split(',').nth(2).unwrap().to_string());
    assert_eq!(exported[1..], rows[..]);
    // One row a page with a tiny budget, each page a CSV file of its own.
    let mut cursor = None;
    let mut paged = vec![];
    loop {
        let page = export(&SECRET, cursor, 1);
        let page_lines: Vec<String> = page.csv.lines().map(String::from).collect();
        assert_eq!(page_lines[0], lines[0]);
        paged.extend(page_lines[1..].to_vec());
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(paged, rows);
    let arg = CatalogExportArg {
        provider: key_input(&[3; 32]),
        cursor: None,
    };
    assert_eq!(
        provider_catalog_export(&arg),
        Err(SearchError::UnknownProvider)
    );
}

#[test]
fn a_provider_without_offerings_exports_a_header() {
    publish(&SECRET, FIXTURE);
    let seq = 2;
    let arg = publish::RemoveProviderArg {
        provider: key_input(&SECRET),
        seq,
        signature: signature(&SECRET, Operation::RemoveProvider, seq, b""),
    };
    publish::remove_provider(&FakeRuntime::new(), arg).unwrap();
    let empty = export(&SECRET, None, REPLY_BUDGET);
    assert_eq!(empty.csv.as_bytes(), write_catalog([]));
    assert_eq!(
        get(key_input(&SECRET), "QC1494"),
        Err(SearchError::UnknownOffering)
    );
}

#[test]
fn answers_survive_a_snapshot_round_trip() {
    publish_synthetic(4, 50);
    let requests = [
        SearchQuery::default(),
        SearchQuery {
            text: Some("amd".into()),
            limit: Some(200),
            ..SearchQuery::default()
        },
        SearchQuery {
            filters: Some(Filters {
                country: Some("US".into()),
                ..Filters::default()
            }),
            sort: Some(query::SortOrder::PriceDesc),
            format: Some(Format::Json),
            ..SearchQuery::default()
        },
    ];
    let answers = || -> Vec<_> { requests.iter().map(offerings_search).collect() };
    let before = answers();
    index::save().unwrap();
    // The index in use diverges, then the snapshot replaces it.
    index::remove_provider(0);
    assert_ne!(answers(), before);
    index::load().unwrap();
    assert_eq!(answers(), before);
}
