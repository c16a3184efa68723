use super::*;
use ed25519_dalek::Verifier;

const IC_PREFIX_HEX: &str =
    "308182301d060d2b0601040182dc7c0503010201060c2b0601040182dc7c05030201036100";

#[test]
fn root_key_der_has_the_ic_prefix_and_length() {
    let der = Keys::from_seed([1; 32]).root_key_der();
    assert_eq!(der.len(), 133);
    assert_eq!(hex::encode(&der[..37]), IC_PREFIX_HEX);
}

#[test]
fn subnet_id_is_the_self_authenticating_principal_of_the_root_key() {
    let keys = Keys::from_seed([2; 32]);
    let id = keys.subnet_id();
    let bytes = id.as_slice();
    assert_eq!(bytes.len(), 29);
    assert_eq!(bytes[28], 0x02);
    let hash = <sha2::Sha224 as Digest>::digest(keys.root_key_der());
    assert_eq!(&bytes[..28], hash.as_slice());
}

#[test]
fn node_key_is_ed25519_spki_and_node_id_self_authenticating() {
    let keys = Keys::from_seed([3; 32]);
    let der = keys.node_key_der();
    assert_eq!(der.len(), 44);
    assert_eq!(der[..12], ED25519_DER_PREFIX);
    let hash = <sha2::Sha224 as Digest>::digest(&der);
    let id = keys.node_id();
    assert_eq!(&id.as_slice()[..28], hash.as_slice());
    assert_eq!(id.as_slice()[28], 0x02);
    assert_ne!(keys.node_id(), keys.subnet_id());
}

#[test]
fn from_seed_is_deterministic_and_seed_dependent() {
    let a = Keys::from_seed([7; 32]);
    let b = Keys::from_seed([7; 32]);
    let c = Keys::from_seed([8; 32]);
    assert_eq!(a.root_key_der(), b.root_key_der());
    assert_eq!(a.node_key_der(), b.node_key_der());
    assert_ne!(a.root_key_der(), c.root_key_der());
    assert_ne!(a.node_key_der(), c.node_key_der());
    assert_ne!(
        Keys::generate().root_key_der(),
        Keys::generate().root_key_der()
    );
}

#[test]
fn state_root_signature_verifies_under_the_root_key() {
    let keys = Keys::from_seed([4; 32]);
    let hash = [9u8; 32];
    let sig = keys.sign_state_root(&hash);
    assert_eq!(sig.len(), 48);
    let mut msg = b"\x0dic-state-root".to_vec();
    msg.extend_from_slice(&hash);
    let pk = &keys.root_key_der()[37..];
    assert!(ic_verify_bls_signature::verify_bls_signature(&sig, &msg, pk).is_ok());
    // Another hash, or another key, must not verify.
    let mut other = msg.clone();
    other[20] ^= 1;
    assert!(ic_verify_bls_signature::verify_bls_signature(&sig, &other, pk).is_err());
    let other_pk = Keys::from_seed([5; 32]).root_key_der();
    assert!(ic_verify_bls_signature::verify_bls_signature(&sig, &msg, &other_pk[37..]).is_err());
}

#[test]
fn query_signature_verifies_under_the_node_key() {
    let keys = Keys::from_seed([6; 32]);
    let signable = b"\x0bic-response0123456789abcdef0123456789abcdef";
    let sig = keys.sign_query_response(signable);
    let raw: [u8; 32] = keys.node_key_der()[12..].try_into().unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&raw).unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&sig).unwrap();
    assert!(vk.verify(signable, &sig).is_ok());
    assert!(vk.verify(b"\x0bic-responseother", &sig).is_err());
}

#[test]
fn load_or_create_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let first = Keys::load_or_create(dir.path()).unwrap();
    let second = Keys::load_or_create(dir.path()).unwrap();
    assert_eq!(first.root_key_der(), second.root_key_der());
    assert_eq!(first.node_key_der(), second.node_key_der());
    let text = std::fs::read_to_string(dir.path().join(KEYS_FILE)).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    let seed = hex::decode(file["seed"].as_str().unwrap()).unwrap();
    let seed: [u8; 32] = seed.try_into().unwrap();
    assert_eq!(Keys::from_seed(seed).root_key_der(), first.root_key_der());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(KEYS_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn load_or_create_creates_missing_directories() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a/b");
    let keys = Keys::load_or_create(&nested).unwrap();
    assert!(nested.join(KEYS_FILE).exists());
    assert_eq!(
        Keys::load_or_create(&nested).unwrap().subnet_id(),
        keys.subnet_id()
    );
}

#[test]
fn bad_keys_files_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(KEYS_FILE);
    for bad in [
        "",
        "not json",
        "{}",
        r#"{"seed": 5}"#,
        r#"{"seed": "zz"}"#,
        r#"{"seed": "0102"}"#,
        &format!(r#"{{"seed": "{}"}}"#, "00".repeat(33)),
    ] {
        std::fs::write(&path, bad).unwrap();
        let err = Keys::load_or_create(dir.path()).unwrap_err();
        assert!(err.contains(KEYS_FILE), "{bad:?}: {err}");
    }
    std::fs::write(&path, format!(r#"{{"seed": "{}"}}"#, "11".repeat(32))).unwrap();
    let keys = Keys::load_or_create(dir.path()).unwrap();
    assert_eq!(
        keys.root_key_der(),
        Keys::from_seed([0x11; 32]).root_key_der()
    );
}

#[test]
fn debug_does_not_print_secrets() {
    let keys = Keys::from_seed([0xab; 32]);
    let text = format!("{keys:?}");
    assert!(text.contains(&keys.subnet_id().to_text()));
    assert!(!text.contains("abab"));
}

#[test]
fn signs_the_query_signable_the_clients_check() {
    use ic_transport_types::{QueryResponse, ReplyResponse, RequestId};
    let keys = Keys::from_seed([6; 32]);
    let response = QueryResponse::Replied {
        reply: ReplyResponse {
            arg: b"DIDL\0\0".to_vec(),
        },
        signatures: vec![],
    };
    let signable = response.signable(RequestId::new(&[3; 32]), 1_700_000_000_000_000_000);
    // The domain separator is already in the signable: callers must not add it again.
    assert_eq!(signable.len(), 44);
    assert_eq!(&signable[..12], b"\x0bic-response");
    let sig = keys.sign_query_response(&signable);
    let raw: [u8; 32] = keys.node_key_der()[12..].try_into().unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&raw).unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&sig).unwrap();
    assert!(vk.verify_strict(&signable, &sig).is_ok());
}
