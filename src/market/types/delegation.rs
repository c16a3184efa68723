//! Provider delegation types: principals a provider lets act for it.

use candid::{CandidType, Deserialize, Principal};
use serde_bytes::ByteBuf;

use crate::catalog::provider::ProviderKeyInput;

/// Lets `principal` act for the provider in the market (or stops it), signed by the provider's
/// key; see `market::delegation` for the signed message.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DelegateArg {
    pub provider: ProviderKeyInput,
    pub principal: Principal,
    pub allow: bool,
    pub seq: u64,
    pub signature: ByteBuf,
    /// When the delegation ends (nanoseconds since the epoch), signed with it: after it the
    /// principal acts for the provider no more. Absent: until revoked. Only with `allow`.
    pub expires_at_ns: Option<u64>,
}

/// A provider's live delegates (expired ones are left out) and its last sequence number.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Delegation {
    pub provider_pem: String,
    pub principals: Vec<Principal>,
    pub seq: u64,
    /// The delegates of `principals` whose delegation expires, and when.
    pub expiring: Vec<DelegateExpiry>,
}

/// When one delegate's delegation expires (nanoseconds since the epoch).
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct DelegateExpiry {
    pub principal: Principal,
    pub expires_at_ns: u64,
}
