//! The gateway's routing, its verification of certified responses built the way canisters
//! build them (v1 by hand, v2 with ic-http-certification), and how requests and rejects are
//! translated. Tests that need a replica are in `gateway_replica_tests.rs`.

use super::canister::{self, HttpRequest, HttpResponse};
use super::*;
use crate::keys::Keys;
use crate::state_tree::{self, CanisterView, StateView};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use http_body_util::BodyExt;
use ic_certification::hash_tree::{label, leaf};
use ic_certification::HashTree;
use ic_http_certification::{
    utils::add_v2_certificate_header, DefaultCelBuilder, DefaultResponseCertification,
    HttpCertification, HttpCertificationPath, HttpCertificationTree, HttpCertificationTreeEntry,
    CERTIFICATE_EXPRESSION_HEADER_NAME,
};
use serde_bytes::ByteBuf;
use sha2::{Digest, Sha256};

pub(super) const NOW: u64 = 1_767_225_600_000_000_000;

pub(super) fn canister_id() -> Principal {
    Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
}

pub(super) fn keys() -> Keys {
    Keys::from_seed([7; 32])
}

fn uri(text: &str) -> Uri {
    text.parse().expect("a test URI")
}

fn target_of(host: Option<&str>, path: &str) -> Option<Result<Target, String>> {
    target(host, &uri(path))
}

#[test]
fn routes_by_host_or_canister_id_parameter() {
    let id = canister_id();
    let certified = Target {
        canister: id,
        raw: false,
    };
    let raw = Target {
        canister: id,
        raw: true,
    };
    let host = format!("{id}.localhost:4943");
    assert_eq!(target_of(Some(&host), "/metrics"), Some(Ok(certified)));
    let raw_host = format!("{id}.raw.localhost");
    assert_eq!(target_of(Some(&raw_host), "/a/b?c=d"), Some(Ok(raw)));
    let query = format!("/metrics?x=1&canisterId={id}");
    assert_eq!(
        target_of(Some("127.0.0.1:8000"), &query),
        Some(Ok(certified))
    );
    assert_eq!(target_of(Some("localhost"), &query), Some(Ok(certified)));
    assert_eq!(target_of(Some("raw.localhost:80"), &query), Some(Ok(raw)));
    // The host's canister wins over the parameter's.
    let other = Principal::from_slice(&[9; 10]);
    let both = format!("/?canisterId={other}");
    assert_eq!(target_of(Some(&host), &both), Some(Ok(certified)));
}

#[test]
fn leaves_the_api_and_unnamed_requests_alone() {
    let host = format!("{}.localhost", canister_id());
    assert_eq!(target_of(Some(&host), "/api/v2/status"), None);
    assert_eq!(target_of(Some(&host), "/_/advance_time"), None);
    assert_eq!(target_of(Some("127.0.0.1:8000"), "/metrics"), None);
    assert_eq!(target_of(None, "/metrics"), None);
    assert_eq!(target_of(Some("notlocalhost"), "/metrics"), None);
}

#[test]
fn a_name_that_is_no_canister_id_is_an_error() {
    assert!(matches!(
        target_of(Some("nope.localhost"), "/"),
        Some(Err(_))
    ));
    assert!(matches!(
        target_of(Some("a.b.c.localhost"), "/"),
        Some(Err(_))
    ));
    assert!(matches!(target_of(None, "/?canisterId=nope"), Some(Err(_))));
}

pub(super) fn get(url: &str) -> HttpRequest {
    HttpRequest {
        method: "GET".into(),
        url: url.into(),
        headers: vec![],
        body: ByteBuf::new(),
        certificate_version: Some(CERTIFICATE_VERSION),
    }
}

pub(super) fn ok(headers: Vec<(String, String)>, body: &[u8]) -> HttpResponse {
    HttpResponse {
        status_code: 200,
        headers,
        body: ByteBuf::from(body.to_vec()),
        upgrade: None,
    }
}

/// A data certificate of `certified_data` at `time`, as the replica gives queries.
fn data_certificate(keys: &Keys, certified_data: &[u8], time: u64) -> Vec<u8> {
    let mut canister = CanisterView::new(canister_id());
    canister.certified_data = certified_data.to_vec();
    let view = StateView {
        time,
        keys,
        canister_ranges: vec![(canister_id(), canister_id())],
        canisters: vec![canister],
        request_status: &|_| None,
    };
    let path = vec![
        b"canister".to_vec(),
        canister_id().as_slice().to_vec(),
        b"certified_data".to_vec(),
    ];
    let tree = state_tree::tree_for(&view, &[path]).expect("a canister path");
    crate::certificate::certificate(keys, tree)
}

fn self_describing_cbor(tree: &HashTree) -> Vec<u8> {
    let mut serializer = serde_cbor::Serializer::new(Vec::new());
    serializer.self_describe().expect("in memory");
    serde::Serialize::serialize(tree, &mut serializer).expect("in memory");
    serializer.into_inner()
}

/// A v1-certified response: `http_assets/<path>` → sha256(body), the tree's digest as the
/// certified data, both in the `IC-Certificate` header.
fn v1_response(keys: &Keys, path: &str, body: &[u8], time: u64) -> HttpResponse {
    let tree = v1_tree(path, body);
    let certificate = data_certificate(keys, &tree.digest(), time);
    v1_certified(&tree, &certificate, body)
}

/// The v1 asset tree certifying `body` at `path`; its digest is the canister's certified data.
pub(super) fn v1_tree(path: &str, body: &[u8]) -> HashTree {
    let hash: [u8; 32] = Sha256::digest(body).into();
    label(
        "http_assets",
        label(path.as_bytes().to_vec(), leaf(hash.to_vec())),
    )
}

/// `body` with the `IC-Certificate` header of `tree` under the data certificate `certificate`.
pub(super) fn v1_certified(tree: &HashTree, certificate: &[u8], body: &[u8]) -> HttpResponse {
    let header = format!(
        "certificate=:{}:, tree=:{}:",
        BASE64.encode(certificate),
        BASE64.encode(self_describing_cbor(tree))
    );
    ok(
        vec![
            ("IC-Certificate".into(), header),
            ("Content-Type".into(), "text/plain".into()),
            ("Cache-Control".into(), "max-age=9999".into()),
        ],
        body,
    )
}

async fn body_of(response: Response) -> Vec<u8> {
    response
        .into_body()
        .collect()
        .await
        .expect("a full body")
        .to_bytes()
        .to_vec()
}

#[tokio::test]
async fn accepts_a_v1_certified_body_and_refuses_a_tampered_one() {
    let keys = keys();
    let root = keys.root_key_der();
    let response = v1_response(&keys, "/metrics", b"up 1\n", NOW);
    let served = verify::verified(&get("/metrics"), &response, canister_id(), &root, NOW)
        .expect("a certified response");
    assert_eq!(served.status(), StatusCode::OK);
    // v1 certifies no headers: Cache-Control is dropped, as ic-http-gateway drops it.
    assert!(served.headers().get("cache-control").is_none());
    assert_eq!(served.headers()["content-type"], "text/plain");
    assert_eq!(body_of(served).await, b"up 1\n");

    let mut tampered = response.clone();
    tampered.body = ByteBuf::from(b"up 0\n".to_vec());
    let refused = verify::verified(&get("/metrics"), &tampered, canister_id(), &root, NOW)
        .expect_err("a tampered body");
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
    let message = refused.message.clone();
    assert!(
        message.starts_with("Response verification failed"),
        "{message}"
    );

    // Certified for another path, or by another root key, or long ago: refused too.
    let other_path = verify::verify(&get("/health"), &response, canister_id(), &root, NOW);
    assert!(other_path.is_err());
    let stranger = Keys::from_seed([8; 32]).root_key_der();
    assert!(verify::verify(&get("/metrics"), &response, canister_id(), &stranger, NOW).is_err());
    let later = NOW + 10 * 60 * 1_000_000_000;
    assert!(verify::verify(&get("/metrics"), &response, canister_id(), &root, later).is_err());
}

/// A v2 response certified as ic-http-certification's users certify them: a response-only
/// CEL expression over `Content-Type`, an exact path in the certification tree.
fn v2_response(keys: &Keys, body: &[u8]) -> HttpResponse {
    let cel = DefaultCelBuilder::response_only_certification()
        .with_response_certification(DefaultResponseCertification::certified_response_headers(
            vec!["Content-Type"],
        ))
        .build();
    let headers = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        (
            CERTIFICATE_EXPRESSION_HEADER_NAME.to_string(),
            cel.to_string(),
        ),
    ];
    let mut response = ic_http_certification::HttpResponse::ok(body.to_vec(), headers).build();
    let certification = HttpCertification::response_only(&cel, &response, None).unwrap();
    let entry =
        HttpCertificationTreeEntry::new(HttpCertificationPath::exact("/offerings"), certification);
    let mut tree = HttpCertificationTree::default();
    tree.insert(&entry);
    let witness = tree.witness(&entry, "/offerings").unwrap();
    let certificate = data_certificate(keys, &tree.root_hash(), NOW);
    add_v2_certificate_header(
        &certificate,
        &mut response,
        &witness,
        &entry.path.to_expr_path(),
    );
    let mut headers = response.headers().to_vec();
    headers.push(("X-Uncertified".into(), "injected".into()));
    ok(headers, body)
}

#[tokio::test]
async fn accepts_a_v2_certified_response_with_its_certified_headers_only() {
    let keys = keys();
    let root = keys.root_key_der();
    let response = v2_response(&keys, b"[]");
    let request = get("/offerings");
    let info = verify::verify(&request, &response, canister_id(), &root, NOW).unwrap();
    assert_eq!(info.verification_version, 2);
    let served = verify::verified(&request, &response, canister_id(), &root, NOW).unwrap();
    assert_eq!(served.headers()["content-type"], "application/json");
    assert!(served.headers().get("x-uncertified").is_none());
    assert_eq!(body_of(served).await, b"[]");

    let mut tampered = response;
    tampered.body = ByteBuf::from(b"[1]".to_vec());
    let refused = verify::verified(&request, &tampered, canister_id(), &root, NOW).unwrap_err();
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[test]
fn a_certified_skip_passes_and_no_certification_fails() {
    let keys = keys();
    let root = keys.root_key_der();
    let cel = DefaultCelBuilder::skip_certification();
    let entry = HttpCertificationTreeEntry::new(
        HttpCertificationPath::exact("/metrics"),
        HttpCertification::skip(),
    );
    let mut tree = HttpCertificationTree::default();
    tree.insert(&entry);
    let mut response = ic_http_certification::HttpResponse::ok(
        b"up 1\n".to_vec(),
        vec![(
            CERTIFICATE_EXPRESSION_HEADER_NAME.to_string(),
            cel.to_string(),
        )],
    )
    .build();
    let certificate = data_certificate(&keys, &tree.root_hash(), NOW);
    let witness = tree.witness(&entry, "/metrics").unwrap();
    add_v2_certificate_header(
        &certificate,
        &mut response,
        &witness,
        &entry.path.to_expr_path(),
    );
    let skipped = ok(response.headers().to_vec(), b"up 1\n");
    let info = verify::verify(&get("/metrics"), &skipped, canister_id(), &root, NOW).unwrap();
    assert!(info.response.is_none(), "a skip certifies no response");

    // What the marketplace answers today: no IC-Certificate header at all.
    let plain = ok(
        vec![("Content-Type".into(), "text/plain".into())],
        b"up 1\n",
    );
    let error = verify::verify(&get("/metrics"), &plain, canister_id(), &root, NOW).unwrap_err();
    assert!(error.to_lowercase().contains("certificat"), "{error}");
}

#[test]
fn unverified_serves_every_header_but_framing() {
    let mut response = ok(
        vec![
            ("Content-Length".into(), "999".into()),
            ("X-A".into(), "1".into()),
        ],
        b"body",
    );
    response.status_code = 418;
    let served = verify::unverified(&response).unwrap();
    assert_eq!(served.status().as_u16(), 418);
    assert_eq!(served.headers()["x-a"], "1");
    assert!(served.headers().get("content-length").is_none());
    response.status_code = 1000;
    let refused = verify::unverified(&response).unwrap_err();
    assert_eq!(refused.status, StatusCode::BAD_GATEWAY);
}

#[tokio::test]
async fn rejects_become_404_or_502() {
    use ic0_host::{Reject, RejectCode};
    let missing = canister::reject(Reject::new(
        RejectCode::DestinationInvalid,
        "no such method",
    ));
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let trapped = canister::reject(Reject::new(RejectCode::CanisterError, "trapped"));
    assert_eq!(trapped.status, StatusCode::BAD_GATEWAY);
    let message = trapped.message.clone();
    assert!(message.contains("trapped"), "{message}");
}

#[test]
fn headers_go_to_the_canister_as_ic_http_gateway_sends_them() {
    let request = hyper::Request::builder()
        .uri("/search?text=epyc")
        .header("Accept-Encoding", "gzip")
        .header("X-Request-Id", "abc")
        .header("Accept", "text/plain")
        .body(())
        .unwrap();
    let (parts, ()) = request.into_parts();
    let sent = canister::to_canister_request(&parts, b"x".to_vec()).unwrap();
    assert_eq!(sent.url, "/search?text=epyc");
    assert_eq!(sent.certificate_version, Some(2));
    assert_eq!(
        sent.headers,
        vec![
            ("accept-encoding".to_string(), "gzip, identity".to_string()),
            ("accept".to_string(), "text/plain".to_string()),
        ]
    );
}
