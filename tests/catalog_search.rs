//! Searching catalogs through the wasm: direct lookup, provider browse, export, text search,
//! every structured filter, sorting, cursors, replies trimmed to fit, typed errors, upgrades and
//! the change feed. Catalogs are written row by row here, so every expected result is exact.

mod common;

use candid::{CandidType, Deserialize};
use common::*;
use marketplace::catalog::encode::{JsonCatalog, OfferingRecords, Offerings};
use marketplace::catalog::offering::{Offering, COLUMNS};
use marketplace::catalog::search::kinds::{BillingInterval, ProductType, Stock, Virtualization};
use marketplace::catalog::search::query::{
    Filters, Format, GpuFilter, PriceFilter, SearchQuery, SortOrder,
};
use marketplace::catalog::search::{
    CatalogExport, CatalogExportArg, OfferingGetArg, ProviderOfferingsArg, SearchError, SearchPage,
};
use marketplace::catalog::signing::{self, Operation};
use serde_bytes::ByteBuf;

// --- helpers ---

/// An offering's 35 cells: a plain dedicated server in Berlin unless changed with `set`.
#[derive(Clone)]
struct Row(Vec<String>);

impl Row {
    fn new(key: &str, price: &str) -> Self {
        let defaults = [
            ("Offer Name", format!("Server {key}")),
            ("Description", "A plain test server.".into()),
            ("Unique Internal identifier", key.into()),
            ("Product page URL", format!("https://example.com/{key}")),
            ("Currency", "EUR".into()),
            ("Monthly price", price.into()),
            ("Setup fee", "0".into()),
            ("Visibility", "Visible".into()),
            ("Product Type", "Dedicated".into()),
            ("Virtualization type", "None".into()),
            ("Billing interval", "Monthly".into()),
            ("Stock", "In stock".into()),
            ("Processor Brand", "AMD".into()),
            ("Processor Amount", "1".into()),
            ("Processor Cores", "4".into()),
            ("Processor Speed", "3.0 GHz".into()),
            ("Processor Name", "AMD EPYC 7302P".into()),
            ("Memory Error Correction", "ECC".into()),
            ("Memory Type", "DDR4".into()),
            ("Memory Amount", "32 GB".into()),
            ("Hard Disk Drive Amount", "0".into()),
            ("Total Hard Disk Drive Capacity", "0".into()),
            ("Solid State Disk Amount", "1".into()),
            ("Total Solid State Disk Capacity", "500 GB".into()),
            ("Unmetered", "".into()),
            ("Uplink speed", "1000 mbit".into()),
            ("Traffic", "10240".into()),
            ("Datacenter Country", "DE".into()),
            ("Datacenter City", "Berlin".into()),
            ("Datacenter Coordinates", "52.52,13.40".into()),
            ("Features", "Native IPv6".into()),
            ("Operating Systems", "Debian".into()),
            ("Control Panel", "".into()),
            ("GPU Name", "".into()),
            ("Payment Methods", "Credit card".into()),
        ];
        let mut row = Row(vec![String::new(); COLUMNS.len()]);
        for (column, value) in defaults {
            row = row.set(column, &value);
        }
        row
    }

    fn set(mut self, column: &str, value: &str) -> Self {
        let at = COLUMNS.iter().position(|c| *c == column).expect(column);
        self.0[at] = value.into();
        self
    }

    fn csv(&self) -> Vec<u8> {
        Offering::new(self.0.clone()).unwrap().to_csv_row()
    }
}

fn catalog(rows: &[Row]) -> Vec<u8> {
    let mut out = format!("{}\n", COLUMNS.join(",")).into_bytes();
    rows.iter().for_each(|r| out.extend(r.csv()));
    out
}

fn query<A: CandidType, R: for<'a> Deserialize<'a> + CandidType>(
    canister: &mut Canister,
    method: &str,
    arg: A,
) -> R {
    let bytes = canister
        .driver
        .query(user(), method, candid::encode_one(arg).unwrap())
        .unwrap_or_else(|r| panic!("{method} was rejected: {r}"));
    candid::decode_one(&bytes).unwrap_or_else(|e| panic!("{method} reply: {e}"))
}

fn search(canister: &mut Canister, q: &SearchQuery) -> Result<SearchPage, SearchError> {
    query(canister, "offerings_search", q.clone())
}

fn browse(canister: &mut Canister, arg: ProviderOfferingsArg) -> Result<SearchPage, SearchError> {
    query(canister, "provider_offerings", arg)
}

fn get(
    canister: &mut Canister,
    provider: ProviderKeyInput,
    key: &str,
) -> Result<OfferingRecords, SearchError> {
    let arg = OfferingGetArg {
        provider,
        key: key.into(),
    };
    query(canister, "offering_get", arg)
}

fn export(
    canister: &mut Canister,
    provider: ProviderKeyInput,
    cursor: Option<String>,
) -> Result<CatalogExport, SearchError> {
    query(
        canister,
        "provider_catalog_export",
        CatalogExportArg { provider, cursor },
    )
}

fn browse_arg(provider: &Provider, limit: u32) -> ProviderOfferingsArg {
    ProviderOfferingsArg {
        provider: provider.key(),
        cursor: None,
        limit: Some(limit),
        format: None,
    }
}

/// The offering keys of a `Records` page, in order.
fn keys(page: &SearchPage) -> Vec<String> {
    match &page.offerings {
        Offerings::Records(records) => records.offerings.iter().map(|o| o.key.clone()).collect(),
        other => panic!("not records: {other:?}"),
    }
}

/// Every match of a query, in one page of at most 200.
fn matching(canister: &mut Canister, q: SearchQuery) -> Vec<String> {
    let page = search(
        canister,
        &SearchQuery {
            limit: Some(200),
            ..q
        },
    )
    .unwrap();
    assert_eq!(page.next_cursor, None);
    keys(&page)
}

fn filtered(canister: &mut Canister, filters: Filters) -> Vec<String> {
    matching(
        canister,
        SearchQuery {
            filters: Some(filters),
            ..SearchQuery::default()
        },
    )
}

fn text(canister: &mut Canister, words: &str) -> Vec<String> {
    matching(
        canister,
        SearchQuery {
            text: Some(words.into()),
            ..SearchQuery::default()
        },
    )
}

/// Follows `next_cursor` from the first page to the last; every page's reply.
fn walk(canister: &mut Canister, q: &SearchQuery) -> Vec<SearchPage> {
    let mut pages = vec![];
    let mut cursor = None;
    loop {
        let page = search(
            canister,
            &SearchQuery {
                cursor,
                ..q.clone()
            },
        )
        .unwrap();
        cursor = page.next_cursor.clone();
        pages.push(page);
        if cursor.is_none() {
            return pages;
        }
        assert!(pages.len() < 1000, "the walk does not end");
    }
}

/// A query: the defaults with what `set` changes.
fn q(set: impl FnOnce(&mut SearchQuery)) -> SearchQuery {
    let mut query = SearchQuery::default();
    set(&mut query);
    query
}

fn strs(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

fn remove(canister: &mut Canister, provider: &mut Provider, keys: &[&str]) -> Receipt {
    provider.seq += 1;
    let keys = strs(keys);
    let payload = signing::remove_offerings_payload(&keys);
    let arg = RemoveOfferingsArg {
        provider: provider.key(),
        seq: provider.seq,
        signature: provider.sign(
            canister.id(),
            Operation::RemoveOfferings,
            provider.seq,
            &payload,
        ),
        keys,
    };
    let receipt: Result<Receipt, CatalogError> =
        canister.update(user(), "catalog_remove_offerings", (arg,));
    receipt.unwrap()
}

fn fixture_lines() -> Vec<String> {
    let text = std::str::from_utf8(FIXTURE).unwrap();
    text.split_inclusive('\n').map(String::from).collect()
}

/// The fixture, published by provider 1.
fn with_fixture() -> (Canister, Provider) {
    let mut canister = Canister::install(None);
    let mut provider = Provider::new(1);
    let receipt = canister.replace(&mut provider, FIXTURE).unwrap();
    assert_eq!(receipt.offerings, 4, "the fixture imports");
    (canister, provider)
}

/// Three providers (published in order A, B, C) with rows that each stand out in one way.
/// Prices in hundredths; b6 is invisible; c2 is priced in CHF.
struct Market {
    canister: Canister,
    a: Provider,
    b: Provider,
    c: Provider,
}

/// Every visible offering of [`market`] by price, then provider, then key.
const ALL_ASC: [&str; 15] = [
    "a1", "a2", "b4", "b5", "c1", "c2", "b1", "a3", "a4", "a5", "a6", "a7", "a8", "b2", "b3",
];

fn market() -> Market {
    let mut canister = Canister::install(None);
    let (mut a, mut b, mut c) = (Provider::new(11), Provider::new(12), Provider::new(13));
    let r = Row::new;
    let a_rows = [
        r("a1", "10.00"),
        r("a2", "20.00")
            .set("Datacenter Country", "NL")
            .set("Datacenter City", "Amsterdam, Netherlands"),
        r("a3", "30.00")
            .set("Currency", "USD")
            .set("Datacenter Country", "US")
            .set("Datacenter City", "New York"),
        r("a4", "40.00")
            .set("Product Type", "VPS")
            .set("Virtualization type", "KVM")
            .set("Billing interval", "Hourly"),
        r("a5", "50.00").set("Stock", "Out of stock"),
        r("a6", "60.00")
            .set("Processor Amount", "2")
            .set("Processor Cores", "16"),
        r("a7", "70.00").set("Memory Amount", "256 GB"),
        r("a8", "80.00")
            .set("Solid State Disk Amount", "2")
            .set("Total Solid State Disk Capacity", "3840 GB"),
    ];
    let b_rows = [
        r("b1", "25.00")
            .set("Hard Disk Drive Amount", "4")
            .set("Total Hard Disk Drive Capacity", "16 TB"),
        r("b2", "90.00").set("GPU Name", "NVIDIA RTX 4090"),
        r("b3", "100.00").set("Operating Systems", "Windows Server 2022, Ubuntu"),
        r("b4", "20.00").set("Features", "Native IPv6, DDoS protection"),
        r("b5", "20.00").set("Unmetered", "Unmetered inbound, Unmetered outbound"),
        r("b6", "20.00")
            .set("Visibility", "Invisible")
            .set("Stock", "Limited"),
    ];
    let c_rows = [
        r("c1", "20.00")
            .set("Product Type", "Cloud")
            .set("Virtualization type", "VMware")
            .set("Billing interval", "Yearly")
            .set("GPU Name", "AMD Instinct MI250")
            .set("Datacenter Country", "CH")
            .set("Datacenter City", "Zürich")
            .set("Description", "Hosted in Zürich."),
        r("c2", "20.00").set("Currency", "CHF"),
    ];
    canister.replace(&mut a, &catalog(&a_rows)).unwrap();
    canister.replace(&mut b, &catalog(&b_rows)).unwrap();
    canister.replace(&mut c, &catalog(&c_rows)).unwrap();
    Market { canister, a, b, c }
}

fn all_visible_except(except: &[&str]) -> Vec<String> {
    strs(&ALL_ASC)
        .into_iter()
        .filter(|k| !except.contains(&k.as_str()))
        .collect()
}

// --- the fixture: lookup, browse, export, formats ---

#[test]
fn offering_get_by_raw_key_and_by_pem_gives_the_typed_view_and_the_csv_row() {
    let (mut canister, provider) = with_fixture();
    let by_raw = get(&mut canister, provider.key(), "QC1494").unwrap();
    let by_pem = get(
        &mut canister,
        ProviderKeyInput::Pem(provider.pem()),
        "QC1494",
    )
    .unwrap();
    assert_eq!(by_raw, by_pem);
    assert_eq!(by_raw.providers, [provider.pem()]);
    assert_eq!(by_raw.offerings.len(), 1);
    let view = &by_raw.offerings[0];
    assert_eq!(view.provider, 0);
    assert_eq!(view.key, "QC1494");
    assert_eq!(view.name, "Intel Quad Core Dedicated Server");
    assert_eq!((view.price_minor, view.currency.as_str()), (14999, "EUR"));
    assert_eq!(view.memory_mb, 16384, "16 GB");
    assert_eq!(view.cpu_mhz, Some(2200), "2200 MHz");
    assert_eq!(view.total_cores, 4);
    assert_eq!((view.ssd_gb, view.hdd_gb), (240, 4));
    assert_eq!(view.product_type, ProductType::Dedicated);
    assert_eq!(view.virtualization, Virtualization::None);
    assert_eq!(view.billing, BillingInterval::Monthly);
    assert_eq!(view.stock, Stock::InStock);
    assert_eq!(view.gpu_name, None);
    assert_eq!(
        (view.country.as_str(), view.city.as_str()),
        ("NL", "Rotterdam, Netherlands")
    );
    assert!(view.unmetered && view.visible);
    assert_eq!(
        view.csv_row,
        fixture_lines()[2],
        "the row exactly as published"
    );

    let dc = get(&mut canister, provider.key(), "DC2993")
        .unwrap()
        .offerings[0]
        .clone();
    assert_eq!(
        (dc.memory_mb, dc.cpu_mhz),
        (8192, Some(2600)),
        "8192 MB, 2.6 GHz"
    );
    assert_eq!(
        (dc.product_type, dc.virtualization),
        (ProductType::Vps, Virtualization::Kvm)
    );
    let quad = get(&mut canister, provider.key(), "4XQC3719")
        .unwrap()
        .offerings[0]
        .clone();
    assert_eq!((quad.price_minor, quad.currency.as_str()), (24999, "USD"));
    assert_eq!((quad.total_cores, quad.memory_mb), (16, 131072));
    assert!(quad.csv_row.contains(",ECC Registered,"));
    assert_eq!(quad.csv_row, fixture_lines()[4]);
}

#[test]
fn an_invisible_offering_is_found_by_key_but_never_listed_or_searched() {
    let (mut canister, provider) = with_fixture();
    let hidden = get(&mut canister, provider.key(), "2XQC9381")
        .unwrap()
        .offerings[0]
        .clone();
    assert!(!hidden.visible);
    assert_eq!(
        (hidden.price_minor, hidden.currency.as_str()),
        (19999, "USD")
    );
    assert_eq!(
        (hidden.total_cores, hidden.memory_mb, hidden.cpu_mhz),
        (8, 32768, Some(3500))
    );
    assert!(hidden.csv_row.contains(",ECC Registered,"));
    assert_eq!(hidden.csv_row, fixture_lines()[3]);

    let listed = keys(&browse(&mut canister, browse_arg(&provider, 200)).unwrap());
    assert_eq!(listed, ["4XQC3719", "DC2993", "QC1494"]);
    assert!(
        text(&mut canister, "2XQC9381").is_empty(),
        "not even by its key"
    );
    assert_eq!(text(&mut canister, "windows"), ["4XQC3719"]);
    let usd = filtered(&mut canister, price("usd", None, None));
    assert_eq!(usd, ["4XQC3719"]);
}

#[test]
fn provider_offerings_browses_in_key_order_with_cursors() {
    let (mut canister, provider) = with_fixture();
    let mut seen = vec![];
    let mut arg = browse_arg(&provider, 1);
    loop {
        let page = browse(&mut canister, arg.clone()).unwrap();
        assert_eq!(keys(&page).len(), 1);
        seen.extend(keys(&page));
        assert_eq!(
            browse(&mut canister, arg.clone()).unwrap(),
            page,
            "same cursor, same page"
        );
        match page.next_cursor {
            Some(cursor) => arg.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, ["4XQC3719", "DC2993", "QC1494"]);

    let Market {
        mut canister, a, b, ..
    } = market();
    let mut arg = browse_arg(&a, 3);
    let first = browse(&mut canister, arg.clone()).unwrap();
    assert_eq!(keys(&first), ["a1", "a2", "a3"]);
    arg.cursor = first.next_cursor;
    let second = browse(&mut canister, arg.clone()).unwrap();
    assert_eq!(keys(&second), ["a4", "a5", "a6"]);
    arg.cursor = second.next_cursor;
    let last = browse(&mut canister, arg).unwrap();
    assert_eq!((keys(&last), last.next_cursor), (strs(&["a7", "a8"]), None));
    let b_page = browse(&mut canister, browse_arg(&b, 200)).unwrap();
    assert_eq!(
        keys(&b_page),
        ["b1", "b2", "b3", "b4", "b5"],
        "b6 is invisible"
    );
}

#[test]
fn provider_catalog_export_reproduces_the_fixture_byte_for_byte() {
    let (mut canister, mut provider) = with_fixture();
    let exported = export(&mut canister, provider.key(), None).unwrap();
    assert_eq!(exported.provider_pem, provider.pem());
    assert_eq!(exported.next_cursor, None);
    let lines = fixture_lines();
    // Key order: 2XQC9381 (the invisible one), 4XQC3719, DC2993, QC1494.
    let expected: String = [0, 3, 4, 1, 2].iter().map(|&i| lines[i].as_str()).collect();
    assert_eq!(exported.csv, expected);
    assert_eq!(exported.csv.len(), FIXTURE.len());
    let mut got: Vec<&str> = exported.csv.split_inclusive('\n').collect();
    let mut want: Vec<&str> = lines.iter().map(String::as_str).collect();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "the same lines, every byte");

    // What was exported imports again as an identical catalog.
    let receipt = canister
        .replace(&mut provider, exported.csv.as_bytes())
        .unwrap();
    assert_eq!((receipt.offerings, receipt.unchanged), (4, 4));
}

#[test]
fn browse_as_json_and_pem_csv_gives_the_pem_and_the_visible_rows() {
    let (mut canister, provider) = with_fixture();
    let lines = fixture_lines();
    let visible_csv: String = [0, 4, 1, 2].iter().map(|&i| lines[i].as_str()).collect();
    let mut as_format = |format| {
        let arg = ProviderOfferingsArg {
            format: Some(format),
            ..browse_arg(&provider, 200)
        };
        browse(&mut canister, arg).unwrap().offerings
    };
    let Offerings::Json(text) = as_format(Format::Json) else {
        panic!("not JSON")
    };
    let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let expected = serde_json::json!([{
        "provider_pubkey_pem": provider.pem(),
        "server_offerings_csv": visible_csv,
    }]);
    assert_eq!(value, expected);
    let Offerings::PemCsv(catalogs) = as_format(Format::PemCsv) else {
        panic!("not PEM + CSV")
    };
    assert_eq!(catalogs.len(), 1);
    assert_eq!(catalogs[0].provider_pem, provider.pem());
    assert_eq!(catalogs[0].csv, visible_csv);
}

#[test]
fn search_replies_group_rows_by_provider_in_order_of_first_appearance() {
    let Market {
        mut canister,
        a,
        b,
        c,
    } = market();
    let at_20_eur = q(|q| q.filters = Some(price("EUR", Some(2000), Some(2000))));
    let json = SearchQuery {
        format: Some(Format::Json),
        ..at_20_eur.clone()
    };
    let Offerings::Json(text) = search(&mut canister, &json).unwrap().offerings else {
        panic!("not JSON")
    };
    let groups: Vec<JsonCatalog> = serde_json::from_str(&text).unwrap();
    let summary: Vec<(String, Vec<String>)> = groups
        .iter()
        .map(|g| {
            let keys = csv_keys(&g.server_offerings_csv).collect();
            (g.provider_pubkey_pem.clone(), keys)
        })
        .collect();
    let expected = [
        (a.pem(), strs(&["a2"])),
        (b.pem(), strs(&["b4", "b5"])),
        (c.pem(), strs(&["c1"])),
    ];
    assert_eq!(summary, expected);

    let Offerings::Records(records) = search(&mut canister, &at_20_eur).unwrap().offerings else {
        panic!("not records")
    };
    assert_eq!(records.providers, [a.pem(), b.pem(), c.pem()]);
    let positions: Vec<u32> = records.offerings.iter().map(|o| o.provider).collect();
    assert_eq!(positions, [0, 1, 1, 2], "each PEM once, rows point to it");
}

// --- text search ---

#[test]
fn text_search_folds_symbols_case_and_accents() {
    let (mut canister, _) = with_fixture();
    let mut swiss = Provider::new(2);
    let zurich = Row::new("Z1", "50.00")
        .set("Datacenter Country", "CH")
        .set("Datacenter City", "Zürich")
        .set("Description", "Ein Server in Zürich.");
    canister.upsert(&mut swiss, &catalog(&[zurich])).unwrap();

    let xeons = ["DC2993", "QC1494", "4XQC3719"];
    for words in ["Xeon®", "xeon", "XEON", "NL", "rotterdam", "Rotterdam, NL"] {
        assert_eq!(text(&mut canister, words), xeons, "{words}");
    }
    assert_eq!(text(&mut canister, "E5-1620"), ["DC2993"]);
    for words in ["zurich", "Zürich", "ZÜRICH", "ch zurich"] {
        assert_eq!(text(&mut canister, words), ["Z1"], "{words}");
    }
}

#[test]
fn text_search_needs_every_term() {
    let (mut canister, _) = with_fixture();
    assert_eq!(text(&mut canister, "xeon windows"), ["4XQC3719"]);
    assert_eq!(text(&mut canister, "xeon").len(), 3);
    assert!(!text(&mut canister, "rotterdam").is_empty());
    assert!(text(&mut canister, "xeon zurich").is_empty());
    assert!(text(&mut canister, "rotterdam nonexistentword").is_empty());
}

// --- structured filters, each alone, positive and negative ---

fn price(currency: &str, min: Option<u64>, max: Option<u64>) -> Filters {
    Filters {
        price: Some(PriceFilter {
            currency: currency.into(),
            min_minor: min,
            max_minor: max,
        }),
        ..Filters::default()
    }
}

#[test]
fn filter_price_range_in_a_currency() {
    let mut m = market();
    let c = &mut m.canister;
    assert_eq!(
        filtered(c, price("EUR", Some(2000), Some(2500))),
        ["a2", "b4", "b5", "c1", "b1"],
        "inclusive bounds; c2 is in CHF, b6 invisible"
    );
    assert_eq!(filtered(c, price("usd", None, None)), ["a3"]);
    assert_eq!(filtered(c, price("CHF", None, Some(2000))), ["c2"]);
    assert_eq!(filtered(c, price("EUR", Some(10000), None)), ["b3"]);
    assert!(filtered(c, price("EUR", Some(10001), None)).is_empty());
    assert!(filtered(c, price("EUR", None, Some(999))).is_empty());
    assert!(filtered(c, price("JPY", None, None)).is_empty());
}

/// The keys matching only the filter `set` puts in place.
fn only(m: &mut Market, set: impl FnOnce(&mut Filters)) -> Vec<String> {
    let mut filters = Filters::default();
    set(&mut filters);
    filtered(&mut m.canister, filters)
}

fn only_country(code: &str) -> Filters {
    Filters {
        country: some(code),
        ..Filters::default()
    }
}

fn some(text: &str) -> Option<String> {
    Some(text.into())
}

#[test]
fn filter_country() {
    let m = &mut market();
    assert_eq!(only(m, |f| f.country = some("nl")), ["a2"], "any case");
    assert_eq!(only(m, |f| f.country = some("US")), ["a3"]);
    assert_eq!(only(m, |f| f.country = some("ch")), ["c1"]);
    assert!(only(m, |f| f.country = some("FR")).is_empty());
}

#[test]
fn filter_city() {
    let m = &mut market();
    let amsterdam = only(m, |f| f.city = some("amsterdam"));
    assert_eq!(amsterdam, ["a2"], "the part before the comma");
    assert_eq!(only(m, |f| f.city = some("Amsterdam, NL")), ["a2"]);
    assert_eq!(only(m, |f| f.city = some("new york")), ["a3"]);
    assert_eq!(only(m, |f| f.city = some("zurich")), ["c1"]);
    assert!(only(m, |f| f.city = some("Rotterdam")).is_empty());
    assert!(
        only(m, |f| f.city = some("york")).is_empty(),
        "the whole name"
    );
}

#[test]
fn filter_product_type() {
    let m = &mut market();
    assert_eq!(only(m, |f| f.product_type = Some(ProductType::Vps)), ["a4"]);
    assert_eq!(
        only(m, |f| f.product_type = Some(ProductType::Cloud)),
        ["c1"]
    );
    assert!(only(m, |f| f.product_type = Some(ProductType::Managed)).is_empty());
}

#[test]
fn filter_virtualization() {
    let m = &mut market();
    let kvm = only(m, |f| f.virtualization = Some(Virtualization::Kvm));
    assert_eq!(kvm, ["a4"]);
    let vmware = only(m, |f| f.virtualization = Some(Virtualization::Vmware));
    assert_eq!(vmware, ["c1"]);
    assert!(only(m, |f| f.virtualization = Some(Virtualization::Xen)).is_empty());
}

#[test]
fn filter_billing_interval() {
    let m = &mut market();
    let hourly = only(m, |f| f.billing = Some(BillingInterval::Hourly));
    assert_eq!(hourly, ["a4"]);
    let yearly = only(m, |f| f.billing = Some(BillingInterval::Yearly));
    assert_eq!(yearly, ["c1"]);
    assert!(only(m, |f| f.billing = Some(BillingInterval::Quarterly)).is_empty());
}

#[test]
fn filter_stock() {
    let m = &mut market();
    assert_eq!(only(m, |f| f.stock = Some(Stock::OutOfStock)), ["a5"]);
    let in_stock = only(m, |f| f.stock = Some(Stock::InStock));
    assert_eq!(in_stock, all_visible_except(&["a5"]));
    let limited = only(m, |f| f.stock = Some(Stock::Limited));
    assert!(limited.is_empty(), "b6 is limited but invisible");
}

#[test]
fn filter_min_cores() {
    let m = &mut market();
    assert_eq!(only(m, |f| f.min_cores = Some(32)), ["a6"], "2 x 16 cores");
    assert_eq!(only(m, |f| f.min_cores = Some(5)), ["a6"]);
    assert_eq!(only(m, |f| f.min_cores = Some(4)).len(), ALL_ASC.len());
    assert!(only(m, |f| f.min_cores = Some(33)).is_empty());
}

#[test]
fn filter_min_memory() {
    let m = &mut market();
    assert_eq!(
        only(m, |f| f.min_memory_mb = Some(262_144)),
        ["a7"],
        "256 GB"
    );
    assert_eq!(only(m, |f| f.min_memory_mb = Some(32_769)), ["a7"]);
    assert!(only(m, |f| f.min_memory_mb = Some(262_145)).is_empty());
}

#[test]
fn filter_min_ssd() {
    let m = &mut market();
    assert_eq!(only(m, |f| f.min_ssd_gb = Some(3840)), ["a8"]);
    assert_eq!(only(m, |f| f.min_ssd_gb = Some(501)), ["a8"]);
    assert!(only(m, |f| f.min_ssd_gb = Some(3841)).is_empty());
}

#[test]
fn filter_min_hdd() {
    let m = &mut market();
    assert_eq!(only(m, |f| f.min_hdd_gb = Some(16_000)), ["b1"], "16 TB");
    assert_eq!(only(m, |f| f.min_hdd_gb = Some(1)), ["b1"]);
    assert!(only(m, |f| f.min_hdd_gb = Some(16_001)).is_empty());
}

#[test]
fn filter_gpu_present_and_gpu_name() {
    let m = &mut market();
    let name = |text: &str| Some(GpuFilter::Name(text.into()));
    assert_eq!(
        only(m, |f| f.gpu = Some(GpuFilter::Present(true))),
        ["c1", "b2"]
    );
    let without = only(m, |f| f.gpu = Some(GpuFilter::Present(false)));
    assert_eq!(without, all_visible_except(&["c1", "b2"]));
    assert_eq!(only(m, |f| f.gpu = name("rtx 40")), ["b2"]);
    assert_eq!(only(m, |f| f.gpu = name("NVIDIA")), ["b2"]);
    assert_eq!(only(m, |f| f.gpu = name("instinct")), ["c1"]);
    assert!(only(m, |f| f.gpu = name("H100")).is_empty());
}

#[test]
fn filter_operating_system() {
    let m = &mut market();
    assert_eq!(only(m, |f| f.os = some("ubuntu")), ["b3"]);
    assert_eq!(only(m, |f| f.os = some("Windows Server 2022")), ["b3"]);
    assert_eq!(
        only(m, |f| f.os = some("debian")),
        all_visible_except(&["b3"])
    );
    assert!(only(m, |f| f.os = some("freebsd")).is_empty());
}

#[test]
fn filter_feature() {
    let m = &mut market();
    assert_eq!(only(m, |f| f.feature = some("ddos protection")), ["b4"]);
    assert_eq!(
        only(m, |f| f.feature = some("NATIVE IPV6")).len(),
        ALL_ASC.len()
    );
    assert!(only(m, |f| f.feature = some("hardware raid")).is_empty());
}

#[test]
fn filter_unmetered() {
    let m = &mut market();
    assert_eq!(only(m, |f| f.unmetered = Some(true)), ["b5"]);
    let metered = only(m, |f| f.unmetered = Some(false));
    assert_eq!(metered, all_visible_except(&["b5"]));
}

#[test]
fn filters_and_text_combine() {
    let mut m = market();
    let compound = Filters {
        country: Some("de".into()),
        product_type: Some(ProductType::Dedicated),
        unmetered: Some(false),
        gpu: Some(GpuFilter::Present(false)),
        ..price("EUR", Some(2000), Some(6000))
    };
    let mut q = SearchQuery {
        text: Some("epyc".into()),
        filters: Some(compound.clone()),
        ..SearchQuery::default()
    };
    assert_eq!(
        matching(&mut m.canister, q.clone()),
        ["b4", "b1", "a5", "a6"]
    );
    q.filters = Some(Filters {
        stock: Some(Stock::InStock),
        ..compound.clone()
    });
    assert_eq!(matching(&mut m.canister, q.clone()), ["b4", "b1", "a6"]);
    q.filters = Some(Filters {
        stock: Some(Stock::InStock),
        min_cores: Some(32),
        ..compound.clone()
    });
    assert_eq!(matching(&mut m.canister, q.clone()), ["a6"]);
    q.text = Some("epyc ddos".into());
    q.filters = Some(compound);
    assert_eq!(matching(&mut m.canister, q), ["b4"]);
}

// --- sorting and cursors ---

#[test]
fn sort_by_price_both_ways_with_a_stable_tie_break() {
    let mut m = market();
    let asc = matching(&mut m.canister, SearchQuery::default());
    assert_eq!(asc, ALL_ASC, "price, then provider (A, B, C), then key");
    let explicit = SearchQuery {
        sort: Some(SortOrder::PriceAsc),
        ..SearchQuery::default()
    };
    assert_eq!(matching(&mut m.canister, explicit), ALL_ASC);
    let desc = SearchQuery {
        sort: Some(SortOrder::PriceDesc),
        ..SearchQuery::default()
    };
    let mut reversed = strs(&ALL_ASC);
    reversed.reverse();
    for _ in 0..3 {
        assert_eq!(matching(&mut m.canister, desc.clone()), reversed);
        assert_eq!(matching(&mut m.canister, SearchQuery::default()), ALL_ASC);
    }
    let ties = SearchQuery {
        filters: Some(price("EUR", Some(2000), Some(2000))),
        sort: Some(SortOrder::PriceDesc),
        ..SearchQuery::default()
    };
    assert_eq!(matching(&mut m.canister, ties), ["c1", "b5", "b4", "a2"]);
}

#[test]
fn walking_pages_of_two_returns_every_match_once_in_order() {
    let mut m = market();
    for sort in [SortOrder::PriceAsc, SortOrder::PriceDesc] {
        let q = SearchQuery {
            sort: Some(sort),
            limit: Some(2),
            ..SearchQuery::default()
        };
        let pages = walk(&mut m.canister, &q);
        assert_eq!(pages.len(), 8);
        assert!(pages[..7].iter().all(|p| keys(p).len() == 2));
        let walked: Vec<String> = pages.iter().flat_map(keys).collect();
        let mut expected = strs(&ALL_ASC);
        if sort == SortOrder::PriceDesc {
            expected.reverse();
        }
        assert_eq!(walked, expected, "{sort:?}");
    }
    let filtered = SearchQuery {
        filters: Some(price("EUR", Some(2000), Some(2500))),
        limit: Some(2),
        ..SearchQuery::default()
    };
    let walked: Vec<String> = walk(&mut m.canister, &filtered)
        .iter()
        .flat_map(keys)
        .collect();
    assert_eq!(walked, ["a2", "b4", "b5", "c1", "b1"]);
}

#[test]
fn the_same_query_and_cursor_give_the_same_page() {
    let mut m = market();
    let q = SearchQuery {
        limit: Some(3),
        ..SearchQuery::default()
    };
    let first = search(&mut m.canister, &q).unwrap();
    assert_eq!(search(&mut m.canister, &q).unwrap(), first);
    let next = SearchQuery {
        cursor: first.next_cursor.clone(),
        ..q.clone()
    };
    let second = search(&mut m.canister, &next).unwrap();
    assert_eq!(keys(&second), ["b5", "c1", "c2"]);
    for _ in 0..3 {
        assert_eq!(search(&mut m.canister, &next).unwrap(), second);
    }
}

#[test]
fn a_cursor_from_another_query_is_an_invalid_cursor() {
    let mut m = market();
    let two = q(|q| q.limit = Some(2));
    let cursor = search(&mut m.canister, &two).unwrap().next_cursor;
    let others = [
        q(|q| q.sort = Some(SortOrder::PriceDesc)),
        q(|q| q.text = some("epyc")),
        q(|q| q.filters = Some(price("EUR", None, None))),
        q(|q| q.filters = Some(only_country("DE"))),
    ];
    for other in others {
        let with = SearchQuery {
            cursor: cursor.clone(),
            ..other
        };
        let got = search(&mut m.canister, &with);
        assert_eq!(got, Err(SearchError::InvalidCursor), "{with:?}");
    }
    // Page size, format and empty filters do not change the matches: the cursor goes on.
    let same = q(|q| {
        (q.cursor, q.limit) = (cursor, Some(5));
        (q.format, q.filters) = (Some(Format::Records), Some(Filters::default()));
    });
    let page = search(&mut m.canister, &same).unwrap();
    assert_eq!(keys(&page), ["b4", "b5", "c1", "c2", "b1"]);
}

#[test]
fn browse_and_search_cursors_do_not_mix() {
    let mut m = market();
    let a_cursor = browse(&mut m.canister, browse_arg(&m.a, 1))
        .unwrap()
        .next_cursor;
    let search_cursor = search(&mut m.canister, &q(|q| q.limit = Some(1)))
        .unwrap()
        .next_cursor;
    let in_search = q(|q| q.cursor = a_cursor.clone());
    let got = search(&mut m.canister, &in_search);
    assert_eq!(got, Err(SearchError::InvalidCursor));
    for (provider, cursor) in [(&m.b, a_cursor.clone()), (&m.a, search_cursor)] {
        let arg = ProviderOfferingsArg {
            cursor,
            ..browse_arg(provider, 1)
        };
        let got = browse(&mut m.canister, arg);
        assert_eq!(
            got,
            Err(SearchError::InvalidCursor),
            "another provider's or a search's"
        );
    }
    let got = export(&mut m.canister, m.a.key(), a_cursor);
    assert_eq!(
        got,
        Err(SearchError::InvalidCursor),
        "a browse cursor in an export"
    );
}

#[test]
fn a_garbage_cursor_is_an_invalid_cursor() {
    let mut m = market();
    let valid = search(&mut m.canister, &q(|q| q.limit = Some(2)))
        .unwrap()
        .next_cursor
        .unwrap();
    let garbage = [
        "".to_string(),
        "zz".into(),
        "not a cursor".into(),
        "0".into(),
        valid[..20].to_string(),
        format!("02{}", &valid[2..]),
        "ab".repeat(400),
    ];
    for cursor in garbage {
        let with = q(|q| (q.cursor, q.limit) = (Some(cursor.clone()), Some(2)));
        let got = search(&mut m.canister, &with);
        assert_eq!(got, Err(SearchError::InvalidCursor), "{cursor:?}");
        let arg = ProviderOfferingsArg {
            cursor: Some(cursor.clone()),
            ..browse_arg(&m.a, 1)
        };
        let got = browse(&mut m.canister, arg);
        assert_eq!(got, Err(SearchError::InvalidCursor), "{cursor:?}");
        let got = export(&mut m.canister, m.a.key(), Some(cursor.clone()));
        assert_eq!(got, Err(SearchError::InvalidCursor), "{cursor:?}");
    }
}

// --- replies trimmed to fit ---

/// A provider with 450 offerings of about 7 KB of CSV (10 KB as a record): 200 of them do not
/// fit in one 1.5 MiB reply. Published in three upserts within the ingress limit. Gives the
/// keys by price, then key.
fn big_catalog(canister: &mut Canister, provider: &mut Provider) -> Vec<String> {
    let description = "Long description. ".repeat(220);
    let name = "Big server ".repeat(280);
    let price = |i: u64| 100 + i % 37;
    let rows: Vec<Row> = (0..450)
        .map(|i| {
            Row::new(&format!("big{i:04}"), &format!("{}.00", price(i)))
                .set("Description", &description)
                .set("Offer Name", &name)
        })
        .collect();
    for chunk in rows.chunks(150) {
        let csv = catalog(chunk);
        assert!(csv.len() < 1_900_000, "{} bytes", csv.len());
        canister.upsert(provider, &csv).unwrap();
    }
    let mut keys: Vec<(u64, String)> = (0..450).map(|i| (price(i), format!("big{i:04}"))).collect();
    keys.sort();
    keys.into_iter().map(|(_, key)| key).collect()
}

/// The offering keys (third column) of a CSV file's data rows.
fn csv_keys(csv: &str) -> impl Iterator<Item = String> + '_ {
    csv.lines()
        .skip(1)
        .map(|r| r.split(',').nth(2).unwrap().to_string())
}

#[test]
fn a_search_page_too_large_for_one_reply_is_cut_short_and_continues_without_loss() {
    let mut canister = Canister::install(None);
    let expected = big_catalog(&mut canister, &mut Provider::new(21));
    let query = q(|q| (q.text, q.limit) = (some("long description"), Some(200)));
    let pages = walk(&mut canister, &query);
    let sizes: Vec<usize> = pages.iter().map(|p| keys(p).len()).collect();
    assert!(sizes[0] < 200 && pages.len() >= 3, "cut short: {sizes:?}");
    let walked: Vec<String> = pages.iter().flat_map(keys).collect();
    assert_eq!(walked, expected, "every row once, in order: {sizes:?}");

    let json = SearchQuery {
        format: Some(Format::Json),
        ..query
    };
    let pages = walk(&mut canister, &json);
    let mut json_keys = vec![];
    for page in &pages {
        let Offerings::Json(text) = &page.offerings else {
            panic!("not JSON")
        };
        assert!(text.len() <= 3 * 512 * 1024, "{} bytes", text.len());
        let groups: Vec<JsonCatalog> = serde_json::from_str(text).unwrap();
        groups
            .iter()
            .for_each(|g| json_keys.extend(csv_keys(&g.server_offerings_csv)));
    }
    assert!(pages.len() >= 2);
    assert_eq!(json_keys, expected, "the JSON form loses nothing either");
}

#[test]
fn browse_and_export_pages_too_large_for_one_reply_continue_without_loss() {
    let mut canister = Canister::install(None);
    let mut provider = Provider::new(21);
    let mut expected = big_catalog(&mut canister, &mut provider);
    expected.sort();
    let (mut browsed, mut arg, mut pages) = (vec![], browse_arg(&provider, 200), 0);
    loop {
        let page = browse(&mut canister, arg.clone()).unwrap();
        browsed.extend(keys(&page));
        pages += 1;
        match page.next_cursor {
            Some(cursor) => arg.cursor = Some(cursor),
            None => break,
        }
    }
    assert!(pages >= 3, "{pages} pages");
    assert_eq!(browsed, expected);
    let (mut exported, mut cursor, mut pages) = (vec![], None, 0);
    loop {
        let page = export(&mut canister, provider.key(), cursor).unwrap();
        exported.extend(csv_keys(&page.csv));
        pages += 1;
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert!(pages >= 2, "{pages} pages");
    assert_eq!(exported, expected);
}

// --- limits and bad input ---

#[test]
fn a_text_longer_than_256_bytes_is_query_too_long() {
    let (mut canister, _) = with_fixture();
    let too_long = Err(SearchError::QueryTooLong { max_bytes: 256 });
    let long = "a".repeat(257);
    assert_eq!(
        search(&mut canister, &q(|q| q.text = some(&long))),
        too_long
    );
    let longest = q(|q| q.text = some(&long[1..]));
    assert!(search(&mut canister, &longest).is_ok());
    for set in [
        |f: &mut Filters| f.city = some(&"x".repeat(257)),
        |f: &mut Filters| f.os = some(&"x".repeat(257)),
        |f: &mut Filters| f.feature = some(&"x".repeat(257)),
        |f: &mut Filters| f.gpu = Some(GpuFilter::Name("x".repeat(257))),
    ] {
        let mut filters = Filters::default();
        set(&mut filters);
        let got = search(&mut canister, &q(|q| q.filters = Some(filters)));
        assert_eq!(got, too_long, "a text filter");
    }
}

#[test]
fn more_than_16_distinct_words_is_too_many_terms() {
    let (mut canister, _) = with_fixture();
    let words = |n: usize| (0..n).map(|i| format!("w{i} ")).collect::<String>();
    let many = q(|q| q.text = Some(words(17)));
    let got = search(&mut canister, &many);
    assert_eq!(got, Err(SearchError::TooManyTerms { max: 16 }));
    let sixteen = q(|q| q.text = Some(words(16) + "w0 W1"));
    assert!(
        search(&mut canister, &sixteen).is_ok(),
        "repeats count once"
    );
}

#[test]
fn a_page_size_of_0_or_above_200_is_refused() {
    let (mut canister, provider) = with_fixture();
    let too_large = SearchError::PageSizeTooLarge { max: 200 };
    for (limit, expected) in [
        (201, Some(&too_large)),
        (u32::MAX, Some(&too_large)),
        (0, None),
    ] {
        let arg = ProviderOfferingsArg {
            limit: Some(limit),
            ..browse_arg(&provider, 1)
        };
        let search = search(&mut canister, &q(|q| q.limit = Some(limit)));
        for got in [search, browse(&mut canister, arg)] {
            match (expected, got) {
                (Some(want), got) => assert_eq!(got.as_ref(), Err(want), "{limit}"),
                (None, Err(SearchError::InvalidArgument { message })) => {
                    assert!(message.contains("limit"), "{message}")
                }
                (None, got) => panic!("limit 0: {got:?}"),
            }
        }
    }
    let page = search(&mut canister, &q(|q| q.limit = Some(200))).unwrap();
    assert_eq!(keys(&page).len(), 3, "200 is allowed");
}

#[test]
fn malformed_filter_values_are_invalid_arguments() {
    let (mut canister, _) = with_fixture();
    let bad = [
        price("EUR", Some(2), Some(1)),
        price("EURO", None, None),
        only_country("NLD"),
    ];
    for filters in bad {
        let query = q(|q| q.filters = Some(filters));
        let got = search(&mut canister, &query);
        assert!(
            matches!(got, Err(SearchError::InvalidArgument { .. })),
            "{query:?}"
        );
    }
}

#[test]
fn unknown_providers_and_offerings_are_typed_errors() {
    let (mut canister, provider) = with_fixture();
    let c = &mut canister;
    let stranger = Provider::new(99).key();
    let unknown = Some(SearchError::UnknownProvider);
    assert_eq!(get(c, stranger.clone(), "DC2993").err(), unknown);
    let arg = ProviderOfferingsArg {
        provider: stranger.clone(),
        ..browse_arg(&provider, 1)
    };
    assert_eq!(browse(c, arg).err(), unknown);
    assert_eq!(export(c, stranger, None).err(), unknown);
    for key in ["NOPE1", "dc2993", "DC2993 "] {
        let got = get(c, provider.key(), key);
        assert_eq!(
            got,
            Err(SearchError::UnknownOffering),
            "{key:?}: keys are exact"
        );
    }
    let too_long = get(c, provider.key(), &"k".repeat(129));
    assert!(matches!(too_long, Err(SearchError::InvalidArgument { .. })));
}

#[test]
fn malformed_provider_keys_are_invalid_key() {
    let (mut canister, provider) = with_fixture();
    let c = &mut canister;
    let raw = signing::provider_of(&provider.secret).as_bytes().to_vec();
    let bad_keys = [
        ProviderKeyInput::Raw(ByteBuf::from(raw[..31].to_vec())),
        ProviderKeyInput::Raw(ByteBuf::from(vec![7u8; 31])),
        ProviderKeyInput::Raw(ByteBuf::from(vec![7u8; 33])),
        ProviderKeyInput::Pem(
            "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n".into(),
        ),
    ];
    let invalid = |e: &SearchError| matches!(e, SearchError::InvalidKey { .. });
    for key in bad_keys {
        let got = get(c, key.clone(), "DC2993");
        assert!(got.as_ref().is_err_and(invalid), "{key:?}: {got:?}");
        let arg = ProviderOfferingsArg {
            provider: key.clone(),
            ..browse_arg(&provider, 1)
        };
        assert!(browse(c, arg).as_ref().is_err_and(invalid), "{key:?}");
        assert!(
            export(c, key.clone(), None).as_ref().is_err_and(invalid),
            "{key:?}"
        );
    }
}

#[test]
fn undecodable_arguments_get_invalid_argument_not_a_reject() {
    let (mut canister, _) = with_fixture();
    let garbage: [Vec<u8>; 4] = [
        b"not candid at all".to_vec(),
        vec![],
        candid::encode_one(42u64).unwrap(),
        candid::encode_one("text").unwrap(),
    ];
    for bytes in garbage {
        let mut call = |method: &str| {
            canister
                .driver
                .query(user(), method, bytes.clone())
                .unwrap_or_else(|r| panic!("{method} rejected {bytes:?}: {r}"))
        };
        let invalid = |e: &SearchError| matches!(e, SearchError::InvalidArgument { .. });
        let reply = call("offering_get");
        let got: Result<OfferingRecords, SearchError> = candid::decode_one(&reply).unwrap();
        assert!(got.as_ref().is_err_and(invalid), "{got:?}");
        for method in ["provider_offerings", "offerings_search"] {
            let reply = call(method);
            let got: Result<SearchPage, SearchError> = candid::decode_one(&reply).unwrap();
            assert!(got.as_ref().is_err_and(invalid), "{method}: {got:?}");
        }
        let reply = call("provider_catalog_export");
        let got: Result<CatalogExport, SearchError> = candid::decode_one(&reply).unwrap();
        assert!(got.as_ref().is_err_and(invalid), "{got:?}");
    }
}

// --- upgrades and the change feed ---

/// Every kind of read on the market, with the cursors each reply gave.
#[derive(Debug, PartialEq)]
struct Reads {
    searches: Vec<Vec<SearchPage>>,
    browses: Vec<Result<SearchPage, SearchError>>,
    exports: Vec<Result<CatalogExport, SearchError>>,
    gets: Vec<Result<OfferingRecords, SearchError>>,
}

fn reads(m: &mut Market) -> Reads {
    let queries = [
        SearchQuery {
            limit: Some(4),
            ..SearchQuery::default()
        },
        SearchQuery {
            sort: Some(SortOrder::PriceDesc),
            limit: Some(3),
            format: Some(Format::Json),
            ..SearchQuery::default()
        },
        SearchQuery {
            text: Some("zurich".into()),
            ..SearchQuery::default()
        },
        SearchQuery {
            filters: Some(Filters {
                gpu: Some(GpuFilter::Name("rtx".into())),
                ..Filters::default()
            }),
            format: Some(Format::PemCsv),
            ..SearchQuery::default()
        },
        SearchQuery {
            filters: Some(Filters {
                os: Some("ubuntu".into()),
                ..price("EUR", Some(1000), Some(20000))
            }),
            ..SearchQuery::default()
        },
    ];
    let c = &mut m.canister;
    Reads {
        searches: queries.iter().map(|q| walk(c, q)).collect(),
        browses: [&m.a, &m.b, &m.c]
            .iter()
            .map(|p| browse(c, browse_arg(p, 200)))
            .collect(),
        exports: [&m.a, &m.b, &m.c]
            .iter()
            .map(|p| export(c, p.key(), None))
            .collect(),
        gets: [(&m.a, "a1"), (&m.b, "b6"), (&m.c, "c1")]
            .iter()
            .map(|(p, k)| get(c, p.key(), k))
            .collect(),
    }
}

#[test]
fn an_upgrade_keeps_every_search_browse_and_export_identical() {
    let mut m = market();
    let before = reads(&mut m);
    assert_eq!(before.searches[0].len(), 4);
    let first = search(
        &mut m.canister,
        &SearchQuery {
            limit: Some(4),
            ..SearchQuery::default()
        },
    )
    .unwrap();
    m.canister
        .driver
        .upgrade(&wasm(), candid::encode_one(None::<InitArg>).unwrap())
        .unwrap();
    assert_eq!(reads(&mut m), before);
    let after_upgrade = SearchQuery {
        limit: Some(4),
        cursor: first.next_cursor,
        ..SearchQuery::default()
    };
    assert_eq!(
        keys(&search(&mut m.canister, &after_upgrade).unwrap()),
        ["c1", "c2", "b1", "a3"],
        "a cursor from before the upgrade still works"
    );
}

#[test]
fn upserts_and_removals_show_in_search_at_once() {
    let mut m = market();
    let latest = m.canister.changes(0).latest;
    let h100 = Filters {
        gpu: Some(GpuFilter::Name("h100".into())),
        ..Filters::default()
    };
    assert!(filtered(&mut m.canister, h100.clone()).is_empty());

    let new = Row::new("a9", "5.00").set("GPU Name", "NVIDIA H100");
    let dearer = Row::new("a1", "95.00");
    m.canister
        .upsert(&mut m.a, &catalog(&[new, dearer]))
        .unwrap();
    assert_eq!(filtered(&mut m.canister, h100), ["a9"]);
    let mut expected = strs(&[
        "a9", "a2", "b4", "b5", "c1", "c2", "b1", "a3", "a4", "a5", "a6", "a7", "a8", "b2", "a1",
        "b3",
    ]);
    assert_eq!(matching(&mut m.canister, SearchQuery::default()), expected);

    remove(&mut m.canister, &mut m.b, &["b2"]);
    let rtx = Filters {
        gpu: Some(GpuFilter::Name("rtx".into())),
        ..Filters::default()
    };
    assert!(filtered(&mut m.canister, rtx).is_empty());
    expected.retain(|k| k != "b2");
    assert_eq!(matching(&mut m.canister, SearchQuery::default()), expected);
    assert_eq!(
        get(&mut m.canister, m.b.key(), "b2"),
        Err(SearchError::UnknownOffering)
    );
    let b_keys = keys(&browse(&mut m.canister, browse_arg(&m.b, 200)).unwrap());
    assert_eq!(b_keys, ["b1", "b3", "b4", "b5"]);
    let exported = export(&mut m.canister, m.b.key(), None).unwrap().csv;
    assert!(!exported.contains(",b2,") && exported.contains(",b6,"));

    let feed: Vec<(String, ChangeKind)> = m
        .canister
        .changes(latest)
        .changes
        .into_iter()
        .map(|c| (c.offering_key, c.kind))
        .collect();
    assert_eq!(feed.len(), 3, "{feed:?}");
    assert!(feed.contains(&("a9".into(), ChangeKind::Upsert)));
    assert!(feed.contains(&("a1".into(), ChangeKind::Upsert)));
    assert_eq!(feed[2], ("b2".into(), ChangeKind::Remove));
}
