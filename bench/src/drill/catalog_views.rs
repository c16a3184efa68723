//! The catalog's views for the snapshot: searches, each provider's offerings, changes, uploads.

use super::calls::{key, uploader};
use super::views::{http_get, Views};
use super::{World, PER_PROVIDER};
use candid::Principal;
use ic0_host::Host;
use marketplace::api::*;
use marketplace::catalog::signing;
use marketplace::http::HttpResponse;

pub(super) fn catalog_views(
    host: &mut Host,
    world: &World,
    v: &mut Views,
    anyone: Principal,
    (provider_stride, format_pages): (usize, usize),
) {
    // Searches, each walked to its end: everything in each format, text, filters, descending.
    let everything = SearchQuery {
        limit: Some(200),
        ..SearchQuery::default()
    };
    let searches = [
        ("all records", everything.clone()),
        (
            "all pemcsv",
            SearchQuery {
                format: Some(Format::PemCsv),
                ..everything.clone()
            },
        ),
        (
            "all json desc",
            SearchQuery {
                format: Some(Format::Json),
                sort: Some(SortOrder::PriceDesc),
                ..everything.clone()
            },
        ),
        (
            "text xeon",
            SearchQuery {
                text: Some("xeon".into()),
                limit: Some(100),
                ..SearchQuery::default()
            },
        ),
        (
            "compound",
            SearchQuery {
                text: Some("xeon".into()),
                filters: Some(Filters {
                    price: Some(PriceFilter {
                        currency: "EUR".into(),
                        min_minor: None,
                        max_minor: Some(200_000),
                    }),
                    country: Some("DE".into()),
                    min_memory_mb: Some(16_384),
                    ..Filters::default()
                }),
                limit: Some(50),
                ..SearchQuery::default()
            },
        ),
        (
            "filters",
            SearchQuery {
                filters: Some(Filters {
                    price: Some(PriceFilter {
                        currency: "USD".into(),
                        min_minor: Some(10_000),
                        max_minor: Some(100_000),
                    }),
                    country: Some("US".into()),
                    gpu: Some(GpuFilter::Present(false)),
                    ..Filters::default()
                }),
                sort: Some(SortOrder::PriceDesc),
                limit: Some(200),
                ..SearchQuery::default()
            },
        ),
    ];
    for (label, search) in searches {
        let mut cursor = None;
        let pages = if label.starts_with("all ") && label != "all records" {
            format_pages
        } else {
            usize::MAX
        };
        for page in 0..pages {
            let reply: Result<SearchPage, SearchError> = v.typed(
                host,
                anyone,
                "offerings_search",
                format!("{label} #{page}"),
                SearchQuery {
                    cursor,
                    ..search.clone()
                },
            );
            match reply.expect("offerings_search").next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    // The same over HTTP, for the text search.
    let mut cursor: Option<String> = None;
    for page in 0.. {
        let url = match &cursor {
            None => "/search?text=xeon&limit=100".to_string(),
            Some(c) => format!("/search?text=xeon&limit=100&cursor={}", percent(c)),
        };
        let reply = v.one(
            host,
            anyone,
            "http_request",
            format!("/search #{page}"),
            http_get(&url),
        );
        let response: HttpResponse = candid::decode_one(&reply).unwrap();
        assert_eq!(
            response.status_code,
            200,
            "{url}: {}",
            String::from_utf8_lossy(&response.body)
        );
        cursor = next_cursor_of_json(&response.body);
        if cursor.is_none() {
            break;
        }
    }
    // Every provider: its offerings, its export, a sample of offerings by key (all of them in
    // a small catalog), over Candid and HTTP.
    let stride = (world.catalog.len() * PER_PROVIDER as usize / 400).max(1);
    let mut n = 0usize;
    for (index, (secret, keys)) in world.catalog.iter().enumerate() {
        let provider = key(secret);
        // Its offerings and export walked (every `provider_stride`-th provider), or none.
        let pages = if index % provider_stride == 0 {
            usize::MAX
        } else {
            0
        };
        let mut cursor = None;
        for page in 0..pages {
            let reply: Result<SearchPage, SearchError> = v.typed(
                host,
                anyone,
                "provider_offerings",
                format!("{index} #{page}"),
                ProviderOfferingsArg {
                    provider: provider.clone(),
                    cursor,
                    limit: Some(if index % 2 == 0 { 200 } else { 30 }),
                    format: None,
                },
            );
            match reply.map(|page| page.next_cursor) {
                Ok(Some(next)) => cursor = Some(next),
                _ => break,
            }
        }
        let mut cursor = None;
        for page in 0..pages {
            let reply: Result<CatalogExport, SearchError> = v.typed(
                host,
                anyone,
                "provider_catalog_export",
                format!("{index} #{page}"),
                CatalogExportArg {
                    provider: provider.clone(),
                    cursor,
                },
            );
            match reply.map(|page| page.next_cursor) {
                Ok(Some(next)) => cursor = Some(next),
                _ => break,
            }
        }
        for offering_key in keys {
            n += 1;
            if !n.is_multiple_of(stride) {
                continue;
            }
            v.one(
                host,
                anyone,
                "offering_get",
                format!("{index}/{offering_key}"),
                OfferingGetArg {
                    provider: provider.clone(),
                    key: offering_key.clone(),
                },
            );
            if n.is_multiple_of(stride * 10) {
                let hex: String = signing::provider_of(secret)
                    .as_bytes()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                let url = format!("/offerings/{hex}/{}", percent(offering_key));
                v.one(host, anyone, "http_request", url.clone(), http_get(&url));
            }
        }
    }
    // The change feed.
    let mut since = 0;
    for page in 0.. {
        let reply: Result<ChangesPage, CatalogError> = v.typed(
            host,
            anyone,
            "catalog_changes",
            format!("#{page}"),
            ChangesArg {
                since,
                limit: Some(1000),
            },
        );
        let reply = reply.expect("catalog_changes");
        if reply.changes.is_empty() {
            break;
        }
        since = reply.next;
    }
    // The upload in progress, as its uploader and as someone else; an unknown one.
    let upload = UploadRef {
        upload_id: world.upload_id,
    };
    v.one(
        host,
        uploader(),
        "catalog_upload_status",
        "uploader".into(),
        upload,
    );
    v.one(
        host,
        anyone,
        "catalog_upload_status",
        "stranger".into(),
        upload,
    );
    v.one(
        host,
        uploader(),
        "catalog_upload_status",
        "unknown".into(),
        UploadRef {
            upload_id: world.upload_id + 1,
        },
    );
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `next_cursor` of a `/search` reply (`…,"next_cursor":"…"}` or `null`).
fn next_cursor_of_json(body: &[u8]) -> Option<String> {
    let body = std::str::from_utf8(body).ok()?;
    let at = body.rfind("\"next_cursor\":")? + "\"next_cursor\":".len();
    let rest = body[at..].trim_end_matches('}');
    if rest == "null" {
        return None;
    }
    // Cursors are URL-safe text without quotes or escapes.
    Some(rest.trim_matches('"').to_string())
}
