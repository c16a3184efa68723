//! The web app through the wasm, checked as an HTTP gateway checks it: the page and every file
//! it names come with an `IC-Certificate` header that `ic-response-verification` accepts
//! against a certificate of the canister's certified data, signed by a root key as the local
//! endpoint signs it; so does the 404. `/metrics`, `/search` and `/health` carry no
//! certificate (gateways serve them on the raw domain only). All of it again after an upgrade. Whatever app the wasm embeds (the placeholder or the real
//! one) is what is checked.

mod common;

use candid::Principal;
use common::{wasm, InitArg};
use endpoint::keys::Keys;
use endpoint::state_tree::{tree_for, CanisterView, StateView};
use ic0_host::Host;
use ic_response_verification::types::VerificationInfo;
use ic_response_verification::{verify_request_response_pair, MIN_VERIFICATION_VERSION};
use marketplace::http::{HttpRequest, HttpResponse};
use serde_bytes::ByteBuf;

const SEED: [u8; 32] = [3; 32];

fn install() -> Host {
    let mut host = Host::new();
    host.install(&wasm(), &candid::encode_one(None::<InitArg>).unwrap())
        .expect("install");
    host
}

/// Gives the next queries a certificate of the canister's certified data, as the endpoint does.
fn certify_state(host: &mut Host) {
    let keys = Keys::from_seed(SEED);
    let id = host.canister_id();
    let mut view = CanisterView::new(id);
    view.certified_data = host.certified_data().to_vec();
    let state = StateView {
        time: host.time(),
        keys: &keys,
        canister_ranges: vec![(id, id)],
        canisters: vec![view],
        request_status: &|_| None,
    };
    let path = vec![
        b"canister".to_vec(),
        id.as_slice().to_vec(),
        b"certified_data".to_vec(),
    ];
    let tree = tree_for(&state, &[path]).expect("a state tree");
    host.set_data_certificate(Some(endpoint::certificate::certificate(&keys, tree)));
}

fn request(url: &str, headers: &[(&str, &str)]) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: ByteBuf::new(),
        certificate_version: Some(2),
    }
}

fn query(host: &mut Host, request: &HttpRequest) -> HttpResponse {
    let arg = candid::encode_one(request).unwrap();
    let reply = host
        .query(Principal::anonymous(), "http_request", &arg)
        .unwrap_or_else(|r| panic!("http_request was rejected: {r}"));
    candid::decode_one(&reply).expect("an HttpResponse")
}

fn header<'a>(response: &'a HttpResponse, name: &str) -> Option<&'a str> {
    let found = response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name));
    found.map(|(_, v)| v.as_str())
}

/// `url` served and verified; the verdict says what was certified (`None`: skipped).
fn verified(
    host: &mut Host,
    url: &str,
    headers: &[(&str, &str)],
) -> (HttpResponse, VerificationInfo) {
    let sent = request(url, headers);
    let response = query(host, &sent);
    assert!(
        header(&response, "ic-certificate").is_some(),
        "{url}: no IC-Certificate header: {:?}",
        response.headers
    );
    let info = verify_request_response_pair(
        ic_http_certification::HttpRequest::get(url)
            .with_headers(sent.headers.clone())
            .build(),
        ic_http_certification::HttpResponse::builder()
            .with_status_code(
                ic_http_certification::StatusCode::from_u16(response.status_code).unwrap(),
            )
            .with_headers(response.headers.clone())
            .with_body(response.body.to_vec())
            .build(),
        host.canister_id().as_slice(),
        u128::from(host.time()),
        300_000_000_000,
        &Keys::from_seed(SEED).root_key_der(),
        MIN_VERIFICATION_VERSION,
    )
    .unwrap_or_else(|e| panic!("{url} does not verify: {e}"));
    assert_eq!(info.verification_version, 2, "{url}");
    (response, info)
}

/// `url` served, certified with all it says, as a browser would get it.
fn certified(host: &mut Host, url: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let (response, info) = verified(host, url, headers);
    let certified = info.response.unwrap_or_else(|| panic!("{url}: skipped"));
    assert_eq!(certified.status_code, Some(response.status_code), "{url}");
    assert_eq!(certified.body, response.body.to_vec(), "{url}");
    for name in ["content-type", "cache-control", "content-encoding"] {
        let value = certified
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name));
        assert_eq!(
            value.map(|(_, v)| v.as_str()),
            header(&response, name),
            "{url}: {name}"
        );
    }
    response
}

/// The `/assets/…` URLs the page names in `src` and `href` attributes.
fn assets_named(page: &[u8]) -> Vec<String> {
    let page = String::from_utf8_lossy(page);
    let mut urls: Vec<String> = page
        .split(['"', '\''])
        .filter(|s| s.starts_with("/assets/"))
        .map(str::to_string)
        .collect();
    urls.sort();
    urls.dedup();
    urls
}

/// A value of `/metrics`.
fn metric(host: &mut Host, name: &str) -> f64 {
    let response = query(host, &request("/metrics", &[]));
    let text = String::from_utf8(response.body.to_vec()).unwrap();
    let line = text.lines().find(|l| l.starts_with(&format!("{name} ")));
    let value = line
        .and_then(|l| l.rsplit_once(' '))
        .map(|(_, v)| v.parse().unwrap());
    value.unwrap_or_else(|| panic!("no {name} in {text}"))
}

/// The page, each file it names (plain and gzipped), the 404 and the live routes all verify.
fn check_app(host: &mut Host) {
    certify_state(host);
    let page = certified(host, "/", &[]);
    assert_eq!(page.status_code, 200);
    assert_eq!(
        header(&page, "content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(header(&page, "cache-control"), Some("no-cache"));
    let policy = header(&page, "content-security-policy").expect("a CSP");
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert_eq!(certified(host, "/index.html", &[]).body, page.body);

    let assets = assets_named(&page.body);
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{assets:?}");
    assert!(assets.iter().any(|a| a.ends_with(".css")), "{assets:?}");
    for url in &assets {
        let plain = certified(host, url, &[]);
        assert_eq!(plain.status_code, 200, "{url}");
        assert_eq!(
            header(&plain, "cache-control"),
            Some("public, max-age=31536000, immutable"),
            "{url}"
        );
        let kind = if url.ends_with(".js") {
            "text/javascript"
        } else {
            "text/css"
        };
        assert!(
            header(&plain, "content-type").unwrap().starts_with(kind),
            "{url}"
        );
        let gzipped = certified(host, url, &[("Accept-Encoding", "gzip, deflate, br")]);
        if header(&gzipped, "content-encoding") == Some("gzip") {
            assert!(gzipped.body.starts_with(&[0x1f, 0x8b]), "{url}");
            assert!(gzipped.body.len() < plain.body.len(), "{url}");
        }
    }

    let missing = certified(host, "/no/such/page", &[]);
    assert_eq!(missing.status_code, 404);
    assert!(String::from_utf8_lossy(&missing.body).contains("NotFound"));
    let deepest = "/a".repeat(32);
    assert_eq!(certified(host, &deepest, &[]).status_code, 404);

    for url in ["/metrics", "/search?text=epyc", "/health"] {
        let response = query(host, &request(url, &[]));
        assert_eq!(response.status_code, 200, "{url}");
        assert_eq!(
            header(&response, "ic-certificate"),
            None,
            "{url}: not certified"
        );
    }
}

#[test]
fn the_app_is_served_certified_and_still_after_an_upgrade() {
    let mut host = install();
    check_app(&mut host);
    assert_eq!(host.certified_data().len(), 32);

    // The new heap builds the tree again (its shape, so its root hash, may differ: what
    // counts is that it verifies against the new certificate).
    host.upgrade(&wasm(), &candid::encode_one(None::<InitArg>).unwrap())
        .expect("upgrade");
    let upgrade = host.last_instructions();
    check_app(&mut host);

    let files = metric(&mut host, "marketplace_http_assets");
    let bytes = metric(&mut host, "marketplace_http_asset_bytes");
    let certify = metric(&mut host, "marketplace_http_assets_certify_instructions");
    assert!(files >= 3.0 && bytes > 0.0 && certify > 0.0);
    // What one query costs: the largest file the page names, and the deepest certified 404.
    let page = query(&mut host, &request("/", &[]));
    let mut largest = (0, String::new());
    for url in assets_named(&page.body) {
        let size = query(&mut host, &request(&url, &[])).body.len();
        largest = largest.max((size, url));
    }
    certify_state(&mut host);
    query(&mut host, &request(&largest.1, &[]));
    let serve = host.last_instructions();
    query(&mut host, &request(&"/a".repeat(32), &[]));
    let deepest = host.last_instructions();
    println!(
        "post_upgrade certified {files} files, {bytes} bytes, in {certify} instructions \
         ({:.0} per KB); the whole upgrade took {upgrade}; serving {} ({} bytes) took {serve}, \
         the deepest certified 404 {deepest}",
        certify / (bytes / 1024.0),
        largest.1,
        largest.0,
    );
}

#[test]
fn no_certificate_no_header_and_a_changed_body_fails() {
    let mut host = install();
    // A query without a certificate (as an update runs it) answers without the header.
    host.set_data_certificate(None);
    let response = query(&mut host, &request("/", &[]));
    assert_eq!(response.status_code, 200);
    assert_eq!(
        header(&response, "ic-certificate"),
        None,
        "no certificate, no header"
    );

    certify_state(&mut host);
    let sent = request("/", &[]);
    let mut response = query(&mut host, &sent);
    response.body = ByteBuf::from(b"<html>something else</html>".to_vec());
    let verdict = verify_request_response_pair(
        ic_http_certification::HttpRequest::get("/").build(),
        ic_http_certification::HttpResponse::builder()
            .with_status_code(ic_http_certification::StatusCode::OK)
            .with_headers(response.headers.clone())
            .with_body(response.body.to_vec())
            .build(),
        host.canister_id().as_slice(),
        u128::from(host.time()),
        300_000_000_000,
        &Keys::from_seed(SEED).root_key_der(),
        MIN_VERIFICATION_VERSION,
    );
    assert!(verdict.is_err(), "a changed body must not verify");
}
