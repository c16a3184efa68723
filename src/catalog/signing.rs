//! The message every catalog change is signed over, public so that clients sign exactly what the
//! canister verifies:
//!
//! ```text
//! b"ic-compute-marketplace/catalog/v1\0"
//! || len(canister id) (1 byte) || canister id
//! || provider key (32) || operation (1) || sequence (u64 big-endian) || SHA-256(payload) (32)
//! ```
//!
//! The canister id stops a signature from being replayed on another deployment, the operation
//! and payload hash bind what is changed, and the per-provider sequence (which must increase)
//! stops replays on this one. Payloads: the CSV bytes for replace and upsert, each key followed
//! by `\n` for remove offerings, nothing for remove provider, and for a market delegation the
//! principal's bytes followed by 1 (allow) or 0 (revoke).

use crate::catalog::provider::ProviderKey;
use crate::catalog::publish::CatalogError;
use candid::Principal;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

pub const DOMAIN: &[u8] = b"ic-compute-marketplace/catalog/v1\0";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    ReplaceCatalog = 1,
    UpsertOfferings = 2,
    RemoveOfferings = 3,
    RemoveProvider = 4,
    /// Lets a principal act for the provider in the market (`market::delegation`).
    Delegate = 5,
}

pub fn payload_hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The payload of a remove-offerings change. Keys must not contain `\n` (the canister refuses
/// them), so the payload names exactly one list of keys.
pub fn remove_offerings_payload(keys: &[String]) -> Vec<u8> {
    let mut payload = Vec::with_capacity(keys.iter().map(|key| key.len() + 1).sum());
    for key in keys {
        payload.extend(key.as_bytes());
        payload.push(b'\n');
    }
    payload
}

pub fn message(
    canister: &Principal,
    provider: &ProviderKey,
    op: Operation,
    seq: u64,
    payload_hash: &[u8; 32],
) -> Vec<u8> {
    let canister = canister.as_slice();
    let mut message = Vec::with_capacity(DOMAIN.len() + 1 + canister.len() + 32 + 1 + 8 + 32);
    message.extend(DOMAIN);
    // A principal is at most 29 bytes, so its length always fits the byte.
    message.push(canister.len() as u8);
    message.extend(canister);
    message.extend(provider.as_bytes());
    message.push(op as u8);
    message.extend(seq.to_be_bytes());
    message.extend(payload_hash);
    message
}

/// Checks `signature` by `provider` over the change; strict verification refuses malleable
/// signatures and small-order keys.
pub fn verify(
    canister: &Principal,
    provider: &ProviderKey,
    op: Operation,
    seq: u64,
    payload_hash: &[u8; 32],
    signature: &[u8],
) -> Result<(), CatalogError> {
    let signature: [u8; 64] = signature
        .try_into()
        .map_err(|_| CatalogError::InvalidArgument {
            message: format!("an Ed25519 signature is 64 bytes, got {}", signature.len()),
        })?;
    let key =
        VerifyingKey::from_bytes(provider.as_bytes()).map_err(|_| CatalogError::InvalidKey {
            message: "not an Ed25519 public key".into(),
        })?;
    let message = message(canister, provider, op, seq, payload_hash);
    key.verify_strict(&message, &Signature::from_bytes(&signature))
        .map_err(|_| CatalogError::InvalidSignature)
}

/// The provider key of a secret key, for clients and tests.
#[cfg(not(target_arch = "wasm32"))]
pub fn provider_of(secret: &[u8; 32]) -> ProviderKey {
    let public = ed25519_dalek::SigningKey::from_bytes(secret).verifying_key();
    ProviderKey::from_raw(public.as_bytes()).expect("a derived public key is valid")
}

/// Signs a change with the provider's secret key, for clients and tests.
#[cfg(not(target_arch = "wasm32"))]
pub fn sign(
    secret: &[u8; 32],
    canister: &Principal,
    op: Operation,
    seq: u64,
    payload_hash: &[u8; 32],
) -> [u8; 64] {
    use ed25519_dalek::Signer;
    let signing_key = ed25519_dalek::SigningKey::from_bytes(secret);
    let message = message(canister, &provider_of(secret), op, seq, payload_hash);
    signing_key.sign(&message).to_bytes()
}

#[cfg(test)]
mod tests {
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
}
