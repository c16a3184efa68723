//! Decoding of callers' arguments with a work quota and without trapping.
//!
//! ic-cdk's default decoder has no decoding quota and traps on bad input. Every method with an
//! argument is declared with `decode_with = "decode"` and receives a [`Checked`], so a
//! malformed or costly argument becomes the method's typed error (`GenericError` for the
//! ICRC updates, `InvalidArgument` for this ledger's own methods) or, for the standard's
//! queries whose answer has no error case (`icrc1_balance_of`, `icrc2_allowance`), a reject
//! (`CanisterReject`, not a trap). `decode_with` makes ic-cdk describe the argument as `blob`,
//! so those methods are `hidden` from ic-cdk and carry their own `#[candid::candid_method]`,
//! which sees `Checked<T>` as `T`.

use candid::types::internal::{TypeDoc, TypeId};
use candid::types::{Serializer, Type};
use candid::utils::decode_one_with_config;
use candid::{CandidType, DecoderConfig};
use serde::de::DeserializeOwned;
use serde::ser::Error as _;

/// Bound on decoding work (units of [`DecoderConfig::set_decoding_quota`]): the ledger's
/// arguments are a few hundred bytes, so this cuts off decoding bombs early.
const DECODING_QUOTA: usize = 100_000;
/// Bound on work spent skipping fields the method does not expect.
const SKIPPING_QUOTA: usize = 10_000;

/// A caller's argument, or why it could not be decoded.
#[derive(Debug)]
pub struct Checked<T>(pub Result<T, String>);

/// Decodes one argument of type `T` within the quotas; never panics.
pub fn decode_arg<T: CandidType + DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    // No bytes at all is the empty argument list, as in ic-cdk.
    let bytes: &[u8] = if bytes.is_empty() {
        b"DIDL\x00\x00"
    } else {
        bytes
    };
    let mut config = DecoderConfig::new();
    config
        .set_decoding_quota(DECODING_QUOTA)
        .set_skipping_quota(SKIPPING_QUOTA);
    decode_one_with_config(bytes, &config).map_err(|e| format!("cannot decode the argument: {e}"))
}

pub fn decode<T: CandidType + DeserializeOwned>(bytes: Vec<u8>) -> Checked<T> {
    Checked(decode_arg(&bytes))
}

/// Replies with `value` (for `manual_reply` methods).
pub fn reply<T: CandidType>(value: T) -> T {
    let bytes = candid::encode_one(&value).unwrap_or_else(|e| ic_cdk::trap(e.to_string()));
    ic_cdk::api::msg_reply(bytes);
    value
}

impl<T: CandidType> CandidType for Checked<T> {
    fn ty() -> Type {
        T::ty()
    }
    fn id() -> TypeId {
        T::id()
    }
    fn _ty() -> Type {
        T::_ty()
    }
    fn _ty_doc() -> TypeDoc {
        T::_ty_doc()
    }
    fn idl_serialize<S: Serializer>(&self, serializer: S) -> Result<(), S::Error> {
        match &self.0 {
            Ok(value) => value.idl_serialize(serializer),
            Err(error) => Err(S::Error::custom(error)),
        }
    }
}
