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
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Delegation {
    pub provider_pem: String,
    pub principals: Vec<Principal>,
    pub seq: u64,
}
