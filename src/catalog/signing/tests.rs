use super::*;

const SECRET: [u8; 32] = [7; 32];
const CANISTER: Principal = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn message_layout_is_the_documented_one() {
    let provider = provider_of(&SECRET);
    let hash = payload_hash(b"csv");
    let message = message(&CANISTER, &provider, Operation::UpsertOfferings, 258, &hash);
    let mut expected = DOMAIN.to_vec();
    expected.extend([10, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    expected.extend(provider.as_bytes());
    expected.push(2);
    expected.extend([0, 0, 0, 0, 0, 0, 1, 2]);
    expected.extend(hash);
    assert_eq!(message, expected);
}

/// A fixed vector, for client implementations in other languages.
#[test]
fn test_vector() {
    let provider = provider_of(&SECRET);
    assert_eq!(
        hex(provider.as_bytes()),
        "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c"
    );
    assert_eq!(
        provider.to_pem(),
        "-----BEGIN PUBLIC KEY-----\n\
             MCowBQYDK2VwAyEA6kpsY+KcUgq+9VB7Ey7F+ZVHdq6+vnuSQh7qaRRG0iw=\n\
             -----END PUBLIC KEY-----\n"
    );
    let hash = payload_hash(b"");
    assert_eq!(
        hex(&hash),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let message = message(&CANISTER, &provider, Operation::RemoveProvider, 1, &hash);
    assert_eq!(
        hex(&message),
        "69632d636f6d707574652d6d61726b6574706c6163652f636174616c6f672f763100\
             0a00000000000000010101\
             ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c\
             04\
             0000000000000001\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let signature = sign(&SECRET, &CANISTER, Operation::RemoveProvider, 1, &hash);
    // Computed independently with OpenSSL (Python `cryptography`).
    assert_eq!(
        hex(&signature),
        "250dbc536c417e7d4713e4960e8b7e845e7ead41631ae2fc314a605f85554821\
             de25d7366f7dbbbf1cdf54f2faa9731c9c0205e2ab541b5fbf9d7be24c2f6301"
    );
    let verified = verify(
        &CANISTER,
        &provider,
        Operation::RemoveProvider,
        1,
        &hash,
        &signature,
    );
    assert_eq!(verified, Ok(()));
}

#[test]
fn any_other_field_or_signer_fails() {
    let provider = provider_of(&SECRET);
    let hash = payload_hash(b"a\nb\n");
    let op = Operation::RemoveOfferings;
    let signature = sign(&SECRET, &CANISTER, op, 5, &hash);
    assert_eq!(
        verify(&CANISTER, &provider, op, 5, &hash, &signature),
        Ok(())
    );
    let bad = Err(CatalogError::InvalidSignature);
    assert_eq!(verify(&CANISTER, &provider, op, 6, &hash, &signature), bad);
    let upsert = Operation::UpsertOfferings;
    assert_eq!(
        verify(&CANISTER, &provider, upsert, 5, &hash, &signature),
        bad
    );
    let other_hash = payload_hash(b"a\n");
    assert_eq!(
        verify(&CANISTER, &provider, op, 5, &other_hash, &signature),
        bad
    );
    let elsewhere = Principal::from_slice(&[9; 10]);
    assert_eq!(verify(&elsewhere, &provider, op, 5, &hash, &signature), bad);
    // Signed by another key, presented as this provider's.
    let other = sign(&[8; 32], &CANISTER, op, 5, &hash);
    assert_eq!(verify(&CANISTER, &provider, op, 5, &hash, &other), bad);
    let mut flipped = signature;
    flipped[0] ^= 1;
    assert_eq!(verify(&CANISTER, &provider, op, 5, &hash, &flipped), bad);
    let err = verify(&CANISTER, &provider, op, 5, &hash, &signature[..63]).unwrap_err();
    assert!(
        matches!(err, CatalogError::InvalidArgument { .. }),
        "{err:?}"
    );
}

#[test]
fn remove_payload_is_each_key_and_a_newline() {
    let keys = vec!["a".to_string(), "b c".to_string()];
    assert_eq!(remove_offerings_payload(&keys), b"a\nb c\n");
    assert!(remove_offerings_payload(&[]).is_empty());
}

mod relayed {
    use super::*;
    use crate::runtime::FakeRuntime;

    const BURST: usize = 600; // the configuration's default `caller_call_burst`

    fn relay(rt: &FakeRuntime, secret: &[u8; 32], seq: u64) -> Result<(), CatalogError> {
        let hash = payload_hash(b"csv");
        let signature = sign(secret, &CANISTER, Operation::UpsertOfferings, seq, &hash);
        let provider = provider_of(secret);
        let op = Operation::UpsertOfferings;
        verify_relayed(rt, &provider, op, seq, &hash, &signature)
    }

    /// L3: anonymous relays are charged to the signing key, not to one shared bucket.
    #[test]
    fn an_anonymous_flood_for_one_key_leaves_other_keys_alone() {
        let rt = FakeRuntime::new();
        assert_eq!(rt.caller(), Principal::anonymous());
        for seq in 0..BURST as u64 {
            assert_eq!(relay(&rt, &[1; 32], seq), Ok(()));
        }
        assert!(matches!(
            relay(&rt, &[1; 32], 0),
            Err(CatalogError::RateLimited { .. })
        ));
        assert_eq!(relay(&rt, &[2; 32], 1), Ok(()));
    }

    /// Bogus signatures naming a key go to the shared bucket of failures, never the key's.
    #[test]
    fn bad_signatures_do_not_drain_the_named_keys_bucket() {
        let rt = FakeRuntime::new();
        let victim = provider_of(&[3; 32]);
        let hash = payload_hash(b"csv");
        let op = Operation::UpsertOfferings;
        for _ in 0..BURST {
            let refused = verify_relayed(&rt, &victim, op, 1, &hash, &[0; 64]);
            assert_eq!(refused, Err(CatalogError::InvalidSignature));
        }
        let failed = crate::throttle::Subject::FailedSignatures;
        let limits = crate::throttle::Limits {
            per_minute: 120,
            burst: BURST as u32,
        };
        assert!(crate::throttle::allows(failed, rt.time(), limits).is_err());
        assert_eq!(relay(&rt, &[3; 32], 1), Ok(()));
    }

    /// Identified callers were charged on admission: verifying charges nothing more.
    #[test]
    fn identified_relays_are_not_charged_again() {
        let rt = FakeRuntime::new();
        rt.caller.set(Principal::from_slice(&[9; 29]));
        for seq in 0..BURST as u64 + 10 {
            assert_eq!(relay(&rt, &[4; 32], seq), Ok(()));
        }
        let key = crate::throttle::Subject::ProviderKey(*provider_of(&[4; 32]).as_bytes());
        let limits = crate::throttle::Limits {
            per_minute: 120,
            burst: BURST as u32,
        };
        assert_eq!(crate::throttle::allows(key, rt.time(), limits), Ok(()));
    }
}
