//! The HTTP interface: `http_request` as the IC HTTP gateway calls it, so a browser, `curl`
//! or Prometheus can read the canister without a Candid agent.
//!
//! | route | reply | certification |
//! |---|---|---|
//! | `GET /`, `GET /index.html` | the web app's page (`js/app/dist/index.html`), `Cache-Control: no-cache`, with a Content-Security-Policy | certified |
//! | `GET /assets/<name>-<hash>.<ext>`, `GET /<file>` | the app's other files, typed by extension; `/assets/` ones `immutable` for a year | certified |
//! | `GET /health` | `ok` (text/plain), or `{"status":"ok",…}` with `Accept: application/json` | none: the raw domain |
//! | `GET /metrics` | Prometheus text format 0.0.4, metrics `marketplace_*` ([`metrics`]) | none: the raw domain |
//! | `GET /search?text=…&country=…&city=…&currency=…&min_price=…&max_price=…&sort=…&limit=…&cursor=…` | `{"offerings":[…],"next_cursor":…}`: `offerings_search` with `Format::Json` ([`params`]) | none: the raw domain |
//! | `GET /offerings/<provider>/<key>` | the offering as `[{"provider_pubkey_pem":…,"server_offerings_csv":…}]`; `<provider>` is the key's 64 hex digits or its percent-encoded PEM | none: the raw domain |
//! | anything else | `{"error":"NotFound",…}`, 404 | certified |
//!
//! Errors are JSON: 404 for an unknown path (below a dynamic route, e.g. `/health/x`,
//! uncertified), 405 for a method other than GET or HEAD, 400 for a bad argument or query.
//! HEAD answers GET's status and headers, without the body unless the response is certified
//! (the gateway checks the body, and HTTP drops it on the way to the client). The argument is
//! decoded with the quota of [`crate::candid_io`]: a malformed one is a 400 response, never a
//! trap.
//!
//! Certification ([`assets`], response verification v2): a request with
//! `certificate_version = opt 2` (or higher) answered by a query gets an `IC-Certificate`
//! header from the canister's data certificate, which gateways check before serving on the
//! certified domain (`https://<canister id>.icp0.io/…`). App files and the 404 are certified
//! with their headers. The dynamic routes' bodies change with every call and are not
//! certified: gateways serve them on the raw domain (`https://<canister id>.raw.icp0.io/…`)
//! only. Skipping their certification instead would let one dishonest replica serve a page of
//! its own on the app's origin, where the app keeps keys. Without a certificate (an update call, an older gateway) the same responses come without
//! the header, for the raw domain. A 405 outside the dynamic routes, a 400 for an undecodable
//! argument, a URL gateways cannot parse and a path over 32 segments or 2 KiB (its proof
//! would grow with the square of its length) are never certified.

pub mod assets;
pub mod metrics;
pub mod params;

use crate::catalog::csv_format::write_catalog;
use crate::catalog::encode::{JsonCatalog, Offerings};
use crate::catalog::provider::ProviderKeyInput;
use crate::catalog::search::{self, OfferingGetArg, SearchError};
use crate::runtime::Runtime;
use candid::{CandidType, Deserialize};
use serde_bytes::ByteBuf;

/// A request as the HTTP gateway sends it (the gateway's `HttpRequest`).
#[derive(CandidType, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    /// The path and query string, e.g. `/search?text=epyc`.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: ByteBuf,
    pub certificate_version: Option<u16>,
}

/// A response as the HTTP gateway expects it; streaming is never used.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    pub status_code: u16,
    pub headers: Vec<(String, String)>,
    pub body: ByteBuf,
    /// Always null: every route is answered by the query.
    pub upgrade: Option<bool>,
}

const JSON: &str = "application/json; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";
/// Live values: never reuse them.
const NO_STORE: &str = "no-store";
/// Catalog reads: a stale page for a few seconds is fine.
const SHORT_CACHE: &str = "public, max-age=10";

/// Answers `request`, or a 400 when it could not be decoded.
pub fn handle(rt: &impl Runtime, request: Result<HttpRequest, String>) -> HttpResponse {
    let request = match request {
        Ok(request) => request,
        Err(message) => return error(400, "InvalidArgument", &message),
    };
    let certificate = request
        .certificate_version
        .is_some_and(|version| version >= 2)
        .then(|| rt.data_certificate())
        .flatten();
    let certificate = certificate.as_deref();
    let head = request.method.eq_ignore_ascii_case("HEAD");
    let allowed = head || request.method.eq_ignore_ascii_case("GET");
    let mut response = match (assets::target(&request.url), allowed) {
        (Some((path, false)), true) => assets::serve(&request, &path, certificate),
        (_, true) => route(rt, &request),
        (_, false) => not_allowed(),
    };
    // A certified response keeps its body: the gateway checks it against the certificate
    // (HEAD included) and HTTP drops it on the way to the client.
    let certified = response
        .headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case(assets::CERTIFICATE_HEADER_NAME));
    if head && !certified {
        response.body = ByteBuf::new();
    }
    response
}

fn not_allowed() -> HttpResponse {
    let mut response = error(405, "MethodNotAllowed", "only GET and HEAD are served");
    response.headers.push(("Allow".into(), "GET, HEAD".into()));
    response
}

fn route(rt: &impl Runtime, request: &HttpRequest) -> HttpResponse {
    let (path, query_string) = request
        .url
        .split_once('?')
        .unwrap_or((request.url.as_str(), ""));
    // Segments are decoded one by one, so an encoded "/" (a PEM's) stays inside its segment.
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        ["health"] => health(request),
        ["metrics"] => {
            let body = metrics::render(&metrics::gather(rt));
            response(200, metrics::CONTENT_TYPE, NO_STORE, body.into_bytes())
        }
        ["search"] => match params::search_query(query_string) {
            Ok(query) => search_reply(search::offerings_search(&query)),
            Err(message) => error(400, "InvalidArgument", &message),
        },
        ["offerings", provider, key] => offering(provider, key),
        _ => error(
            404,
            "NotFound",
            &format!(
                "no route for {path}; try /health, /metrics, /search or \
                 /offerings/<provider>/<key>"
            ),
        ),
    }
}

fn health(request: &HttpRequest) -> HttpResponse {
    if accepts_json(request) {
        let body = serde_json::json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
        });
        response(200, JSON, NO_STORE, body.to_string().into_bytes())
    } else {
        response(200, TEXT, NO_STORE, b"ok".to_vec())
    }
}

/// Whether an `Accept` header names JSON (no quality values are weighed).
fn accepts_json(request: &HttpRequest) -> bool {
    request.headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("accept")
            && value.split(',').any(|media| {
                let media = media.split(';').next().unwrap_or("").trim();
                media.eq_ignore_ascii_case("application/json")
            })
    })
}

fn search_reply(page: Result<search::SearchPage, SearchError>) -> HttpResponse {
    let page = match page {
        Ok(page) => page,
        Err(e) => return search_error(e),
    };
    let Offerings::Json(offerings) = page.offerings else {
        return error(500, "Internal", "the search did not answer in JSON");
    };
    // The search's own JSON text, spliced in unchanged (it is already valid JSON).
    let cursor = serde_json::to_string(&page.next_cursor).unwrap_or_else(|_| "null".into());
    let body = format!("{{\"offerings\":{offerings},\"next_cursor\":{cursor}}}");
    response(200, JSON, SHORT_CACHE, body.into_bytes())
}

fn offering(provider: &str, key: &str) -> HttpResponse {
    let provider = match crate::text::hex_array::<32>(provider) {
        Some(raw) => ProviderKeyInput::Raw(ByteBuf::from(raw.to_vec())),
        None => ProviderKeyInput::Pem(provider.to_string()),
    };
    let arg = OfferingGetArg {
        provider,
        key: key.to_string(),
    };
    let records = match search::offering_get(&arg) {
        Ok(records) => records,
        Err(e) => return search_error(e),
    };
    let catalogs: Vec<JsonCatalog> = records
        .offerings
        .iter()
        .map(|view| JsonCatalog {
            provider_pubkey_pem: records
                .providers
                .get(view.provider as usize)
                .cloned()
                .unwrap_or_default(),
            server_offerings_csv: String::from_utf8_lossy(&write_catalog([view
                .csv_row
                .as_bytes()]))
            .into_owned(),
        })
        .collect();
    let body = serde_json::to_vec(&catalogs).unwrap_or_default();
    response(200, JSON, SHORT_CACHE, body)
}

fn search_error(e: SearchError) -> HttpResponse {
    let status = match e {
        SearchError::UnknownProvider | SearchError::UnknownOffering => 404,
        SearchError::RateLimited { .. } => 429,
        _ => 400,
    };
    let (kind, message) = match &e {
        SearchError::InvalidArgument { message } => ("InvalidArgument", message.clone()),
        SearchError::InvalidKey { message } => ("InvalidKey", message.clone()),
        SearchError::QueryTooLong { max_bytes } => {
            ("QueryTooLong", format!("at most {max_bytes} bytes"))
        }
        SearchError::TooManyTerms { max } => ("TooManyTerms", format!("at most {max} words")),
        SearchError::PageSizeTooLarge { max } => ("PageSizeTooLarge", format!("limit ≤ {max}")),
        SearchError::InvalidCursor => ("InvalidCursor", "not a cursor of this query".into()),
        SearchError::UnknownProvider => ("UnknownProvider", "no such provider".into()),
        SearchError::UnknownOffering => ("UnknownOffering", "no such offering".into()),
        SearchError::RateLimited {
            retry_after_seconds,
        } => ("RateLimited", format!("retry in {retry_after_seconds} s")),
    };
    error(status, kind, &message)
}

/// `{"error": kind, "message": …}` with `status`.
fn error(status: u16, kind: &str, message: &str) -> HttpResponse {
    let body = serde_json::json!({ "error": kind, "message": message });
    response(status, JSON, NO_STORE, body.to_string().into_bytes())
}

fn response(status: u16, content_type: &str, cache: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse {
        status_code: status,
        headers: vec![
            ("Content-Type".into(), content_type.into()),
            ("Cache-Control".into(), cache.into()),
            ("X-Content-Type-Options".into(), "nosniff".into()),
        ],
        body: ByteBuf::from(body),
        upgrade: None,
    }
}

#[cfg(test)]
mod tests;
