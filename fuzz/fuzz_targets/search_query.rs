//! Search as callers send it, against a small catalog published natively once per process:
//! `offerings_search`'s Candid `SearchQuery` (decoded from the bytes with the endpoint's quota,
//! or built from them out of the catalog's own words and values), and `/search` query strings
//! (`http::params`, then the whole `http_request` route).
//!
//! First byte: 0 → the rest is the Candid argument; 1 → the rest is a query string; anything
//! else → a query built from the rest (most inputs: it reaches matching offerings).
//!
//! Never panics; every page holds at most `limit` offerings, each visible and matching every
//! filter and word, in price order; the next page (followed once) continues the order without
//! repeating; the three reply formats hold the same rows; `/search` answers 200 or 400 with
//! JSON, never 500.
#![no_main]

use fuzz_support::catalog::{published, Published};
use fuzz_support::decode_checked;
use libfuzzer_sys::arbitrary::{Result as AResult, Unstructured};
use libfuzzer_sys::fuzz_target;
use marketplace::api::{Offerings, SearchError, SearchPage};
use marketplace::catalog::csv_format;
use marketplace::catalog::index;
use marketplace::catalog::offering::{normalize, Normalized, Offering};
use marketplace::catalog::search::kinds::{BillingInterval, ProductType, Stock, Virtualization};
use marketplace::catalog::search::offerings_search;
use marketplace::catalog::search::query::{
    self, Filters, Format, GpuFilter, PriceFilter, SearchQuery, SortOrder, DEFAULT_LIMIT,
};
use marketplace::catalog::text;
use marketplace::http::{self, params, HttpRequest};
use marketplace::runtime::FakeRuntime;

fuzz_target!(|bytes: &[u8]| {
    let catalog = published();
    let Some((&mode, rest)) = bytes.split_first() else {
        return;
    };
    match mode {
        0 => {
            if let Ok(query) = decode_checked::<SearchQuery>(rest) {
                let _ = check_search(&query, true);
            }
        }
        1 => check_query_string(&String::from_utf8_lossy(rest)),
        _ => {
            let mut u = Unstructured::new(rest);
            if let Ok(query) = build(&mut u, catalog) {
                let _ = check_search(&query, mode & 1 == 0);
                if mode & 2 == 0 {
                    check_query_string(&query_string(&query));
                }
            }
        }
    }
});

/// One offering of a reply, read back from its CSV row.
struct Found {
    /// Its provider's PEM.
    provider: String,
    row: Vec<u8>,
    offering: Offering,
    values: Normalized,
}

/// Runs `query`, checks the page (and the next one), and with `formats` that the three reply
/// formats agree. The first page, or the refusal.
fn check_search(query: &SearchQuery, formats: bool) -> Result<SearchPage, SearchError> {
    let result = offerings_search(query);
    let page = match &result {
        Ok(page) => page,
        Err(e) => {
            // A refusal is a checked reason; the same query is refused the same way.
            check_refusal(query, e);
            return result;
        }
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT) as usize;
    let found = rows(&page);
    assert!(
        found.len() <= limit,
        "{} rows for limit {limit}",
        found.len()
    );
    for f in &found {
        check_match(query, f);
    }
    // Records are in price order; PEM + CSV and JSON group them by provider, in order of
    // first appearance, each group in price order.
    let grouped = !matches!(page.offerings, Offerings::Records(_));
    check_order(query, &found, grouped);
    if formats {
        let mine: Vec<_> = by_provider(&found).into_iter().map(|f| &f.row).collect();
        for format in [Format::Records, Format::PemCsv, Format::Json] {
            if format == query.format.unwrap_or_default() {
                continue;
            }
            let other = SearchQuery {
                format: Some(format),
                ..query.clone()
            };
            let other = offerings_search(&other).expect("the same query in another format");
            let other_rows = rows(&other);
            let theirs: Vec<_> = by_provider(&other_rows)
                .into_iter()
                .map(|f| &f.row)
                .collect();
            assert_eq!(
                mine, theirs,
                "formats {:?} and {format:?} differ",
                query.format
            );
        }
    }
    if let Some(cursor) = &page.next_cursor {
        assert!(!found.is_empty(), "a cursor after an empty page");
        let next = SearchQuery {
            cursor: Some(cursor.clone()),
            ..query.clone()
        };
        let next = offerings_search(&next).expect("the next page of a valid query");
        let more = rows(&next);
        for f in &more {
            check_match(query, f);
            assert!(
                found.iter().all(|g| g.row != f.row),
                "the next page repeats an offering"
            );
        }
        check_order(query, &more, grouped);
        if !grouped {
            // The next page continues the order.
            let both: Vec<Found> = found.into_iter().chain(more).collect();
            check_order(query, &both, false);
        }
    }
    result
}

fn check_refusal(query: &SearchQuery, e: &SearchError) {
    match e {
        SearchError::UnknownProvider | SearchError::UnknownOffering => {
            panic!("a search refused with {e:?}")
        }
        SearchError::InvalidCursor => assert!(query.cursor.is_some(), "{e:?} without a cursor"),
        SearchError::PageSizeTooLarge { max } => {
            assert!(query.limit.is_some_and(|l| l > *max))
        }
        // Too long, too many terms, invalid arguments, and whatever is added later.
        _ => {}
    }
    // Checking the query alone refuses it the same way; a query that passes the check can only
    // be refused for its cursor.
    match query::check(query) {
        Err(checked) => assert_eq!(&checked, e),
        Ok(_) => assert_eq!(*e, SearchError::InvalidCursor, "{query:?}"),
    }
}

/// The offerings of a page in any format, each read back from its CSV row.
fn rows(page: &SearchPage) -> Vec<Found> {
    let read_row = |provider: &str, row: &[u8]| {
        let offering = Offering::from_csv_row(row).expect("a reply row reads back");
        let values = normalize(&offering).expect("a reply row normalises");
        Found {
            provider: provider.to_string(),
            row: row.to_vec(),
            offering,
            values,
        }
    };
    let read_csv = |provider: &str, csv: &str, out: &mut Vec<Found>| {
        let catalog = csv_format::parse(csv.as_bytes())
            .unwrap_or_else(|e| panic!("a reply's CSV does not import: {e:?}\n{csv}"));
        out.extend(catalog.rows().map(|row| read_row(provider, row.record)));
    };
    let mut found = Vec::new();
    match &page.offerings {
        Offerings::Records(records) => {
            for view in &records.offerings {
                assert!(view.visible, "an invisible offering listed");
                assert!((view.provider as usize) < records.providers.len());
                let f = read_row(
                    &records.providers[view.provider as usize],
                    view.csv_row.as_bytes(),
                );
                assert_eq!(view.key, f.offering.key());
                assert_eq!(view.price_minor, f.values.price_minor);
                assert_eq!(view.currency.as_bytes(), f.values.currency);
                assert_eq!(view.country.as_bytes(), f.values.country);
                assert_eq!(view.memory_mb, f.values.memory_mb);
                assert_eq!(view.total_cores, f.values.total_cores);
                found.push(f);
            }
        }
        Offerings::PemCsv(catalogs) => {
            for catalog in catalogs {
                read_csv(&catalog.provider_pem, &catalog.csv, &mut found);
            }
        }
        Offerings::Json(json) => {
            let value: serde_json::Value =
                serde_json::from_str(json).unwrap_or_else(|e| panic!("invalid JSON {e}: {json}"));
            for catalog in value.as_array().expect("a JSON array") {
                let csv = catalog["server_offerings_csv"]
                    .as_str()
                    .expect("a CSV text");
                let pem = catalog["provider_pubkey_pem"].as_str().expect("a PEM");
                read_csv(pem, csv, &mut found);
            }
        }
    }
    found
}

/// Every filter and word of `query` holds for `f`.
fn check_match(query: &SearchQuery, f: &Found) {
    let v = &f.values;
    let what = || format!("{:?} for {query:?}", String::from_utf8_lossy(&f.row));
    assert!(v.visible, "invisible: {}", what());
    if let Some(text_query) = &query.text {
        // Every word of the query is a word of one of the searchable cells.
        let mut terms = Vec::new();
        for column in text::SEARCHABLE {
            terms.extend(text::tokenize(f.offering.cell(column)));
        }
        for word in text::tokenize(text_query) {
            assert!(terms.contains(&word), "word {word:?} missing: {}", what());
        }
    }
    let Some(filters) = &query.filters else {
        return;
    };
    if let Some(price) = &filters.price {
        assert!(
            v.currency
                .eq_ignore_ascii_case(price.currency.trim().as_bytes()),
            "currency: {}",
            what()
        );
        let (min, max) = (
            price.min_minor.unwrap_or(0),
            price.max_minor.unwrap_or(u64::MAX),
        );
        assert!((min..=max).contains(&v.price_minor), "price: {}", what());
    }
    if let Some(country) = &filters.country {
        assert!(
            v.country.eq_ignore_ascii_case(country.trim().as_bytes()),
            "country: {}",
            what()
        );
    }
    if let Some(city) = &filters.city {
        assert_eq!(
            index::city_tag(city),
            index::city_tag(&v.city),
            "city: {}",
            what()
        );
    }
    if let Some(os) = &filters.os {
        let tag = index::tag(index::Tag::Os, os);
        let has = v
            .operating_systems
            .iter()
            .any(|o| index::tag(index::Tag::Os, o) == tag);
        assert!(has, "os: {}", what());
    }
    if let Some(feature) = &filters.feature {
        let tag = index::tag(index::Tag::Feature, feature);
        let has = v
            .features
            .iter()
            .any(|o| index::tag(index::Tag::Feature, o) == tag);
        assert!(has, "feature: {}", what());
    }
    let eq = |want: Option<u8>, have: u8| want.is_none_or(|w| w == have);
    assert!(
        eq(filters.product_type.map(|k| k as u8), product(v)),
        "product: {}",
        what()
    );
    assert!(
        eq(filters.virtualization.map(|k| k as u8), virtualization(v)),
        "virtualization: {}",
        what()
    );
    assert!(
        eq(filters.billing.map(|k| k as u8), billing(v)),
        "billing: {}",
        what()
    );
    assert!(
        eq(filters.stock.map(|k| k as u8), stock(v)),
        "stock: {}",
        what()
    );
    assert!(
        v.total_cores >= filters.min_cores.unwrap_or(0),
        "cores: {}",
        what()
    );
    assert!(
        v.memory_mb >= filters.min_memory_mb.unwrap_or(0),
        "memory: {}",
        what()
    );
    assert!(
        v.ssd_gb >= filters.min_ssd_gb.unwrap_or(0),
        "ssd: {}",
        what()
    );
    assert!(
        v.hdd_gb >= filters.min_hdd_gb.unwrap_or(0),
        "hdd: {}",
        what()
    );
    match &filters.gpu {
        None => {}
        Some(GpuFilter::Present(present)) => {
            assert_eq!(v.gpu_name.is_some(), *present, "gpu: {}", what())
        }
        Some(GpuFilter::Name(name)) => {
            let want = index::fold(name);
            let have = v.gpu_name.as_deref().map(index::fold).unwrap_or_default();
            assert!(have.contains(&want), "gpu name: {}", what());
        }
    }
    if let Some(unmetered) = filters.unmetered {
        assert_eq!(!v.unmetered.is_empty(), unmetered, "unmetered: {}", what());
    }
}

/// Prices in the query's order: all of them, or within each provider's group.
fn check_order(query: &SearchQuery, found: &[Found], grouped: bool) {
    let descending = query.sort == Some(SortOrder::PriceDesc);
    let mut providers: Vec<&str> = found.iter().map(|f| f.provider.as_str()).collect();
    providers.dedup();
    if grouped {
        let mut seen = providers.clone();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(
            seen.len(),
            providers.len(),
            "a provider's rows in two groups"
        );
    }
    for pair in found.windows(2) {
        if grouped && pair[0].provider != pair[1].provider {
            continue;
        }
        let (a, b) = (pair[0].values.price_minor, pair[1].values.price_minor);
        let ordered = if descending { a >= b } else { a <= b };
        assert!(ordered, "prices {a} then {b} for {query:?}");
    }
}

/// The rows grouped by provider in order of first appearance, as PEM + CSV and JSON send them.
fn by_provider(found: &[Found]) -> Vec<&Found> {
    let mut providers: Vec<&str> = Vec::new();
    for f in found {
        if !providers.contains(&f.provider.as_str()) {
            providers.push(&f.provider);
        }
    }
    providers
        .iter()
        .flat_map(|p| found.iter().filter(move |f| f.provider == *p))
        .collect()
}

// The search kinds by their declaration order, as the query compares them (`kind as u8`).
fn product(v: &Normalized) -> u8 {
    use marketplace::catalog::offering::ProductType as P;
    (match v.product_type {
        P::Vps => ProductType::Vps,
        P::Dedicated => ProductType::Dedicated,
        P::Cloud => ProductType::Cloud,
        P::Managed => ProductType::Managed,
    }) as u8
}

fn virtualization(v: &Normalized) -> u8 {
    use marketplace::catalog::offering::Virtualization as V;
    (match v.virtualization {
        V::None => Virtualization::None,
        V::Kvm => Virtualization::Kvm,
        V::Vmware => Virtualization::Vmware,
        V::Xen => Virtualization::Xen,
        V::HyperV => Virtualization::HyperV,
        V::OpenVz => Virtualization::OpenVz,
        V::Lxc => Virtualization::Lxc,
    }) as u8
}

fn billing(v: &Normalized) -> u8 {
    use marketplace::catalog::offering::BillingInterval as B;
    (match v.billing {
        B::Hourly => BillingInterval::Hourly,
        B::Daily => BillingInterval::Daily,
        B::Monthly => BillingInterval::Monthly,
        B::Quarterly => BillingInterval::Quarterly,
        B::Yearly => BillingInterval::Yearly,
    }) as u8
}

fn stock(v: &Normalized) -> u8 {
    use marketplace::catalog::offering::Stock as S;
    (match v.stock {
        S::InStock => Stock::InStock,
        S::Limited => Stock::Limited,
        S::OutOfStock => Stock::OutOfStock,
    }) as u8
}

/// `/search?…`: the parser, then the whole route. 200 with the search's JSON, or 400.
fn check_query_string(query_string: &str) {
    let parsed = params::search_query(query_string);
    let searched = parsed.as_ref().ok().map(|query| {
        assert_eq!(query.format, Some(Format::Json));
        check_search(query, false)
    });
    let request = HttpRequest {
        method: "GET".into(),
        url: format!("/search?{query_string}"),
        ..HttpRequest::default()
    };
    let response = http::handle(&FakeRuntime::new(), Ok(request));
    let body: serde_json::Value = serde_json::from_slice(&response.body)
        .unwrap_or_else(|e| panic!("/search?{query_string} answered invalid JSON: {e}"));
    match (response.status_code, &parsed) {
        (200, Ok(_)) => {
            let page = searched.unwrap().expect("answered 200");
            let Offerings::Json(json) = page.offerings else {
                panic!("/search not in JSON");
            };
            let offerings: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(body["offerings"], offerings);
            assert_eq!(body["next_cursor"], serde_json::json!(page.next_cursor));
        }
        (400, Err(_)) => assert!(body["error"].is_string()),
        (400, Ok(_)) => {
            let e = searched.unwrap().expect_err("answered 400");
            assert!(!matches!(
                e,
                SearchError::UnknownProvider | SearchError::UnknownOffering
            ));
        }
        (status, _) => panic!("/search?{query_string} answered {status}: {body}"),
    }
}

/// A query string asking for `query` (its filters that `/search` has).
fn query_string(query: &SearchQuery) -> String {
    let mut s = form_urlencoded_serializer();
    if let Some(text) = &query.text {
        s.push(("text", text.clone()));
    }
    if let Some(f) = &query.filters {
        if let Some(c) = &f.country {
            s.push(("country", c.clone()));
        }
        if let Some(c) = &f.city {
            s.push(("city", c.clone()));
        }
        if let Some(p) = &f.price {
            s.push(("currency", p.currency.clone()));
            let amount = |m: u64| format!("{}.{:02}", m / 100, m % 100);
            if let Some(m) = p.min_minor {
                s.push(("min_price", amount(m)));
            }
            if let Some(m) = p.max_minor {
                s.push(("max_price", amount(m)));
            }
        }
    }
    if let Some(l) = query.limit {
        s.push(("limit", l.to_string()));
    }
    if let Some(c) = &query.cursor {
        s.push(("cursor", c.clone()));
    }
    if query.sort == Some(SortOrder::PriceDesc) {
        s.push(("sort", "price_desc".into()));
    }
    s.iter()
        .map(|(k, v)| format!("{k}={}", percent(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn form_urlencoded_serializer() -> Vec<(&'static str, String)> {
    Vec::new()
}

/// Percent-encodes everything but unreserved characters.
fn percent(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A query from the catalog's own words and values (or, now and then, arbitrary text).
fn build(u: &mut Unstructured, c: &Published) -> AResult<SearchQuery> {
    let text = |u: &mut Unstructured, pool: &[String]| -> AResult<String> {
        Ok(match u.int_in_range(0..=7u8)? {
            0 => u.arbitrary::<String>()?,
            1 => {
                let s = u.choose(pool)?.clone();
                mangle(u, s)?
            }
            _ => u.choose(pool)?.clone(),
        })
    };
    let maybe = |u: &mut Unstructured| -> AResult<bool> { Ok(u.int_in_range(0..=3u8)? == 0) };
    let mut query = SearchQuery::default();
    if u.arbitrary::<bool>()? {
        let n = u.int_in_range(1..=4u8)?;
        let mut words = Vec::new();
        for _ in 0..n {
            words.push(text(u, &c.words)?);
        }
        query.text = Some(words.join(" "));
    }
    if u.arbitrary::<bool>()? {
        let mut f = Filters::default();
        if maybe(u)? {
            let cents = |u: &mut Unstructured| -> AResult<Option<u64>> {
                Ok(match u.int_in_range(0..=3u8)? {
                    0 => None,
                    1 => Some(u.arbitrary()?),
                    _ => Some(u.int_in_range(0..=50_000u64)?),
                })
            };
            f.price = Some(PriceFilter {
                currency: text(u, &c.currencies)?,
                min_minor: cents(u)?,
                max_minor: cents(u)?,
            });
        }
        if maybe(u)? {
            f.country = Some(text(u, &c.countries)?);
        }
        if maybe(u)? {
            f.city = Some(text(u, &c.cities)?);
        }
        if maybe(u)? {
            f.os = Some(text(u, &c.operating_systems)?);
        }
        if maybe(u)? {
            f.feature = Some(text(u, &c.features)?);
        }
        if maybe(u)? {
            f.product_type = Some(*u.choose(&[
                ProductType::Vps,
                ProductType::Dedicated,
                ProductType::Cloud,
                ProductType::Managed,
            ])?);
        }
        if maybe(u)? {
            f.virtualization = Some(*u.choose(&[
                Virtualization::None,
                Virtualization::Kvm,
                Virtualization::Vmware,
                Virtualization::Xen,
                Virtualization::HyperV,
                Virtualization::OpenVz,
                Virtualization::Lxc,
            ])?);
        }
        if maybe(u)? {
            f.billing = Some(*u.choose(&[
                BillingInterval::Hourly,
                BillingInterval::Daily,
                BillingInterval::Monthly,
                BillingInterval::Quarterly,
                BillingInterval::Yearly,
            ])?);
        }
        if maybe(u)? {
            f.stock = Some(*u.choose(&[Stock::InStock, Stock::Limited, Stock::OutOfStock])?);
        }
        if maybe(u)? {
            f.min_cores = Some(u.int_in_range(0..=128)?);
        }
        if maybe(u)? {
            f.min_memory_mb = Some(u.int_in_range(0..=600_000)?);
        }
        if maybe(u)? {
            f.min_ssd_gb = Some(u.int_in_range(0..=8_000)?);
        }
        if maybe(u)? {
            f.min_hdd_gb = Some(u.int_in_range(0..=40_000)?);
        }
        if maybe(u)? {
            f.gpu = Some(if u.arbitrary()? {
                GpuFilter::Present(u.arbitrary()?)
            } else if c.gpu_names.is_empty() {
                GpuFilter::Name(u.arbitrary()?)
            } else {
                GpuFilter::Name(text(u, &c.gpu_names)?)
            });
        }
        if maybe(u)? {
            f.unmetered = Some(u.arbitrary()?);
        }
        query.filters = Some(f);
    }
    if u.arbitrary()? {
        query.sort = Some(if u.arbitrary()? {
            SortOrder::PriceDesc
        } else {
            SortOrder::PriceAsc
        });
    }
    query.limit = match u.int_in_range(0..=7u8)? {
        0 => None,
        1 => Some(u.arbitrary()?),
        _ => Some(u.int_in_range(1..=12)?),
    };
    if maybe(u)? {
        query.cursor = Some(u.arbitrary()?);
    }
    query.format = match u.int_in_range(0..=3u8)? {
        0 => None,
        1 => Some(Format::Records),
        2 => Some(Format::PemCsv),
        _ => Some(Format::Json),
    };
    Ok(query)
}

/// `s` with a change: case, a part of it, spaces or accents around it.
fn mangle(u: &mut Unstructured, s: String) -> AResult<String> {
    Ok(match u.int_in_range(0..=4u8)? {
        0 => s.to_uppercase(),
        1 => format!("  {s}, "),
        2 => {
            let cut = u.int_in_range(0..=s.len())?;
            s.get(..cut).unwrap_or(&s).to_string()
        }
        3 => format!("{s}\u{301}"),
        _ => format!("{s} {}", u.arbitrary::<String>()?),
    })
}
