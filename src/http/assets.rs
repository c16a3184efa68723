//! The web app (`js/app/dist/`, embedded by `build.rs`) and the certification of everything
//! `http_request` answers, as HTTP gateways verify it (response verification v2).
//!
//! [`certify`] runs at install and upgrade and builds one [`HttpCertificationTree`] on the heap,
//! whose root hash becomes the canister's certified data:
//! - every app file with its headers, through ic-asset-certification's router: `/` and
//!   `/index.html` serve `index.html`; each file also has its gzip variant, served when the
//!   request's `Accept-Encoding` allows it (and reachable itself at `<path>.gz`);
//! - a JSON 404 for every other path (a wildcard at `/`), so an unknown path verifies too.
//!
//! The dynamic routes ([`DYNAMIC_ROUTES`]) change with every call and are left uncertified, so
//! gateways serve them only on the raw domain. Skipping their certification would let one
//! dishonest replica answer them on the app's own origin with a page of its choosing, script
//! and all, which could read the keys the app keeps in the browser.
//!
//! Nothing is stored in stable memory: the tree is rebuilt from the embedded files, its cost
//! reported by `/metrics` (`marketplace_http_assets_certify_instructions`).

use super::{HttpRequest, HttpResponse};
use crate::runtime::Runtime;
use ic_asset_certification::{
    Asset, AssetCertificationError, AssetConfig, AssetEncoding, AssetRouter,
};
use ic_http_certification::utils::{build_v2_certificate_header_value, cbor_encode_to_base64};
pub use ic_http_certification::CERTIFICATE_HEADER_NAME;
use ic_http_certification::{
    DefaultCelBuilder, DefaultResponseCertification, HttpCertification, HttpCertificationPath,
    HttpCertificationTree, HttpCertificationTreeEntry, CERTIFICATE_EXPRESSION_HEADER_NAME,
};
use serde_bytes::ByteBuf;
use std::cell::RefCell;
use std::rc::Rc;

/// One file of the app, as `build.rs` embeds it.
pub struct AppFile {
    /// Relative to the app's root, `/`-separated: `index.html`, `assets/main-3FJ2KD.js`.
    pub path: &'static str,
    pub content: &'static [u8],
    /// The content gzipped, when that is smaller.
    pub gzip: Option<&'static [u8]>,
}

// `pub static APP_FILES: &[AppFile]`, sorted by path; empty in a native build without the app.
include!(concat!(env!("OUT_DIR"), "/app_files.rs"));

/// First path segments that `super::route` answers with live data, uncertified.
pub const DYNAMIC_ROUTES: [&str; 4] = ["health", "metrics", "search", "offerings"];

/// Hashed names change with their content: a browser may keep them for good.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The page (and any unhashed file) is revalidated, so an upgrade serves the new app at once.
pub const NO_CACHE: &str = "no-cache";
/// What the app may load: its own files, and the IC's API (agent-js) here or on mainnet.
pub const CSP: &str = "default-src 'self'; connect-src 'self' https://icp0.io https://*.icp0.io \
    https://icp-api.io http://localhost:* http://127.0.0.1:*; img-src 'self' data:; \
    style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'";
/// Paths past these bounds get the 404 uncertified: proving that no more specific wildcard
/// covers a path takes a witness per segment, and the router walks every parent scope, both
/// growing with the square of its length. No app file is anywhere near them.
const MAX_PATH_SEGMENTS: usize = 32;
const MAX_PATH_BYTES: usize = 2048;
const NOT_FOUND: &str =
    "no such path; try /, /health, /metrics, /search or /offerings/<provider>/<key>";

/// What [`certify`] built, for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub files: u64,
    /// The files' bytes, gzip copies left out.
    pub bytes: u64,
    /// Instructions the certification took.
    pub instructions: u64,
}

/// A response certified once at install, served with a fresh witness.
struct Fixed {
    entry: HttpCertificationTreeEntry<'static>,
    response: ic_http_certification::HttpResponse<'static>,
}

struct Certified {
    tree: Rc<RefCell<HttpCertificationTree>>,
    router: AssetRouter<'static>,
    not_found: Fixed,
    stats: Stats,
}

thread_local! {
    // Heap only, rebuilt by every install and upgrade.
    static CERTIFIED: RefCell<Option<Certified>> = const { RefCell::new(None) };
}

/// Certifies `files` and the 404, and sets the certified data to the tree's
/// root hash. Fails only on a file the router refuses: the install must not go on without it.
pub fn certify(rt: &impl Runtime, files: &'static [AppFile]) -> Result<(), String> {
    let start = rt.instructions();
    let tree = Rc::new(RefCell::new(HttpCertificationTree::default()));
    let mut router = AssetRouter::with_tree(Rc::clone(&tree));
    let mut assets = Vec::new();
    let mut configs = Vec::new();
    for file in files {
        assets.push(Asset::new(file.path, file.content));
        configs.push(config(file.path, file.gzip.is_some()));
        if let Some(gzip) = file.gzip {
            let gz_path = format!("{}.gz", file.path);
            assets.push(Asset::new(gz_path.clone(), gzip));
            configs.push(gzip_config(gz_path, cache_control(file.path)));
        }
    }
    router
        .certify_assets(assets, configs)
        .map_err(|e| format!("certifying the web app: {e}"))?;
    let not_found = not_found().map_err(|e| format!("certifying the 404: {e}"))?;
    tree.borrow_mut().insert(&not_found.entry);
    rt.set_certified_data(&router.root_hash());
    let stats = Stats {
        files: files.len() as u64,
        bytes: files.iter().map(|f| f.content.len() as u64).sum(),
        instructions: rt.instructions().saturating_sub(start),
    };
    CERTIFIED.set(Some(Certified {
        tree,
        router,
        not_found,
        stats,
    }));
    Ok(())
}

/// What the last [`certify`] built (zeros before it ran).
pub fn stats() -> Stats {
    CERTIFIED.with_borrow(|c| c.as_ref().map(|c| c.stats).unwrap_or_default())
}

/// The path of `url` as gateways look it up in the tree (percent-decoded, without the query),
/// with whether a dynamic route answers it; `None` for a URL they cannot parse either.
pub fn target(url: &str) -> Option<(String, bool)> {
    let request = ic_http_certification::HttpRequest::get(url).build();
    let path = request.get_path().ok()?;
    let first = path.split('/').find(|s| !s.is_empty());
    let dynamic = first.is_some_and(|first| DYNAMIC_ROUTES.contains(&first));
    Some((path, dynamic))
}

/// The app file at `path` (the certified 404 if there is none), certified when `certificate`
/// is given.
pub fn serve(request: &HttpRequest, path: &str, certificate: Option<&[u8]>) -> HttpResponse {
    if !provable(path) {
        return super::error(404, "NotFound", NOT_FOUND);
    }
    CERTIFIED.with_borrow(|certified| {
        // Only before install certified anything (native tests): the 404, uncertified.
        let Some(certified) = certified else {
            return super::error(404, "NotFound", NOT_FOUND);
        };
        let lookup = |headers: Vec<(String, String)>| {
            let request = ic_http_certification::HttpRequest::get(request.url.as_str())
                .with_headers(headers)
                .build();
            certified
                .router
                .serve_asset(certificate.unwrap_or_default(), &request)
        };
        let headers = router_headers(request);
        let mut served = lookup(headers.clone());
        // Only files split in chunks (over 2 MB) are served by range: any other file, or a
        // malformed `Range`, is answered whole, as HTTP allows.
        if served.is_err() && headers.iter().any(|(name, _)| is_range(name)) {
            let whole = headers.into_iter().filter(|(name, _)| !is_range(name));
            served = lookup(whole.collect());
        }
        match served {
            Ok(mut response) => {
                if certificate.is_none() {
                    let headers = response.headers_mut();
                    headers.retain(|(name, _)| !name.eq_ignore_ascii_case(CERTIFICATE_HEADER_NAME));
                }
                to_candid(&response)
            }
            Err(AssetCertificationError::NoAssetMatchingRequestUrl { .. }) => {
                let fixed = &certified.not_found;
                let mut response = to_candid(&fixed.response);
                if let Some(certificate) = certificate {
                    let header = certificate_header(certified, &fixed.entry, path, certificate);
                    response.headers.extend(header);
                }
                response
            }
            Err(e) => super::error(400, "InvalidArgument", &e.to_string()),
        }
    })
}

/// The `IC-Certificate` header proving that `entry` answers `path`.
fn certificate_header(
    certified: &Certified,
    entry: &HttpCertificationTreeEntry,
    path: &str,
    certificate: &[u8],
) -> Option<(String, String)> {
    // Fails only for a wildcard that does not cover `path`, which the callers rule out.
    let witness = certified.tree.borrow().witness(entry, path).ok()?;
    let expr_path = cbor_encode_to_base64(&entry.path.to_expr_path());
    let value = build_v2_certificate_header_value(certificate, &witness, &expr_path);
    Some((CERTIFICATE_HEADER_NAME.into(), value))
}

/// How `path` is served: its type, caching and security headers, its gzip variant.
fn config(path: &str, gzip: bool) -> AssetConfig {
    let mut headers = vec![
        ("Cache-Control".to_string(), cache_control(path).to_string()),
        ("X-Content-Type-Options".to_string(), "nosniff".to_string()),
    ];
    if path.ends_with(".html") {
        headers.push(("Content-Security-Policy".into(), CSP.into()));
        headers.push(("Referrer-Policy".into(), "no-referrer".into()));
    }
    let mut encodings = Vec::new();
    if gzip {
        // Caches keep one copy per encoding.
        headers.push(("Vary".into(), "Accept-Encoding".into()));
        encodings.push(AssetEncoding::Gzip.default_config());
    }
    AssetConfig::File {
        path: path.to_string(),
        content_type: Some(content_type(path).to_string()),
        headers,
        fallback_for: vec![],
        aliased_by: if path == "index.html" {
            vec!["/".to_string()]
        } else {
            vec![]
        },
        encodings,
    }
}

/// The router certifies every asset it is given at its own path, the gzip copies too: say
/// what they are rather than serve them untyped.
fn gzip_config(path: String, cache: &str) -> AssetConfig {
    AssetConfig::File {
        path,
        content_type: Some("application/gzip".into()),
        headers: vec![
            ("Cache-Control".into(), cache.into()),
            ("X-Content-Type-Options".into(), "nosniff".into()),
        ],
        fallback_for: vec![],
        aliased_by: vec![],
        encodings: vec![],
    }
}

fn cache_control(path: &str) -> &'static str {
    if path.starts_with("assets/") {
        IMMUTABLE
    } else {
        NO_CACHE
    }
}

/// The media type of a file by its extension.
pub fn content_type(path: &str) -> &'static str {
    let extension = path.rsplit_once('.').map_or("", |(_, e)| e);
    match extension.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" | "map" => "application/json; charset=utf-8",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The JSON 404 for every path nothing else answers, certified for a wildcard at `/`; the
/// request is not certified, so any method or query string gets it.
fn not_found() -> Result<Fixed, ic_http_certification::HttpCertificationError> {
    let expression = DefaultCelBuilder::response_only_certification()
        .with_response_certification(DefaultResponseCertification::response_header_exclusions(
            vec![],
        ))
        .build();
    let plain = super::error(404, "NotFound", NOT_FOUND);
    let mut headers = plain.headers;
    headers.push((
        CERTIFICATE_EXPRESSION_HEADER_NAME.into(),
        expression.to_string(),
    ));
    let response =
        ic_http_certification::HttpResponse::not_found(plain.body.into_vec(), headers).build();
    let certification = HttpCertification::response_only(&expression, &response, None)?;
    let entry =
        HttpCertificationTreeEntry::new(HttpCertificationPath::wildcard("/"), certification);
    Ok(Fixed { entry, response })
}

/// Whether a response for `path` can be certified at a bounded cost.
fn provable(path: &str) -> bool {
    path.len() <= MAX_PATH_BYTES && path.split('/').count() <= MAX_PATH_SEGMENTS + 1
}

/// The only request headers the router reads, rebuilt: `Accept-Encoding: gzip` when the
/// request takes gzip (by name or `*`, with q > 0; the router itself ignores q), and the first
/// `Range`. The router copies the path once per encoding token it is given, so a caller's own
/// header list, of any length, never reaches it.
fn router_headers(request: &HttpRequest) -> Vec<(String, String)> {
    let mut headers = Vec::new();
    let gzip = request
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("accept-encoding"))
        .flat_map(|(_, value)| value.split(','))
        .any(accepts_gzip);
    if gzip {
        headers.push(("Accept-Encoding".to_string(), "gzip".to_string()));
    }
    if let Some(range) = request.headers.iter().find(|(name, _)| is_range(name)) {
        headers.push(range.clone());
    }
    headers
}

/// One `Accept-Encoding` entry (`gzip`, `*;q=0.5`, `gzip;q=0`): gzip, with a weight above 0.
fn accepts_gzip(entry: &str) -> bool {
    let mut parts = entry.split(';');
    let coding = parts.next().unwrap_or("").trim();
    if !(coding.eq_ignore_ascii_case("gzip") || coding == "*") {
        return false;
    }
    parts
        .filter_map(|param| param.trim().strip_prefix("q="))
        .all(|q| q.trim().parse::<f32>().is_ok_and(|q| q > 0.0))
}

fn is_range(name: &str) -> bool {
    name.eq_ignore_ascii_case("range")
}

fn to_candid(response: &ic_http_certification::HttpResponse) -> HttpResponse {
    HttpResponse {
        status_code: response.status_code().as_u16(),
        headers: response.headers().to_vec(),
        body: ByteBuf::from(response.body().to_vec()),
        upgrade: None,
    }
}

#[cfg(test)]
mod tests;
