//! The evaluation checked against a plain reading of the same request over the offerings'
//! normalised values: every filter alone and combined, text, order, cursors.

use super::*;
use crate::catalog::index::testing::{edited, fixture, index_of, synthetic, Sample};
use crate::catalog::index::{fold, Index};
use crate::catalog::offering::Column;
use crate::catalog::search::cursor;
use crate::catalog::search::kinds::{BillingInterval, ProductType, Stock, Virtualization};
use crate::catalog::search::query::{
    check, Filters, GpuFilter, PriceFilter, SearchQuery, SortOrder,
};
use crate::catalog::text::{offering_terms, tokenize};

/// (price, provider, key) of the offerings `request` should return, in its order.
fn expected(samples: &[Vec<Sample>], request: &SearchQuery) -> Vec<(u64, u32, String)> {
    let mut found: Vec<(u64, u32, String)> = samples
        .iter()
        .enumerate()
        .flat_map(|(p, offerings)| offerings.iter().map(move |s| (p as u32, s)))
        .filter(|(_, s)| plainly_matches(s, request))
        .map(|(p, s)| (s.normalized.price_minor, p, s.key().to_string()))
        .collect();
    found.sort();
    if request.sort == Some(SortOrder::PriceDesc) {
        found.reverse();
    }
    found
}

fn plainly_matches(s: &Sample, request: &SearchQuery) -> bool {
    let n = &s.normalized;
    let terms = offering_terms(&s.offering);
    let words = request.text.as_deref().map(tokenize).unwrap_or_default();
    let f = request.filters.clone().unwrap_or_default();
    let same = |a: &str, b: &str| fold(a) == fold(b);
    let first_part = |city: &str| city.split(',').next().unwrap_or("").to_string();
    n.visible
        && words.iter().all(|w| terms.contains(w))
        && f.price.is_none_or(|p| {
            n.currency.eq_ignore_ascii_case(p.currency.as_bytes())
                && p.min_minor.is_none_or(|min| n.price_minor >= min)
                && p.max_minor.is_none_or(|max| n.price_minor <= max)
        })
        && f.country
            .is_none_or(|c| n.country.eq_ignore_ascii_case(c.as_bytes()))
        && f.city
            .is_none_or(|c| same(&first_part(&n.city), &first_part(&c)))
        && f.product_type
            .is_none_or(|k| ProductType::from(n.product_type) == k)
        && f.virtualization
            .is_none_or(|k| Virtualization::from(n.virtualization) == k)
        && f.billing
            .is_none_or(|k| BillingInterval::from(n.billing) == k)
        && f.stock.is_none_or(|k| Stock::from(n.stock) == k)
        && f.min_cores.is_none_or(|min| n.total_cores >= min)
        && f.min_memory_mb.is_none_or(|min| n.memory_mb >= min)
        && f.min_ssd_gb.is_none_or(|min| n.ssd_gb >= min)
        && f.min_hdd_gb.is_none_or(|min| n.hdd_gb >= min)
        && f.gpu.is_none_or(|gpu| {
            let name = n.gpu_name.as_deref().map(fold).unwrap_or_default();
            match gpu {
                GpuFilter::Present(present) => present != name.is_empty(),
                GpuFilter::Name(part) => !name.is_empty() && name.contains(&fold(&part)),
            }
        })
        && f.os
            .is_none_or(|os| n.operating_systems.iter().any(|o| same(o, &os)))
        && f.feature
            .is_none_or(|x| n.features.iter().any(|o| same(o, &x)))
        && f.unmetered.is_none_or(|u| u != n.unmetered.is_empty())
}

/// Every page of `request` with `limit` rows, following cursors; each page is asked twice to
/// check that it is the same.
fn walk(index: &Index, request: &SearchQuery, limit: usize) -> Vec<(u64, u32, String)> {
    let (query, _) = check(request).unwrap();
    let mut after = None;
    let mut rows = vec![];
    loop {
        let page = search(index, &query, after.as_ref(), limit);
        assert_eq!(
            page,
            search(index, &query, after.as_ref(), limit),
            "repeatable"
        );
        assert!(page.slots.len() <= limit);
        rows.extend(page.slots.iter().map(|&slot| {
            let key = sort_key(index, slot);
            (key.price, key.provider, String::from_utf8(key.key).unwrap())
        }));
        match (page.more, page.slots.last()) {
            (true, Some(&last)) => {
                // Through the cursor's text form, as a client would.
                let text = cursor::sorted(query.scope(), &sort_key(index, last));
                after = Some(cursor::parse_sorted(&text, query.scope()).unwrap());
            }
            _ => return rows,
        }
    }
}

fn filters(f: Filters) -> SearchQuery {
    SearchQuery {
        filters: Some(f),
        ..SearchQuery::default()
    }
}

fn text(text: &str) -> SearchQuery {
    SearchQuery {
        text: Some(text.into()),
        ..SearchQuery::default()
    }
}

fn requests() -> Vec<SearchQuery> {
    let price = |currency: &str, min, max| PriceFilter {
        currency: currency.into(),
        min_minor: min,
        max_minor: max,
    };
    let f = Filters::default;
    let alone = vec![
        filters(Filters {
            price: Some(price("eur", Some(2000), Some(9000))),
            ..f()
        }),
        filters(Filters {
            price: Some(price("USD", None, Some(5000))),
            ..f()
        }),
        filters(Filters {
            price: Some(price("GBP", Some(10_000), None)),
            ..f()
        }),
        filters(Filters {
            country: Some("de".into()),
            ..f()
        }),
        filters(Filters {
            city: Some("FRANKFURT".into()),
            ..f()
        }),
        filters(Filters {
            city: Some("Zurich, Switzerland".into()),
            ..f()
        }),
        filters(Filters {
            product_type: Some(ProductType::Dedicated),
            ..f()
        }),
        filters(Filters {
            virtualization: Some(Virtualization::Kvm),
            ..f()
        }),
        filters(Filters {
            billing: Some(BillingInterval::Yearly),
            ..f()
        }),
        filters(Filters {
            stock: Some(Stock::Limited),
            ..f()
        }),
        filters(Filters {
            min_cores: Some(16),
            ..f()
        }),
        filters(Filters {
            min_memory_mb: Some(64 * 1024),
            ..f()
        }),
        filters(Filters {
            min_ssd_gb: Some(1000),
            ..f()
        }),
        filters(Filters {
            min_hdd_gb: Some(1),
            ..f()
        }),
        filters(Filters {
            gpu: Some(GpuFilter::Present(true)),
            ..f()
        }),
        filters(Filters {
            gpu: Some(GpuFilter::Present(false)),
            ..f()
        }),
        filters(Filters {
            gpu: Some(GpuFilter::Name("a100".into())),
            ..f()
        }),
        filters(Filters {
            gpu: Some(GpuFilter::Name("RTX-40".into())),
            ..f()
        }),
        filters(Filters {
            os: Some("UBUNTU".into()),
            ..f()
        }),
        filters(Filters {
            os: Some("rocky-linux".into()),
            ..f()
        }),
        filters(Filters {
            feature: Some("DDoS protection".into()),
            ..f()
        }),
        filters(Filters {
            unmetered: Some(true),
            ..f()
        }),
        filters(Filters {
            unmetered: Some(false),
            ..f()
        }),
        text("xeon"),
        text("AMD EPYC"),
        text("frankfurt nvme"),
    ];
    let combined = vec![
        SearchQuery {
            text: Some("server".into()),
            filters: Some(Filters {
                price: Some(price("EUR", None, Some(20_000))),
                country: Some("NL".into()),
                min_memory_mb: Some(16 * 1024),
                ..f()
            }),
            ..SearchQuery::default()
        },
        filters(Filters {
            product_type: Some(ProductType::Vps),
            virtualization: Some(Virtualization::Kvm),
            billing: Some(BillingInterval::Monthly),
            stock: Some(Stock::InStock),
            min_cores: Some(2),
            unmetered: Some(true),
            ..f()
        }),
        filters(Filters {
            gpu: Some(GpuFilter::Present(true)),
            min_ssd_gb: Some(500),
            os: Some("Debian".into()),
            ..f()
        }),
        SearchQuery {
            text: Some("dedicated".into()),
            filters: Some(Filters {
                feature: Some("native ipv6".into()),
                min_hdd_gb: Some(1000),
                ..f()
            }),
            ..SearchQuery::default()
        },
    ];
    let everything = SearchQuery::default();
    let mut all: Vec<SearchQuery> = alone.into_iter().chain(combined).collect();
    all.push(everything);
    let descending: Vec<SearchQuery> = all
        .iter()
        .map(|r| SearchQuery {
            sort: Some(SortOrder::PriceDesc),
            ..r.clone()
        })
        .collect();
    all.extend(descending);
    all
}

#[test]
fn every_filter_alone_and_combined_matches_a_plain_reading() {
    let samples = synthetic(11, 8, 60);
    let index = index_of(&samples);
    let mut nonempty = 0;
    for request in requests() {
        let want = expected(&samples, &request);
        nonempty += usize::from(!want.is_empty() && want.len() < 480);
        for limit in [7, 200] {
            assert_eq!(
                walk(&index, &request, limit),
                want,
                "{request:?} limit {limit}"
            );
        }
    }
    // The requests are selective: most find some but not all offerings.
    assert!(nonempty >= 50, "{nonempty}");
}

#[test]
fn text_search_folds_and_needs_every_word() {
    let mut samples = fixture();
    samples.push(edited(&[
        (Column::UniqueInternalIdentifier, "ZRH1"),
        (Column::DatacenterCity, "Zürich"),
        (Column::DatacenterCountry, "CH"),
    ]));
    let index = index_of(&[samples]);
    let keys = |q: &str| -> Vec<String> {
        walk(&index, &text(q), 50)
            .into_iter()
            .map(|(_, _, key)| key)
            .collect()
    };
    assert_eq!(keys("Xeon®"), ["DC2993", "ZRH1", "QC1494", "4XQC3719"]);
    assert_eq!(keys("nl"), ["DC2993", "QC1494", "4XQC3719"]);
    assert_eq!(keys("ROTTERDAM"), ["DC2993", "QC1494", "4XQC3719"]);
    assert_eq!(keys("zurich"), ["ZRH1"]);
    assert_eq!(keys("ZÜRICH"), ["ZRH1"]);
    assert_eq!(keys("xeon windows"), ["4XQC3719"]);
    assert_eq!(keys("E5-1620"), ["DC2993", "ZRH1"]);
    assert!(keys("xeon nonexistent").is_empty());
    // The invisible offering is never found, not even by its own key.
    assert!(keys("2XQC9381").is_empty());
    assert!(walk(&index, &SearchQuery::default(), 50)
        .iter()
        .all(|r| r.2 != "2XQC9381"));
    // Punctuation only is no text at all.
    assert_eq!(keys(" ,;- ").len(), 4);
}

#[test]
fn equal_prices_order_by_provider_then_key_both_ways() {
    let at = |key: &str| {
        edited(&[
            (Column::UniqueInternalIdentifier, key),
            (Column::MonthlyPrice, "10"),
        ])
    };
    let cheap = edited(&[
        (Column::UniqueInternalIdentifier, "z"),
        (Column::MonthlyPrice, "1"),
    ]);
    let samples = vec![vec![at("b"), at("a"), cheap], vec![at("a"), at("c")]];
    let index = index_of(&samples);
    let order = |sort| -> Vec<(u32, String)> {
        let request = SearchQuery {
            sort: Some(sort),
            ..SearchQuery::default()
        };
        walk(&index, &request, 2)
            .into_iter()
            .map(|(_, p, k)| (p, k))
            .collect()
    };
    let ascending = [(0, "z"), (0, "a"), (0, "b"), (1, "a"), (1, "c")];
    let ascending: Vec<(u32, String)> =
        ascending.iter().map(|(p, k)| (*p, k.to_string())).collect();
    assert_eq!(order(SortOrder::PriceAsc), ascending);
    let mut descending = ascending;
    descending.reverse();
    assert_eq!(order(SortOrder::PriceDesc), descending);
}

#[test]
fn a_cursor_walk_returns_every_match_once_while_the_catalog_changes() {
    let samples = synthetic(12, 5, 60);
    let mut index = index_of(&samples);
    let request = filters(Filters {
        unmetered: Some(true),
        ..Filters::default()
    });
    let (query, _) = check(&request).unwrap();
    let before = expected(&samples, &request);
    let first = search(&index, &query, None, 20);
    let last = *first.slots.last().unwrap();
    let after = sort_key(&index, last);
    // Rows removed behind the cursor and elsewhere do not move the rest.
    for n in 0..30 {
        index.remove(n * 2);
    }
    let rest = search(&index, &query, Some(&after), 1000);
    let removed = |p: u32, key: &str| {
        p == 0
            && samples[0]
                .iter()
                .position(|s| s.key() == key)
                .is_some_and(|n| n % 2 == 0)
    };
    let want: Vec<_> = before[20..]
        .iter()
        .filter(|(_, p, k)| !removed(*p, k))
        .cloned()
        .collect();
    let got: Vec<_> = rest
        .slots
        .iter()
        .map(|&slot| sort_key(&index, slot))
        .map(|k| (k.price, k.provider, String::from_utf8(k.key).unwrap()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn browse_lists_visible_offerings_in_key_order() {
    let samples = vec![fixture()];
    let index = index_of(&samples);
    let keys = |after: Option<&[u8]>, invisible, limit| {
        let page = browse(&index, 0, after, invisible, limit);
        let keys: Vec<String> = page
            .slots
            .iter()
            .map(|&s| String::from_utf8(index.key(s).to_vec()).unwrap())
            .collect();
        (keys, page.more)
    };
    assert_eq!(
        keys(None, false, 10),
        (
            vec!["4XQC3719".into(), "DC2993".into(), "QC1494".into()],
            false
        )
    );
    assert_eq!(
        keys(None, true, 2),
        (vec!["2XQC9381".into(), "4XQC3719".into()], true)
    );
    assert_eq!(
        keys(Some(b"4XQC3719"), false, 1),
        (vec!["DC2993".into()], true)
    );
    assert_eq!(
        keys(Some(b"DC"), false, 5),
        (vec!["DC2993".into(), "QC1494".into()], false)
    );
    assert_eq!(keys(Some(b"ZZ"), true, 5), (vec![], false));
    assert_eq!(browse(&index, 9, None, true, 5), Matches::default());
}
