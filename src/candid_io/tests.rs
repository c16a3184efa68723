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
    assert_eq!(decode_arg::<Arg>(&bytes), Ok(arg()));
}

#[test]
fn empty_bytes_are_the_empty_argument_list() {
    assert_eq!(decode_arg::<Option<Arg>>(&[]), Ok(None));
    assert!(decode_arg::<Arg>(&[]).is_err());
}

#[test]
fn garbage_and_wrong_types_are_errors() {
    assert!(decode_arg::<Arg>(b"not candid").is_err());
    assert!(decode_arg::<Arg>(&encode_one(42u8).unwrap()).is_err());
    assert!(decode_arg::<Arg>(&encode_args((arg(), 1u8)).unwrap()).is_ok());
    let truncated = encode_one(arg()).unwrap();
    assert!(decode_arg::<Arg>(&truncated[..truncated.len() - 1]).is_err());
}

#[test]
fn a_vector_declaring_2_pow_31_elements_is_an_error() {
    // Type table: one entry, vec null; the argument has that type; length 2^31 as LEB128.
    let mut bytes = b"DIDL\x01\x6d\x7f\x01\x00".to_vec();
    bytes.extend([0x80, 0x80, 0x80, 0x80, 0x08]);
    assert!(decode_arg::<Vec<()>>(&bytes).is_err());
    // Sent as an extra argument, it is skipped within the skipping quota.
    let mut extra = b"DIDL\x01\x6d\x7f\x02\x71\x00".to_vec();
    extra.extend(encode_text("x"));
    extra.extend([0x80, 0x80, 0x80, 0x80, 0x08]);
    assert!(decode_arg::<String>(&extra).is_err());
}

#[test]
fn a_large_text_exceeds_the_quota() {
    let bytes = encode_one("x".repeat(DECODING_QUOTA + 1)).unwrap();
    assert!(decode_arg::<String>(&bytes).is_err());
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
    let decoded = decode_arg::<TransformArgs>(&encode_one(&args).unwrap());
    assert_eq!(decoded, Ok(args));
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
    let result = decode_arg::<Option<Arg>>(&bytes);
    assert!(result.is_err());
}

#[test]
fn checked_has_the_candid_type_of_its_value() {
    assert_eq!(Checked::<Arg>::ty(), Arg::ty());
    assert_eq!(Checked::<Option<u64>>::ty(), Option::<u64>::ty());
    let ok = Checked(Ok(arg()));
    assert_eq!(encode_one(&ok).unwrap(), encode_one(arg()).unwrap());
    assert!(encode_one(Checked::<Arg>(Err(ArgError::Invalid("bad".into())))).is_err());
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
