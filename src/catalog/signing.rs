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

use crate::catalog::error::CatalogError;
use crate::catalog::provider::ProviderKey;
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
mod tests;
