use super::*;
use crate::state_tree::{tree_for, CanisterView, RequestStatus, StateView};
use candid::Principal;
use ic_certification::LookupResult;

fn now_nanos() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

fn canister_id() -> Principal {
    Principal::from_text("lxzze-o7777-77777-aaaaa-cai").unwrap()
}

fn sample_certificate(keys: &Keys, time: u64) -> Vec<u8> {
    let no_requests = |_: &[u8]| None::<RequestStatus>;
    let mut canister = CanisterView::new(canister_id());
    canister.certified_data = vec![7; 32];
    let view = StateView {
        time,
        keys,
        canister_ranges: vec![(canister_id(), canister_id())],
        canisters: vec![canister],
        request_status: &no_requests,
    };
    let paths = vec![
        vec![b"subnet".to_vec()],
        vec![
            b"canister".to_vec(),
            canister_id().as_slice().to_vec(),
            b"certified_data".to_vec(),
        ],
    ];
    certificate(keys, tree_for(&view, &paths).unwrap())
}

fn decode(bytes: &[u8]) -> Certificate {
    serde_cbor::from_slice(bytes).unwrap()
}

#[test]
fn starts_with_the_self_describing_tag() {
    let keys = Keys::from_seed([1; 32]);
    let bytes = sample_certificate(&keys, 5);
    assert_eq!(bytes[..3], [0xd9, 0xd9, 0xf7]);
}

#[test]
fn decodes_without_delegation_and_its_signature_verifies() {
    let keys = Keys::from_seed([1; 32]);
    let cert = decode(&sample_certificate(&keys, 5));
    assert!(cert.delegation.is_none());
    assert_eq!(cert.signature.len(), 48);
    let mut msg = b"\x0dic-state-root".to_vec();
    msg.extend_from_slice(&cert.tree.digest());
    let pk = &keys.root_key_der()[37..];
    assert!(ic_verify_bls_signature::verify_bls_signature(&cert.signature, &msg, pk).is_ok());
    // The signature covers the tree: another key, or a changed tree, fails.
    let other = Keys::from_seed([2; 32]).root_key_der();
    assert!(
        ic_verify_bls_signature::verify_bls_signature(&cert.signature, &msg, &other[37..]).is_err()
    );
    let changed = decode(&sample_certificate(&keys, 6));
    let mut msg2 = b"\x0dic-state-root".to_vec();
    msg2.extend_from_slice(&changed.tree.digest());
    assert!(ic_verify_bls_signature::verify_bls_signature(&cert.signature, &msg2, pk).is_err());
}

#[test]
fn lookups_give_what_was_put_in() {
    let keys = Keys::from_seed([1; 32]);
    let cert = decode(&sample_certificate(&keys, 300));
    assert_eq!(
        cert.tree.lookup_path([b"time".as_ref()]),
        LookupResult::Found(&[0xac, 0x02])
    );
    let sid = keys.subnet_id();
    assert_eq!(
        cert.tree
            .lookup_path([b"subnet".as_ref(), sid.as_slice(), b"public_key"]),
        LookupResult::Found(&keys.root_key_der())
    );
    assert_eq!(
        cert.tree.lookup_path([
            b"canister".as_ref(),
            canister_id().as_slice(),
            b"certified_data"
        ]),
        LookupResult::Found(&[7; 32])
    );
}

fn agent_with_root_key(keys: &Keys) -> ic_agent::Agent {
    // The URL is never contacted: verification is local.
    let agent = ic_agent::Agent::builder()
        .with_url("http://127.0.0.1:9")
        .build()
        .unwrap();
    agent.set_root_key(keys.root_key_der());
    agent
}

#[test]
fn ic_agent_verifies_it() {
    let keys = Keys::from_seed([3; 32]);
    let agent = agent_with_root_key(&keys);
    let cert = decode(&sample_certificate(&keys, now_nanos()));
    agent.verify(&cert, canister_id()).unwrap();
    agent.verify_for_subnet(&cert, keys.subnet_id()).unwrap();
}

#[test]
fn ic_agent_rejects_a_foreign_root_key_and_a_stale_time() {
    let keys = Keys::from_seed([3; 32]);
    let cert = decode(&sample_certificate(&keys, now_nanos()));
    let stranger = agent_with_root_key(&Keys::from_seed([4; 32]));
    assert!(stranger.verify(&cert, canister_id()).is_err());
    let agent = agent_with_root_key(&keys);
    let old = decode(&sample_certificate(&keys, now_nanos() - 3_600_000_000_000));
    assert!(agent.verify(&old, canister_id()).is_err());
}

#[test]
fn a_tampered_tree_fails_ic_agent_verification() {
    let keys = Keys::from_seed([3; 32]);
    let mut cert = decode(&sample_certificate(&keys, now_nanos()));
    let agent = agent_with_root_key(&keys);
    cert.tree = decode(&sample_certificate(&keys, now_nanos() + 1)).tree;
    assert!(agent.verify(&cert, canister_id()).is_err());
}
