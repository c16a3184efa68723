//! Envelopes signed by ic-agent's identities, accepted; then each way the IC refuses one
//! (delegation chains: `auth/delegation_tests.rs`). The helpers serve both.

use super::*;
use ic_agent::identity::{AnonymousIdentity, BasicIdentity, Prime256v1Identity, Secp256k1Identity};
use ic_agent::Identity;
use std::borrow::Cow;

pub(super) const NOW: u64 = 1_750_000_000_000_000_000;
pub(super) const MINUTE: u64 = 60_000_000_000;

pub(super) fn canister(n: u8) -> Principal {
    Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, n, 1, 1])
}

pub(super) fn ed25519(seed: u8) -> BasicIdentity {
    BasicIdentity::from_raw_key(&[seed; 32])
}

pub(super) fn identities() -> Vec<Box<dyn Identity>> {
    let k1 = k256::SecretKey::from_slice(&[7; 32]).expect("valid scalar");
    let r1 = p256::SecretKey::from_slice(&[9; 32]).expect("valid scalar");
    vec![
        Box::new(ed25519(1)),
        Box::new(Secp256k1Identity::from_private_key(k1)),
        Box::new(Prime256v1Identity::from_private_key(r1)),
    ]
}

pub(super) fn content(kind: Kind, sender: Principal, expiry: u64) -> EnvelopeContent {
    match kind {
        Kind::Call => EnvelopeContent::Call {
            nonce: Some(vec![1, 2, 3]),
            ingress_expiry: expiry,
            sender,
            canister_id: canister(1),
            method_name: "buy".into(),
            arg: b"DIDL\0\0".to_vec(),
            sender_info: None,
        },
        Kind::Query => EnvelopeContent::Query {
            ingress_expiry: expiry,
            sender,
            canister_id: canister(1),
            method_name: "list".into(),
            arg: b"DIDL\0\0".to_vec(),
            nonce: None,
            sender_info: None,
        },
        Kind::ReadState => EnvelopeContent::ReadState {
            ingress_expiry: expiry,
            sender,
            paths: vec![vec!["time".into()]],
        },
    }
}

/// Signs `content` as `identity` (including its delegation chain) and encodes the envelope.
pub(super) fn envelope(identity: &dyn Identity, content: &EnvelopeContent) -> Envelope<'static> {
    let sig = identity.sign(content).expect("signs");
    Envelope {
        content: Cow::Owned(content.clone()),
        sender_pubkey: sig.public_key,
        sender_sig: sig.signature,
        sender_delegation: sig.delegations,
    }
}

pub(super) fn signed(identity: &dyn Identity, kind: Kind, expiry: u64) -> Vec<u8> {
    let sender = identity.sender().expect("has a sender");
    envelope(identity, &content(kind, sender, expiry)).encode_bytes()
}

/// Expects a 400 whose message contains `needle`.
pub(super) fn refused(result: Result<Authenticated, Rejection>, needle: &str) {
    match result {
        Ok(a) => panic!("accepted, expected a rejection containing {needle:?}: {a:?}"),
        Err(r) => {
            assert_eq!(r.status, 400, "{}", r.message);
            assert!(
                r.message.contains(needle),
                "{needle:?} not in {:?}",
                r.message
            );
        }
    }
}

#[test]
fn accepts_every_key_type_and_kind() {
    for identity in identities() {
        for kind in [Kind::Call, Kind::Query, Kind::ReadState] {
            let sender = identity.sender().expect("sender");
            let c = content(kind, sender, NOW + 4 * MINUTE);
            let auth = authenticate(&envelope(identity.as_ref(), &c).encode_bytes(), kind, NOW)
                .unwrap_or_else(|r| panic!("{kind:?} refused: {}", r.message));
            assert_eq!(auth.sender, sender);
            assert_eq!(auth.request_id, c.to_request_id());
            assert_eq!(auth.targets, None);
            assert_eq!(request_type(&auth.content), kind.request_type());
        }
    }
}

#[test]
fn accepts_untagged_cbor_and_the_expiry_bounds() {
    let id = ed25519(1);
    let e = envelope(&id, &content(Kind::Call, id.sender().unwrap(), NOW));
    let untagged = serde_cbor::to_vec(&e).expect("encodes");
    assert_ne!(untagged[..3], [0xd9, 0xd9, 0xf7]);
    assert!(authenticate(&untagged, Kind::Call, NOW).is_ok());
    let latest = NOW + 5 * MINUTE + 30_000_000_000;
    assert!(authenticate(&signed(&id, Kind::Call, latest), Kind::Call, NOW).is_ok());
}

#[test]
fn accepts_anonymous_without_signature() {
    let anon = AnonymousIdentity;
    for kind in [Kind::Call, Kind::Query, Kind::ReadState] {
        let auth = authenticate(&signed(&anon, kind, NOW + MINUTE), kind, NOW).expect("accepted");
        assert_eq!(auth.sender, Principal::anonymous());
    }
    // The IC checks the expiry of anonymous queries and read_state requests not at all.
    assert!(authenticate(&signed(&anon, Kind::Query, 0), Kind::Query, NOW).is_ok());
    assert!(authenticate(&signed(&anon, Kind::ReadState, 0), Kind::ReadState, NOW).is_ok());
    refused(
        authenticate(&signed(&anon, Kind::Call, 0), Kind::Call, NOW),
        "Invalid request expiry: ",
    );
}

#[test]
fn refuses_tampered_signatures_and_content() {
    for identity in identities() {
        let sender = identity.sender().unwrap();
        let mut e = envelope(
            identity.as_ref(),
            &content(Kind::Call, sender, NOW + MINUTE),
        );
        if let Some(sig) = e.sender_sig.as_mut() {
            sig[5] ^= 1;
        }
        refused(
            authenticate(&e.encode_bytes(), Kind::Call, NOW),
            "Invalid signature: Invalid basic signature: Signature verification failed",
        );
        let mut e = envelope(
            identity.as_ref(),
            &content(Kind::Query, sender, NOW + MINUTE),
        );
        if let EnvelopeContent::Query { method_name, .. } = e.content.to_mut() {
            *method_name = "steal".into();
        }
        refused(
            authenticate(&e.encode_bytes(), Kind::Query, NOW),
            "Invalid signature",
        );
        let mut e = envelope(
            identity.as_ref(),
            &content(Kind::Query, sender, NOW + MINUTE),
        );
        e.sender_sig = Some(vec![0; 63]);
        refused(
            authenticate(&e.encode_bytes(), Kind::Query, NOW),
            "Invalid signature",
        );
    }
}

#[test]
fn refuses_a_sender_that_is_not_the_key() {
    let id = ed25519(1);
    let e = envelope(
        &id,
        &content(Kind::Call, ed25519(2).sender().unwrap(), NOW + MINUTE),
    );
    refused(
        authenticate(&e.encode_bytes(), Kind::Call, NOW),
        "does not match the public key",
    );
    let e = envelope(
        &AnonymousIdentity,
        &content(Kind::Call, id.sender().unwrap(), NOW + MINUTE),
    );
    refused(
        authenticate(&e.encode_bytes(), Kind::Call, NOW),
        "Missing signature from user: ",
    );
}

#[test]
fn refuses_expired_and_far_future_requests() {
    let id = ed25519(1);
    for kind in [Kind::Call, Kind::Query, Kind::ReadState] {
        refused(
            authenticate(&signed(&id, kind, NOW - 1), kind, NOW),
            "Invalid request expiry: Specified ingress_expiry not within expected range",
        );
        let too_late = NOW + 5 * MINUTE + 30_000_000_001;
        refused(
            authenticate(&signed(&id, kind, too_late), kind, NOW),
            "Invalid request expiry: ",
        );
    }
}

#[test]
fn refuses_anonymous_with_a_signature_or_half_an_authentication() {
    let id = ed25519(1);
    let mut e = envelope(
        &id,
        &content(Kind::Call, Principal::anonymous(), NOW + MINUTE),
    );
    refused(
        authenticate(&e.encode_bytes(), Kind::Call, NOW),
        "Signature is not allowed for the anonymous user.",
    );
    e.sender_sig = None;
    refused(
        authenticate(&e.encode_bytes(), Kind::Call, NOW),
        "Could not parse body as call message",
    );
}

#[test]
fn refuses_the_wrong_kind_and_garbage() {
    let id = ed25519(1);
    refused(
        authenticate(&signed(&id, Kind::Query, NOW + MINUTE), Kind::Call, NOW),
        "unknown variant `query`, expected `call`",
    );
    refused(
        authenticate(&signed(&id, Kind::Call, NOW + MINUTE), Kind::ReadState, NOW),
        "unknown variant `call`, expected `read_state`",
    );
    for body in [
        &b""[..],
        b"\xd9\xd9\xf7",
        b"garbage",
        b"\xa1\x67content\x01",
        &[0xff; 64],
    ] {
        refused(
            authenticate(body, Kind::Call, NOW),
            "Failed to deserialize cbor request: ",
        );
    }
}

#[test]
fn refuses_oversized_nonces_and_read_state_paths() {
    let id = ed25519(1);
    let mut c = content(Kind::Call, id.sender().unwrap(), NOW + MINUTE);
    if let EnvelopeContent::Call { nonce, .. } = &mut c {
        *nonce = Some(vec![0; 33]);
    }
    refused(
        authenticate(&envelope(&id, &c).encode_bytes(), Kind::Call, NOW),
        "Nonce in request is too big: got 33 bytes",
    );
    let paths = vec![vec!["time".into(); 128]];
    let c = EnvelopeContent::ReadState {
        ingress_expiry: NOW + MINUTE,
        sender: id.sender().unwrap(),
        paths,
    };
    refused(
        authenticate(&envelope(&id, &c).encode_bytes(), Kind::ReadState, NOW),
        "is too deep: got 128 labels",
    );
}

/// An envelope claiming to be from `der`, with a signature nothing can check.
fn from_key(der: Vec<u8>) -> Vec<u8> {
    let c = content(
        Kind::Call,
        Principal::self_authenticating(&der),
        NOW + MINUTE,
    );
    Envelope {
        content: Cow::Owned(c),
        sender_pubkey: Some(der),
        sender_sig: Some(vec![0; 64]),
        sender_delegation: None,
    }
    .encode_bytes()
}

#[test]
fn refuses_canister_signature_and_unknown_keys() {
    // SEQUENCE { SEQUENCE { OID 1.3.6.1.4.1.56387.1.2 }, BIT STRING { 0x0a ++ canister id ++ seed } }.
    let mut canister_sig = hex::decode("3019300c060a2b0601040183b8430102030900").unwrap();
    canister_sig.extend_from_slice(&[0x0a, 0, 0, 0, 0, 0, 0, 0, 7, 1]);
    canister_sig[1] = (canister_sig.len() - 2) as u8;
    canister_sig[17] = (canister_sig.len() - 18) as u8;
    refused(authenticate(&from_key(canister_sig), Kind::Call, NOW), "canister signatures (Internet Identity, OID 1.3.6.1.4.1.56387.1.2) are not supported by this endpoint");
    // Ed448 (1.3.101.113).
    let mut ed448 = hex::decode("3043300506032b6571033a00").unwrap();
    ed448.extend_from_slice(&[5; 57]);
    refused(
        authenticate(&from_key(ed448), Kind::Call, NOW),
        "Invalid public key: unsupported public key algorithm 1.3.101.113",
    );
    refused(
        authenticate(&from_key(b"not DER".to_vec()), Kind::Call, NOW),
        "Invalid public key: malformed DER public key",
    );
}
