//! What the IC refuses, `mkt serve` refuses the same way: the IC's HTTP status and a plain-text
//! reason, never a crash or a hang; after every bad request the endpoint still answers.

#[path = "serve/served.rs"]
mod served;

use candid::{Encode, Principal};
use ic_agent::identity::{AnonymousIdentity, BasicIdentity};
use ic_agent::Identity;
use ic_transport_types::{Envelope, EnvelopeContent};
use served::{now_nanos, Served};
use std::borrow::Cow;

const MINUTE: u64 = 60_000_000_000;

fn query_content(sender: Principal, canister: Principal, expiry: u64) -> EnvelopeContent {
    EnvelopeContent::Query {
        ingress_expiry: expiry,
        sender,
        canister_id: canister,
        method_name: "status".into(),
        arg: Encode!().expect("encode"),
        nonce: None,
        sender_info: None,
    }
}

fn signed(identity: &dyn Identity, content: EnvelopeContent) -> Envelope<'static> {
    let signature = identity.sign(&content).expect("signs");
    Envelope {
        content: Cow::Owned(content),
        sender_pubkey: signature.public_key,
        sender_sig: signature.signature,
        sender_delegation: signature.delegations,
    }
}

struct Client {
    http: reqwest::blocking::Client,
    url: String,
}

impl Client {
    fn post(&self, path: &str, body: Vec<u8>) -> (u16, String) {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/cbor")
            .body(body)
            .send()
            .expect("the endpoint answers");
        let status = response.status().as_u16();
        (status, response.text().unwrap_or_default())
    }

    fn get(&self, path: &str) -> u16 {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .expect("the endpoint answers")
            .status()
            .as_u16()
    }
}

#[test]
fn bad_requests_get_the_ics_status_codes() {
    let served = Served::start(&[]);
    let canister = served.canister;
    let client = Client {
        http: reqwest::blocking::Client::new(),
        url: served.url.clone(),
    };
    let query = format!("/api/v3/canister/{canister}/query");
    let anonymous = Principal::anonymous();
    let good = || {
        signed(
            &AnonymousIdentity,
            query_content(anonymous, canister, now_nanos() + MINUTE),
        )
    };

    let (status, _) = client.post(&query, good().encode_bytes());
    assert_eq!(status, 200, "a good query is answered");
    let key = BasicIdentity::from_raw_key(&[6; 32]);
    let sender = key.sender().expect("sender");

    let cases: Vec<(&str, String, Vec<u8>, u16)> = vec![
        ("garbage", query.clone(), b"\xff\x00not cbor".to_vec(), 400),
        ("empty body", query.clone(), vec![], 400),
        // The IC checks the expiry of signed queries (anonymous ones may be served from caches).
        (
            "expired",
            query.clone(),
            signed(
                &key,
                query_content(sender, canister, now_nanos() - 10 * MINUTE),
            )
            .encode_bytes(),
            400,
        ),
        (
            "too far in the future",
            query.clone(),
            signed(
                &key,
                query_content(sender, canister, now_nanos() + 60 * MINUTE),
            )
            .encode_bytes(),
            400,
        ),
        (
            "wrong signature",
            query.clone(),
            {
                let identity = BasicIdentity::from_raw_key(&[6; 32]);
                let sender = identity.sender().expect("sender");
                let mut envelope = signed(
                    &identity,
                    query_content(sender, canister, now_nanos() + MINUTE),
                );
                if let Some(sig) = envelope.sender_sig.as_mut() {
                    sig[0] ^= 1;
                }
                envelope.encode_bytes()
            },
            400,
        ),
        (
            "sender not the key's principal",
            query.clone(),
            {
                let identity = BasicIdentity::from_raw_key(&[6; 32]);
                let other = BasicIdentity::from_raw_key(&[7; 32])
                    .sender()
                    .expect("sender");
                signed(
                    &identity,
                    query_content(other, canister, now_nanos() + MINUTE),
                )
                .encode_bytes()
            },
            400,
        ),
        (
            "another canister in the content",
            query.clone(),
            signed(
                &AnonymousIdentity,
                query_content(
                    anonymous,
                    Principal::from_slice(&[9; 10]),
                    now_nanos() + MINUTE,
                ),
            )
            .encode_bytes(),
            400,
        ),
        (
            "a query sent to the call route",
            format!("/api/v4/canister/{canister}/call"),
            good().encode_bytes(),
            400,
        ),
        (
            "an unknown canister",
            format!("/api/v3/canister/{}/query", Principal::from_slice(&[9; 10])),
            good().encode_bytes(),
            400,
        ),
        (
            "not a principal",
            "/api/v3/canister/not-a-principal/query".into(),
            good().encode_bytes(),
            400,
        ),
        ("an unknown route", "/api/v9/whatever".into(), vec![], 404),
        ("too large", query.clone(), vec![0; 6 * 1024 * 1024], 413),
    ];
    for (what, path, body, expected) in cases {
        let (status, message) = client.post(&path, body);
        assert_eq!(status, expected, "{what}: {message}");
        assert!(
            !message.is_empty() || expected == 404,
            "{what}: a reason is given"
        );
    }
    assert_eq!(
        client.get(&format!("/api/v4/canister/{canister}/call")),
        405
    );
    assert_eq!(client.get("/api/v2/status"), 200, "still serving");
    let (status, _) = client.post(&query, good().encode_bytes());
    assert_eq!(status, 200, "still answering queries");

    // A web app on another origin (a dev server) may call the API, as on the IC: the preflight
    // is answered, and so is the call, for any origin; refusals carry the header too.
    let preflight = client
        .http
        .request(reqwest::Method::OPTIONS, format!("{}{query}", client.url))
        .header("origin", "http://127.0.0.1:8000")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .expect("the endpoint answers");
    assert_eq!(preflight.status().as_u16(), 204);
    let allowed = |response: &reqwest::blocking::Response, name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .unwrap_or_default()
    };
    assert_eq!(allowed(&preflight, "access-control-allow-origin"), "*");
    assert!(allowed(&preflight, "access-control-allow-methods").contains("POST"));
    assert!(allowed(&preflight, "access-control-allow-headers").contains("Content-Type"));
    for body in [good().encode_bytes(), vec![]] {
        let reply = client
            .http
            .post(format!("{}{query}", client.url))
            .header("origin", "http://127.0.0.1:8000")
            .header("content-type", "application/cbor")
            .body(body)
            .send()
            .expect("the endpoint answers");
        assert_eq!(allowed(&reply, "access-control-allow-origin"), "*");
    }
}
