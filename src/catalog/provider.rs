//! Provider identities: Ed25519 public keys, given as 32 raw bytes or as PEM (SPKI, RFC 8410),
//! and always shown as PEM.

use candid::{CandidType, Deserialize};
use ed25519_dalek::VerifyingKey;
use ic_stable_structures::storable::Bound;
use ic_stable_structures::Storable;
use pem::{EncodeConfig, LineEnding, Pem};
use serde_bytes::ByteBuf;
use std::borrow::Cow;

/// The DER of an Ed25519 SubjectPublicKeyInfo before its 32 key bytes:
/// SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING with no unused bits }.
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
/// The AlgorithmIdentifier part of [`SPKI_PREFIX`]: what tells an Ed25519 key from others.
const ED25519_ALGORITHM: [u8; 7] = [0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70];
const PEM_TAG: &str = "PUBLIC KEY";

/// A provider key as a caller gives it.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum ProviderKeyInput {
    /// The 32 bytes of the Ed25519 public key.
    Raw(ByteBuf),
    /// "-----BEGIN PUBLIC KEY-----" with an Ed25519 SubjectPublicKeyInfo.
    Pem(String),
}

/// A valid Ed25519 public key: only built from checked input or from the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderKey([u8; 32]);

impl ProviderKey {
    /// The key in `input`, or why it is not an Ed25519 public key.
    pub fn parse(input: &ProviderKeyInput) -> Result<Self, String> {
        let key = Self::parse_for_lookup(input)?;
        VerifyingKey::from_bytes(&key.0)
            .map_err(|_| "the 32 bytes are not an Ed25519 public key (not a curve point)")?;
        Ok(key)
    }

    /// The 32 key bytes in `input` without checking they are a curve point, to look a provider
    /// up: only [`ProviderKey::parse`]d keys are ever stored, so a bad one is simply not found,
    /// and reads skip the point decompression (millions of instructions on wasm).
    pub fn parse_for_lookup(input: &ProviderKeyInput) -> Result<Self, String> {
        match input {
            ProviderKeyInput::Raw(bytes) => Self::raw_bytes(bytes),
            ProviderKeyInput::Pem(text) => Self::pem_bytes(text),
        }
    }

    pub fn from_raw(bytes: &[u8]) -> Result<Self, String> {
        Self::parse(&ProviderKeyInput::Raw(bytes.to_vec().into()))
    }

    pub fn from_pem(text: &str) -> Result<Self, String> {
        Self::parse(&ProviderKeyInput::Pem(text.into()))
    }

    fn raw_bytes(bytes: &[u8]) -> Result<Self, String> {
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| format!("a raw Ed25519 public key is 32 bytes, got {}", bytes.len()))?;
        Ok(Self(bytes))
    }

    fn pem_bytes(text: &str) -> Result<Self, String> {
        let pem = pem::parse(text).map_err(|e| format!("not a PEM document: {e}"))?;
        if pem.tag() != PEM_TAG {
            return Err(format!(
                "expected a PEM \"{PEM_TAG}\" (SubjectPublicKeyInfo), got \"{}\"",
                pem.tag()
            ));
        }
        let der = pem.contents();
        if der.get(2..9) != Some(&ED25519_ALGORITHM[..]) {
            return Err("the public key is not an Ed25519 key (OID 1.3.101.112)".into());
        }
        match der.strip_prefix(&SPKI_PREFIX[..]) {
            Some(raw) if raw.len() == 32 => Self::raw_bytes(raw),
            _ => Err("malformed Ed25519 SubjectPublicKeyInfo".into()),
        }
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The IC principal of this key (self-authenticating, over its DER): the identity a dfx
    /// or icp-cli user with this Ed25519 key signs in as, so a provider's payouts reach the
    /// wallet its own key controls.
    pub fn principal(&self) -> candid::Principal {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend(self.0);
        candid::Principal::self_authenticating(der)
    }

    /// The SubjectPublicKeyInfo PEM, LF line endings, as `openssl pkey -pubout` writes it: the
    /// 44 bytes of DER are one line of base64. Written here rather than by the `pem` crate,
    /// whose general encoder takes ten times as many instructions on wasm (a test compares
    /// them), since replies carry a PEM per provider.
    pub fn to_pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend(self.0);
        let config = EncodeConfig::new().set_line_ending(LineEnding::LF);
        pem::encode_config(&Pem::new(PEM_TAG, der), config)
    }
}

impl Storable for ProviderKey {
    fn to_bytes(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.0)
    }

    fn into_bytes(self) -> Vec<u8> {
        self.0.to_vec()
    }

    /// Only keys that were checked when accepted are stored.
    fn from_bytes(bytes: Cow<[u8]>) -> Self {
        let mut key = [0; 32];
        key.copy_from_slice(&bytes);
        Self(key)
    }

    const BOUND: Bound = Bound::Bounded {
        max_size: 32,
        is_fixed_size: true,
    };
}

#[cfg(test)]
mod tests;
