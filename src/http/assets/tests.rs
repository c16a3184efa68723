//! The app's certified responses on synthetic files: types, caching, security headers, gzip
//! negotiation, the 404 and the uncertified dynamic routes, each checked as a gateway checks it
//! (`ic-response-verification` against a certificate signed by the local endpoint's keys).

use super::*;
use crate::http::{handle, HttpRequest, HttpResponse};
use crate::runtime::FakeRuntime;
use endpoint::keys::Keys;
use endpoint::state_tree::{tree_for, CanisterView, StateView};
use ic_response_verification::types::VerificationInfo;
use ic_response_verification::{verify_request_response_pair, MIN_VERIFICATION_VERSION};

static FILES: &[AppFile] = &[
    AppFile {
        path: "assets/app-abc123.css",
        content: b"body{margin:0}",
        gzip: None,
    },
    AppFile {
        path: "assets/app-abc123.js",
        content: b"console.log('the app, at some length to be worth compressing');",
        gzip: Some(b"\x1f\x8b pretend this is the gzip of app-abc123.js"),
    },
    AppFile {
        path: "assets/font-9XK.woff2",
        content: b"wOF2 a font",
        gzip: None,
    },
    AppFile {
        path: "favicon.svg",
        content: b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        gzip: None,
    },
    AppFile {
        path: "index.html",
        content: b"<!doctype html><title>app</title><script src=/assets/app-abc123.js></script>",
        gzip: Some(b"\x1f\x8b pretend this is the gzip of index.html"),
    },
];

const SEED: [u8; 32] = [7; 32];

fn canister() -> FakeRuntime {
    canister_with(FILES)
}

/// The canister certified with `files`, answering queries with a certificate of its data.
fn canister_with(files: &'static [AppFile]) -> FakeRuntime {
    let rt = FakeRuntime::new();
    certify(&rt, files).expect("certified");
    let keys = Keys::from_seed(SEED);
    let mut view = CanisterView::new(FakeRuntime::CANISTER_ID);
    view.certified_data = rt.certified_data.get().to_vec();
    let state = StateView {
        time: rt.time.get(),
        keys: &keys,
        canister_ranges: vec![(FakeRuntime::CANISTER_ID, FakeRuntime::CANISTER_ID)],
        canisters: vec![view],
        request_status: &|_| None,
    };
    let path = vec![
        b"canister".to_vec(),
        FakeRuntime::CANISTER_ID.as_slice().to_vec(),
        b"certified_data".to_vec(),
    ];
    let tree = tree_for(&state, &[path]).expect("a state tree");
    *rt.data_certificate.borrow_mut() = Some(endpoint::certificate::certificate(&keys, tree));
    rt.replicated.set(false);
    rt
}

fn request(url: &str, headers: &[(&str, &str)]) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        certificate_version: Some(2),
        ..HttpRequest::default()
    }
}

fn get(rt: &FakeRuntime, url: &str, headers: &[(&str, &str)]) -> (HttpRequest, HttpResponse) {
    let request = request(url, headers);
    (request.clone(), handle(rt, Ok(request)))
}

fn header<'a>(response: &'a HttpResponse, name: &str) -> Option<&'a str> {
    let found = response
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name));
    found.map(|(_, v)| v.as_str())
}

/// The gateway's verdict on the pair, which must verify.
fn verify(rt: &FakeRuntime, request: &HttpRequest, response: &HttpResponse) -> VerificationInfo {
    verdict(rt, request, response).expect("the response verifies")
}

/// The gateway's verdict on the pair.
fn verdict(
    rt: &FakeRuntime,
    request: &HttpRequest,
    response: &HttpResponse,
) -> Result<VerificationInfo, String> {
    let request = ic_http_certification::HttpRequest::get(request.url.as_str())
        .with_headers(request.headers.clone())
        .build();
    let status = ic_http_certification::StatusCode::from_u16(response.status_code).unwrap();
    let response = ic_http_certification::HttpResponse::builder()
        .with_status_code(status)
        .with_headers(response.headers.clone())
        .with_body(response.body.to_vec())
        .build();
    verify_request_response_pair(
        request,
        response,
        FakeRuntime::CANISTER_ID.as_slice(),
        u128::from(rt.time.get()),
        300_000_000_000,
        &Keys::from_seed(SEED).root_key_der(),
        MIN_VERIFICATION_VERSION,
    )
    .map_err(|e| e.to_string())
}

/// Serves `url`, checks it verifies with all its headers certified, returns it.
fn certified(rt: &FakeRuntime, url: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let (request, response) = get(rt, url, headers);
    let info = verify(rt, &request, &response);
    assert_eq!(info.verification_version, 2);
    let verified = info.response.expect("certified, not skipped");
    assert_eq!(verified.status_code, Some(response.status_code));
    assert_eq!(verified.body, response.body.to_vec());
    for name in ["content-type", "cache-control", "content-encoding"] {
        let certified = verified
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name));
        assert_eq!(
            certified.map(|(_, v)| v.as_str()),
            header(&response, name),
            "{url} {name}"
        );
    }
    response
}

#[test]
fn the_page_is_served_at_root_and_by_name_uncached_with_its_policy() {
    let rt = canister();
    for url in ["/", "/index.html", "/?utm=1"] {
        let response = certified(&rt, url, &[]);
        assert_eq!(response.status_code, 200, "{url}");
        assert_eq!(&response.body[..], FILES[4].content, "{url}");
        assert_eq!(
            header(&response, "content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(header(&response, "cache-control"), Some("no-cache"));
        assert_eq!(header(&response, "content-security-policy"), Some(CSP));
        assert_eq!(header(&response, "referrer-policy"), Some("no-referrer"));
        assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
        assert_eq!(header(&response, "content-encoding"), None);
    }
    assert!(CSP.contains("connect-src 'self' https://icp0.io https://*.icp0.io"));
    assert!(CSP.contains("frame-ancestors 'none'"));
}

#[test]
fn files_are_typed_by_extension_and_hashed_ones_immutable() {
    let rt = canister();
    let expected = [
        (
            "/assets/app-abc123.css",
            "text/css; charset=utf-8",
            IMMUTABLE,
        ),
        (
            "/assets/app-abc123.js",
            "text/javascript; charset=utf-8",
            IMMUTABLE,
        ),
        ("/assets/font-9XK.woff2", "font/woff2", IMMUTABLE),
        ("/favicon.svg", "image/svg+xml", NO_CACHE),
    ];
    for (url, content_type, cache) in expected {
        let response = certified(&rt, url, &[]);
        assert_eq!(response.status_code, 200, "{url}");
        assert_eq!(
            header(&response, "content-type"),
            Some(content_type),
            "{url}"
        );
        assert_eq!(header(&response, "cache-control"), Some(cache), "{url}");
        assert_eq!(header(&response, "content-security-policy"), None, "{url}");
    }
    for (path, expected) in [
        ("a.png", "image/png"),
        ("a.json", "application/json; charset=utf-8"),
        ("a.js.map", "application/json; charset=utf-8"),
        ("favicon.ico", "image/x-icon"),
        ("robots.txt", "text/plain; charset=utf-8"),
        ("a.mjs", "text/javascript; charset=utf-8"),
        ("INDEX.HTML", "text/html; charset=utf-8"),
        ("LICENSE", "application/octet-stream"),
    ] {
        assert_eq!(content_type(path), expected, "{path}");
    }
}

#[test]
fn gzip_is_served_when_the_request_accepts_it() {
    let rt = canister();
    let js = "/assets/app-abc123.js";
    for accept in ["gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8, *;q=0.1"] {
        let response = certified(&rt, js, &[("Accept-Encoding", accept)]);
        assert_eq!(
            header(&response, "content-encoding"),
            Some("gzip"),
            "{accept}"
        );
        assert_eq!(Some(&response.body[..]), FILES[1].gzip, "{accept}");
        assert_eq!(header(&response, "vary"), Some("Accept-Encoding"));
    }
    for accept in [None, Some("identity"), Some("br")] {
        let headers: Vec<_> = accept.map(|a| ("Accept-Encoding", a)).into_iter().collect();
        let response = certified(&rt, js, &headers);
        assert_eq!(header(&response, "content-encoding"), None, "{accept:?}");
        assert_eq!(&response.body[..], FILES[1].content, "{accept:?}");
    }
    // The page too, under both its names; a file without a gzip copy is served as it is.
    let page = certified(&rt, "/", &[("Accept-Encoding", "gzip")]);
    assert_eq!(Some(&page.body[..]), FILES[4].gzip);
    let css = certified(
        &rt,
        "/assets/app-abc123.css",
        &[("Accept-Encoding", "gzip")],
    );
    assert_eq!(header(&css, "content-encoding"), None);
    // The copy is reachable by its own name, typed as what it is.
    let copy = certified(&rt, "/assets/app-abc123.js.gz", &[]);
    assert_eq!(header(&copy, "content-type"), Some("application/gzip"));
}

#[test]
fn unknown_paths_get_a_certified_json_404() {
    let rt = canister();
    for url in [
        "/nowhere",
        "/assets/gone-000.js",
        "/index.html/",
        "/a/b/c?x=1",
        "/healthz",
    ] {
        let response = certified(&rt, url, &[]);
        assert_eq!(response.status_code, 404, "{url}");
        assert_eq!(header(&response, "content-type"), Some(super::super::JSON));
        let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["error"], "NotFound", "{url}");
    }
}

#[test]
fn dynamic_routes_are_not_certified_so_gateways_refuse_them_on_the_apps_origin() {
    let rt = canister();
    for (url, status) in [
        ("/health", 200),
        ("/health/", 200),
        ("/metrics", 200),
        ("/search?text=epyc", 200),
        ("/offerings/00/key", 400),
        ("/health/extra", 404),
    ] {
        let (request, response) = get(&rt, url, &[]);
        assert_eq!(response.status_code, status, "{url}: {response:?}");
        assert_eq!(header(&response, "ic-certificate"), None, "{url}");
        assert_eq!(header(&response, CERTIFICATE_EXPRESSION_HEADER_NAME), None);
        assert!(
            verdict(&rt, &request, &response).is_err(),
            "{url}: a gateway must not serve it on the certified domain"
        );
    }
    let mut post = request("/metrics", &[]);
    post.method = "POST".into();
    let response = handle(&rt, Ok(post));
    assert_eq!(response.status_code, 405);
    assert_eq!(header(&response, "ic-certificate"), None);
    // A live /metrics says what certifying cost.
    let stats = stats();
    assert_eq!(
        (stats.files, stats.bytes),
        (5, FILES.iter().map(|f| f.content.len() as u64).sum())
    );
}

#[test]
fn accept_encoding_weights_are_honoured_and_any_length_is_cheap() {
    let rt = canister();
    let gzip = |value: &str| {
        let response = certified(&rt, "/assets/app-abc123.js", &[("Accept-Encoding", value)]);
        header(&response, "content-encoding") == Some("gzip")
    };
    assert!(gzip("gzip"));
    assert!(gzip("br, GZIP;q=0.5"));
    assert!(gzip("*"));
    assert!(!gzip("gzip;q=0"));
    assert!(!gzip("gzip;q=0.000, br"));
    assert!(!gzip("identity"));
    // The router would copy the path once per entry; it sees one entry whatever is sent.
    let many = "x, ".repeat(200_000) + "gzip";
    assert!(gzip(&many));
    let (_, response) = get(
        &rt,
        &"/a".repeat(MAX_PATH_SEGMENTS),
        &[("Accept-Encoding", &many)],
    );
    assert_eq!(response.status_code, 404);
}

#[test]
fn without_a_certificate_or_v2_no_certificate_header_is_added() {
    let rt = canister();
    let mut plain = request("/", &[]);
    plain.certificate_version = None;
    let response = handle(&rt, Ok(plain.clone()));
    assert_eq!(response.status_code, 200);
    assert_eq!(header(&response, "ic-certificate"), None);
    plain.url = "/metrics".into();
    let response = handle(&rt, Ok(plain));
    assert_eq!(header(&response, "ic-certificate"), None);
    assert_eq!(header(&response, CERTIFICATE_EXPRESSION_HEADER_NAME), None);
    // Run as an update (replicated), a query has no data certificate.
    rt.replicated.set(true);
    let (_, response) = get(&rt, "/nowhere", &[]);
    assert_eq!(response.status_code, 404);
    assert_eq!(header(&response, "ic-certificate"), None);
}

#[test]
fn head_answers_the_headers_and_keeps_a_certified_body() {
    let rt = canister();
    let mut head = request("/assets/app-abc123.js", &[]);
    head.method = "HEAD".into();
    let response = handle(&rt, Ok(head.clone()));
    assert_eq!(response.status_code, 200);
    // Certified: the body stays for the gateway to check (HTTP drops it on the way out).
    assert_eq!(&response.body[..], FILES[1].content);
    verify(&rt, &head, &response);
    let length = FILES[1].content.len().to_string();
    assert_eq!(header(&response, "content-length"), Some(length.as_str()));
    // Uncertified: no body at all.
    head.url = "/health".into();
    let response = handle(&rt, Ok(head));
    assert_eq!(response.status_code, 200);
    assert!(response.body.is_empty());
}

#[test]
fn a_range_request_for_a_small_file_gets_it_whole_even_malformed() {
    let rt = canister();
    for range in ["bytes=0-", "bytes=5-9", "pages=1"] {
        let response = certified(&rt, "/favicon.svg", &[("Range", range)]);
        assert_eq!(response.status_code, 200, "{range}");
        assert_eq!(&response.body[..], FILES[3].content, "{range}");
    }
}

#[test]
fn certifying_sets_the_tree_root_as_certified_data_and_no_app_still_serves() {
    let rt = FakeRuntime::new();
    certify(&rt, &[]).expect("certified");
    let empty = rt.certified_data.get();
    assert_ne!(empty, [0; 32]);
    certify(&rt, FILES).expect("certified");
    assert_ne!(rt.certified_data.get(), empty, "the files are in the tree");
    // With no app at all, `/` is the certified 404 and the dynamic routes still answer.
    let rt = canister_with(&[]);
    assert_eq!(certified(&rt, "/", &[]).status_code, 404);
    let (_, health) = get(&rt, "/health", &[]);
    assert_eq!(health.status_code, 200);
}

#[test]
fn absurdly_deep_or_long_paths_get_the_404_uncertified() {
    let rt = canister();
    let deep = "/a".repeat(MAX_PATH_SEGMENTS);
    assert_eq!(certified(&rt, &deep, &[]).status_code, 404);
    for url in [
        "/a".repeat(MAX_PATH_SEGMENTS + 1),
        "/a".repeat(30_000),
        format!("/{}", "x".repeat(MAX_PATH_BYTES)),
    ] {
        let (_, response) = get(&rt, &url, &[]);
        assert_eq!(response.status_code, 404);
        assert_eq!(header(&response, "ic-certificate"), None);
        // Below a dynamic route too: its own answer, without the certificate.
        let (_, response) = get(&rt, &format!("/health{url}"), &[]);
        assert_eq!(response.status_code, 404);
        assert_eq!(header(&response, "ic-certificate"), None);
    }
}
