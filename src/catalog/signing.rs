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
//! principal's bytes followed by 1 (allow) or 0 (revoke), and for a key rotation the new key's
//! 32 bytes.

use crate::candid_io;
use crate::catalog::error::CatalogError;
use crate::catalog::provider::{ProviderKey, ProviderKeyInput};
use crate::runtime::Runtime;
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
    /// Moves the provider to a new key (`catalog::keys`); the payload is the new key's 32 bytes.
    RotateKey = 6,
}

/// How far a sequence number may run ahead. Clients number changes 1, 2, 3… or by the Unix time
/// in seconds (`mkt` does); either way a change's `seq` may exceed neither the last accepted one
/// nor the canister's clock in seconds by more than a day, so a stolen key cannot set it to
/// `u64::MAX` and lock its owner out for good.
pub const MAX_SEQ_LEAD: u64 = 86_400;

/// Why `seq` runs too far ahead of `last` and of the clock at `now_ns`, if it does.
pub fn seq_too_far_ahead(seq: u64, last: u64, now_ns: u64) -> Option<String> {
    let bound = last
        .max(now_ns / crate::time::SECOND_NS)
        .saturating_add(MAX_SEQ_LEAD);
    (seq > bound).then(|| {
        format!(
            "seq may run at most {MAX_SEQ_LEAD} ahead of the last accepted one and of the \
             canister's clock in seconds: at most {bound}, got {seq}"
        )
    })
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

/// [`verify`] for a change as delivered: an anonymous relay is rate limited by the signing key,
/// charged only once the signature verifies (failures go to one shared bucket); see
/// `candid_io::decode_signed`. Other callers were charged on admission.
pub fn verify_relayed(
    rt: &impl Runtime,
    provider: &ProviderKey,
    op: Operation,
    seq: u64,
    payload_hash: &[u8; 32],
    signature: &[u8],
) -> Result<(), CatalogError> {
    candid_io::relay_allows(rt, provider.as_bytes())?;
    let verified = verify(
        &rt.canister_id(),
        provider,
        op,
        seq,
        payload_hash,
        signature,
    );
    candid_io::relay_charge(rt, provider.as_bytes(), verified.is_ok())?;
    verified
}

/// `inspect_message`'s check of an anonymous relay: the signature verifies and the signing key
/// has a call left. Inspection costs the canister nothing, so bogus signatures are dropped
/// before they cost a replicated execution or touch the shared bucket of failed ones.
pub fn inspect_relayed(
    rt: &impl Runtime,
    provider: &ProviderKeyInput,
    op: Operation,
    seq: u64,
    payload: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let provider = ProviderKey::parse(provider)?;
    verify(
        &rt.canister_id(),
        &provider,
        op,
        seq,
        &payload_hash(payload),
        signature,
    )
    .map_err(|error| format!("the signature does not verify: {error:?}"))?;
    candid_io::relay_allows(rt, provider.as_bytes()).map_err(|error| error.to_string())
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
