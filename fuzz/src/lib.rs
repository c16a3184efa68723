//! What the fuzz targets share: the table of methods with a Candid argument, the quota-limited
//! decoder, and the small catalog the search target queries.

pub mod catalog;
pub mod methods;

use candid::CandidType;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// `candid_io::decode_arg` as the endpoints run it: no bytes are the empty argument list, and
/// decoding works within the quotas. Typed, where `METHODS`' `decode` only says whether it
/// decodes; the `candid_args` target checks that the two agree.
pub fn decode_checked<T: CandidType + DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    marketplace::decode_arg(bytes)
}

/// Decodes `bytes` as the endpoint would; a value that decodes must encode again and decode to
/// itself. Panics (a finding) if not.
pub fn decode_and_reencode<T>(bytes: &[u8]) -> Result<(), String>
where
    T: CandidType + DeserializeOwned + PartialEq + Debug,
{
    let value: T = decode_checked(bytes)?;
    let again = candid::encode_one(&value)
        .unwrap_or_else(|e| panic!("a decoded argument does not encode: {e}: {value:?}"));
    let back: T = candid::decode_one(&again)
        .unwrap_or_else(|e| panic!("a re-encoded argument does not decode: {e}: {value:?}"));
    assert_eq!(
        back, value,
        "the re-encoded argument decodes to another value"
    );
    Ok(())
}
