//! Decoding of callers' Candid arguments with a work quota and without trapping, and encoding
//! of replies with their type table built once.
//!
//! ic-cdk's default decoder has no decoding quota and traps on bad input. Every method that
//! takes an argument is declared with `decode_with = "decode_checked"` and receives a
//! [`Checked`], so a malformed or costly argument becomes the method's typed error. Methods
//! without arguments never read their argument bytes, so whatever is sent to them is ignored.
//!
//! The decoder is also where every update call is admitted ([`admit`]): it is counted, and a
//! caller over its rate limit ([`crate::throttle`]) gets the method's `RateLimited` error
//! before its argument is even decoded.
//!
//! `decode_with` makes ic-cdk describe the argument as `blob` in the exported interface, so
//! those methods are `hidden` from ic-cdk and carry their own `#[candid::candid_method]`, which
//! sees `Checked<T>`: its Candid type is `T`'s.

use candid::ser::ValueSerializer;
use candid::types::internal::{TypeDoc, TypeId};
use candid::types::{Serializer, Type};
use candid::utils::decode_one_with_config;
use candid::CandidType;
use candid::DecoderConfig;
use candid::Principal;
use serde::de::DeserializeOwned;
use serde::ser::Error as _;
use std::cell::RefCell;

use crate::config;
use crate::counters::{self, Counter};
use crate::runtime::{IcRuntime, Runtime};
use crate::throttle::{self, Subject};

/// Bound on decoding work, in the units of [`DecoderConfig::set_decoding_quota`] (about one per
/// byte of a blob, more per decoded value): a blob as large as an ingress message (2 MiB) fits,
/// while a crafted argument (a vector declaring billions of elements, deep nesting) is cut off
/// after a few tens of millions of instructions.
const DECODING_QUOTA: usize = 3_000_000;
/// Bound on work spent skipping what the method does not expect (extra fields or arguments).
const SKIPPING_QUOTA: usize = 10_000;

/// A caller's argument: the value, or why the call goes no further. In the `self-check`
/// build it also carries the [`SelfCheck`] that checks the market's rules when the endpoint
/// is done with it.
#[derive(Debug)]
pub struct Checked<T>(
    pub Result<T, ArgError>,
    // Held only to be dropped when the endpoint returns.
    #[cfg(all(feature = "self-check", not(test)))]
    #[allow(dead_code)]
    SelfCheck,
);

/// Checks the market's rules when dropped in a replicated message, and traps with the
/// violations. Every update and the install decode their argument into a [`Checked`], which the
/// endpoint owns until it returns (an async one, until its last await), so the check runs at
/// the end of each, after the state changed and before the reply, in one place.
#[cfg(all(feature = "self-check", not(test)))]
#[derive(Debug)]
pub struct SelfCheck {
    armed: bool,
}

#[cfg(all(feature = "self-check", not(test)))]
impl SelfCheck {
    fn arm() -> Self {
        Self {
            armed: IcRuntime.replicated(),
        }
    }
}

/// A whole check of the state: `Err` lists the violations.
#[cfg(all(feature = "self-check", not(test)))]
type Check = fn() -> Result<(), String>;

#[cfg(all(feature = "self-check", not(test)))]
thread_local! {
    /// The check [`SelfCheck`] runs: the market's rules, registered by `init` and
    /// `post_upgrade` ([`register_self_check`]), so this module knows nothing above it.
    static SELF_CHECK: std::cell::Cell<Option<Check>> =
        const { std::cell::Cell::new(None) };
}

/// Sets the check a `self-check` build runs at the end of every update and install.
#[cfg(all(feature = "self-check", not(test)))]
pub fn register_self_check(check: Check) {
    SELF_CHECK.set(Some(check));
}

#[cfg(all(feature = "self-check", not(test)))]
impl Drop for SelfCheck {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let check = SELF_CHECK
            .get()
            .unwrap_or_else(|| ic_cdk::trap("self-check: no check registered"));
        if let Err(violations) = check() {
            ic_cdk::trap(violations);
        }
    }
}

/// `Checked` from a decoding result, armed for the self-check in that build.
fn checked<T>(result: Result<T, ArgError>) -> Checked<T> {
    Checked(
        result,
        #[cfg(all(feature = "self-check", not(test)))]
        SelfCheck::arm(),
    )
}

/// Why a call's argument was not decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgError {
    /// Not Candid of the method's type, or too costly to decode.
    Invalid(String),
    /// The caller is over its rate limit; see [`crate::throttle`].
    RateLimited { retry_after_seconds: u64 },
}

/// Gives an area's error type the two variants every endpoint may answer with:
/// `From<ArgError>` (so an endpoint writes `arg.0?`) and `invalid(message)`.
macro_rules! argument_errors {
    ($t:ty) => {
        impl From<$crate::candid_io::ArgError> for $t {
            fn from(error: $crate::candid_io::ArgError) -> Self {
                match error {
                    $crate::candid_io::ArgError::Invalid(message) => {
                        Self::InvalidArgument { message }
                    }
                    $crate::candid_io::ArgError::RateLimited {
                        retry_after_seconds,
                    } => Self::RateLimited {
                        retry_after_seconds,
                    },
                }
            }
        }

        impl $t {
            /// The typed error for input the caller got wrong.
            pub fn invalid(message: impl Into<String>) -> Self {
                Self::InvalidArgument {
                    message: message.into(),
                }
            }
        }
    };
}
pub(crate) use argument_errors;

impl std::fmt::Display for ArgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid(message) => f.write_str(message),
            Self::RateLimited {
                retry_after_seconds,
            } => write!(f, "rate limited: retry in {retry_after_seconds} s"),
        }
    }
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

/// The argument of a public method: the call is admitted ([`admit`]), then its argument
/// decoded with [`decode_arg`]. Never panics.
pub fn decode_checked<T: CandidType + DeserializeOwned>(bytes: Vec<u8>) -> Checked<T> {
    checked(admit(&IcRuntime).and_then(|()| decode_arg(&bytes).map_err(ArgError::Invalid)))
}

/// The argument of a signed change (`catalog_replace`, `market_delegate`…): as
/// [`decode_checked`], except that an anonymous relay is not charged to the anonymous
/// principal's bucket, which every relay would share: [`relay_allows`] and [`relay_charge`]
/// charge the signing provider key once the signature is checked. Only the shared bucket of
/// failed verifications is checked first, so decoding and verifying stay bounded even for
/// relays that skipped `inspect_message` (which drops bad signatures for free).
pub fn decode_signed<T: CandidType + DeserializeOwned>(bytes: Vec<u8>) -> Checked<T> {
    checked(admit_signed(&IcRuntime).and_then(|()| decode_arg(&bytes).map_err(ArgError::Invalid)))
}

/// [`admit`] for signed changes: see [`decode_signed`].
pub fn admit_signed(rt: &impl Runtime) -> Result<(), ArgError> {
    if !(rt.replicated() && rt.caller() == Principal::anonymous()) {
        return admit(rt);
    }
    counters::bump(Counter::Updates);
    throttle::allows(Subject::FailedSignatures, rt.time(), limits()).map_err(rate_limited)
}

/// Before an anonymous relay's signature is verified: whether the signing key has a call left
/// (so a key over its limit costs no verification). Other callers were charged on admission.
pub fn relay_allows(rt: &impl Runtime, provider_key: &[u8; 32]) -> Result<(), ArgError> {
    if rt.caller() != Principal::anonymous() {
        return Ok(());
    }
    let subject = Subject::ProviderKey(*provider_key);
    throttle::allows(subject, rt.time(), limits()).map_err(rate_limited)
}

/// After an anonymous relay's signature was checked: the call is taken from the signing key's
/// bucket if it verified, else from the shared bucket of failed verifications, so bogus
/// signatures naming a key never drain that key's bucket.
pub fn relay_charge(
    rt: &impl Runtime,
    provider_key: &[u8; 32],
    verified: bool,
) -> Result<(), ArgError> {
    if !(rt.replicated() && rt.caller() == Principal::anonymous()) {
        return Ok(());
    }
    let subject = if verified {
        Subject::ProviderKey(*provider_key)
    } else {
        Subject::FailedSignatures
    };
    throttle::take(subject, rt.time(), limits()).map_err(rate_limited)
}

fn rate_limited(retry_after_seconds: u64) -> ArgError {
    ArgError::RateLimited {
        retry_after_seconds,
    }
}

/// The argument of `init` and `post_upgrade`, which are not calls to admit.
pub fn decode_install<T: CandidType + DeserializeOwned>(bytes: Vec<u8>) -> Checked<T> {
    checked(decode_arg(&bytes).map_err(ArgError::Invalid))
}

/// Decodes one argument of type `T` within the quotas; never panics.
pub fn decode_arg<T: CandidType + DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    // No bytes at all is the empty argument list, as in ic-cdk: an `opt` argument reads as null.
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

/// Admits a call: an update (replicated execution) is counted and, unless a controller sent
/// it, taken from its caller's rate limit. Queries pass untouched.
pub fn admit(rt: &impl Runtime) -> Result<(), ArgError> {
    if !rt.replicated() {
        return Ok(());
    }
    counters::bump(Counter::Updates);
    let caller = rt.caller();
    if rt.is_controller(&caller) {
        return Ok(());
    }
    throttle::take(caller, rt.time(), limits()).map_err(|retry_after_seconds| {
        ArgError::RateLimited {
            retry_after_seconds,
        }
    })
}

/// Whether `caller` would be admitted now, changing nothing (for `inspect_message`).
pub fn would_admit(rt: &impl Runtime, caller: &Principal) -> Result<(), ArgError> {
    if rt.is_controller(caller) {
        return Ok(());
    }
    throttle::allows(caller, rt.time(), limits()).map_err(|retry_after_seconds| {
        ArgError::RateLimited {
            retry_after_seconds,
        }
    })
}

fn limits() -> throttle::Limits {
    let config = config::get();
    throttle::Limits {
        per_minute: config.caller_calls_per_minute,
        burst: config.caller_call_burst,
    }
}

thread_local! {
    /// The bytes before the value in replies of each prepared type: magic, type table, the
    /// reply's type.
    static REPLY_TYPES: RefCell<Vec<(std::any::TypeId, Vec<u8>)>> = const { RefCell::new(Vec::new()) };
}

/// Builds the type table of replies of type `T` from any value of it: the table depends on the
/// type alone. Called at install and upgrade, which leave it in the heap every later call
/// starts from (a query's own heap changes are discarded).
pub fn prepare_reply<T: CandidType + 'static>(sample: &T) {
    let full = candid::encode_one(sample).expect("a reply encodes");
    let value = value_bytes(sample);
    let prefix = full[..full.len() - value.len()].to_vec();
    REPLY_TYPES.with_borrow_mut(|types| types.push((std::any::TypeId::of::<T>(), prefix)));
}

/// A method's reply, the same bytes as `candid::encode_one` gives (ic-cdk's encoder):
/// candid rebuilds the reply's type table for every message, about a million instructions for
/// a catalog reply, so a prepared type's table is copied and only the value is encoded.
pub fn encode_reply<T: CandidType + 'static>(reply: T) -> Vec<u8> {
    let prefix = REPLY_TYPES.with_borrow(|types| {
        let id = std::any::TypeId::of::<T>();
        let prepared = types.iter().find(|(type_id, _)| *type_id == id);
        prepared.map(|(_, prefix)| prefix.clone())
    });
    match prefix {
        Some(mut bytes) => {
            bytes.extend(value_bytes(&reply));
            bytes
        }
        None => candid::encode_one(reply).expect("a reply encodes"),
    }
}

/// The value part of `value`'s Candid encoding, which follows the type table.
fn value_bytes<T: CandidType>(value: &T) -> Vec<u8> {
    let mut serializer = ValueSerializer::new();
    value
        .idl_serialize(&mut serializer)
        .expect("a reply encodes");
    serializer.get_result().to_vec()
}

#[cfg(test)]
mod tests;
