//! Decoding of callers' Candid arguments with a work quota and without trapping, and encoding
//! of replies with their type table built once.
//!
//! ic-cdk's default decoder has no decoding quota and traps on bad input. Every method that
//! takes an argument is declared with `decode_with = "decode_checked"` and receives a
//! [`Checked`], so a malformed or costly argument becomes the method's typed error. Methods
//! without arguments never read their argument bytes, so whatever is sent to them is ignored.
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
use serde::de::DeserializeOwned;
use serde::ser::Error as _;
use std::cell::RefCell;

/// Bound on decoding work, in the units of [`DecoderConfig::set_decoding_quota`] (about one per
/// byte of a blob, more per decoded value): a blob as large as an ingress message (2 MiB) fits,
/// while a crafted argument (a vector declaring billions of elements, deep nesting) is cut off
/// after a few tens of millions of instructions.
const DECODING_QUOTA: usize = 3_000_000;
/// Bound on work spent skipping what the method does not expect (extra fields or arguments).
const SKIPPING_QUOTA: usize = 10_000;

/// A caller's argument: the value, or why it could not be decoded.
#[derive(Debug)]
pub struct Checked<T>(pub Result<T, String>);

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
            Err(message) => Err(S::Error::custom(message)),
        }
    }
}

/// Decodes one argument of type `T` within the quotas; never panics.
pub fn decode_checked<T: CandidType + DeserializeOwned>(bytes: Vec<u8>) -> Checked<T> {
    // No bytes at all is the empty argument list, as in ic-cdk: an `opt` argument reads as null.
    let bytes: &[u8] = if bytes.is_empty() {
        b"DIDL\x00\x00"
    } else {
        &bytes
    };
    let mut config = DecoderConfig::new();
    config
        .set_decoding_quota(DECODING_QUOTA)
        .set_skipping_quota(SKIPPING_QUOTA);
    Checked(
        decode_one_with_config(bytes, &config)
            .map_err(|e| format!("cannot decode the argument: {e}")),
    )
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
mod tests {
    use super::*;
    use candid::{encode_args, encode_one, Deserialize};

    #[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
    struct Arg {
        endpoint: String,
    }

    fn arg() -> Arg {
        Arg {
            endpoint: "https://ironic.example".into(),
        }
    }

    #[test]
    fn replies_are_the_bytes_candid_encodes() {
        #[derive(CandidType, Deserialize, Clone, Debug, PartialEq)]
        enum Kind {
            A,
            B { n: u64 },
        }
        type Reply = Result<Vec<(Arg, Option<Kind>)>, String>;
        let replies: [Reply; 4] = [
            Ok(vec![]),
            Ok(vec![(arg(), None), (arg(), Some(Kind::A))]),
            Ok(vec![(arg(), Some(Kind::B { n: 1 << 40 }))]),
            Err("no".into()),
        ];
        // Unprepared, a reply is candid's own encoding; prepared, the same bytes.
        for prepared in [false, true] {
            if prepared {
                prepare_reply::<Reply>(&Err(String::new()));
            }
            for reply in &replies {
                let bytes = encode_reply(reply.clone());
                assert_eq!(bytes, encode_one(reply).unwrap(), "{reply:?}");
                assert_eq!(candid::decode_one::<Reply>(&bytes).unwrap(), *reply);
            }
        }
    }

    #[test]
    fn decodes_a_well_formed_argument() {
        let bytes = encode_one(arg()).unwrap();
        assert_eq!(decode_checked::<Arg>(bytes).0, Ok(arg()));
    }

    #[test]
    fn empty_bytes_are_the_empty_argument_list() {
        assert_eq!(decode_checked::<Option<Arg>>(vec![]).0, Ok(None));
        assert!(decode_checked::<Arg>(vec![]).0.is_err());
    }

    #[test]
    fn garbage_and_wrong_types_are_errors() {
        assert!(decode_checked::<Arg>(b"not candid".to_vec()).0.is_err());
        assert!(decode_checked::<Arg>(encode_one(42u8).unwrap()).0.is_err());
        assert!(decode_checked::<Arg>(encode_args((arg(), 1u8)).unwrap())
            .0
            .is_ok());
        let truncated = encode_one(arg()).unwrap();
        assert!(
            decode_checked::<Arg>(truncated[..truncated.len() - 1].to_vec())
                .0
                .is_err()
        );
    }

    #[test]
    fn a_vector_declaring_2_pow_31_elements_is_an_error() {
        // Type table: one entry, vec null; the argument has that type; length 2^31 as LEB128.
        let mut bytes = b"DIDL\x01\x6d\x7f\x01\x00".to_vec();
        bytes.extend([0x80, 0x80, 0x80, 0x80, 0x08]);
        assert!(decode_checked::<Vec<()>>(bytes.clone()).0.is_err());
        // Sent as an extra argument, it is skipped within the skipping quota.
        let mut extra = b"DIDL\x01\x6d\x7f\x02\x71\x00".to_vec();
        extra.extend(encode_text("x"));
        extra.extend([0x80, 0x80, 0x80, 0x80, 0x08]);
        assert!(decode_checked::<String>(extra).0.is_err());
    }

    #[test]
    fn a_large_text_exceeds_the_quota() {
        let bytes = encode_one("x".repeat(DECODING_QUOTA + 1)).unwrap();
        assert!(decode_checked::<String>(bytes).0.is_err());
    }

    #[test]
    fn the_largest_transform_argument_fits_the_quota() {
        use ic_cdk_management_canister::{HttpHeader, HttpRequestResult, TransformArgs};
        // A 16 KiB body and as many one-byte headers again: more than a 16 KiB answer can hold.
        let header = HttpHeader {
            name: "a".into(),
            value: "b".into(),
        };
        let args = TransformArgs {
            response: HttpRequestResult {
                status: 200u16.into(),
                headers: vec![header; 8 * 1024],
                body: vec![b'x'; 16 * 1024],
            },
            context: vec![],
        };
        let decoded = decode_checked::<TransformArgs>(encode_one(&args).unwrap());
        assert_eq!(decoded.0, Ok(args));
    }

    #[test]
    fn deep_nesting_is_an_error() {
        // 10 000 nested `opt` types, each referring to the next, and a value nested as deep.
        const DEPTH: u32 = 10_000;
        let mut bytes = b"DIDL".to_vec();
        bytes.extend(leb128(DEPTH));
        for i in 1..DEPTH {
            bytes.push(0x6e);
            bytes.extend(leb128(i));
        }
        bytes.extend([0x6e, 0x7f, 0x01, 0x00]);
        bytes.extend(std::iter::repeat_n(1u8, DEPTH as usize));
        let result = decode_checked::<Option<Arg>>(bytes);
        assert!(result.0.is_err());
    }

    #[test]
    fn checked_has_the_candid_type_of_its_value() {
        assert_eq!(Checked::<Arg>::ty(), Arg::ty());
        assert_eq!(Checked::<Option<u64>>::ty(), Option::<u64>::ty());
        let ok = Checked(Ok(arg()));
        assert_eq!(encode_one(&ok).unwrap(), encode_one(arg()).unwrap());
        assert!(encode_one(Checked::<Arg>(Err("bad".into()))).is_err());
    }

    fn leb128(mut n: u32) -> Vec<u8> {
        let mut out = vec![];
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    fn encode_text(s: &str) -> Vec<u8> {
        let mut out = leb128(s.len() as u32);
        out.extend(s.as_bytes());
        out
    }
}
