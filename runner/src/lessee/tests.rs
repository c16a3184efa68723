use super::*;
use candid::types::Label;
use candid::IDLValue;

fn lessee() -> SecretKey {
    SecretKey::generate(&mut OsRng)
}

#[test]
fn seal_then_open_round_trips() {
    let secret = lessee();
    let plaintext = b"ssh root@10.0.0.7 -i id_lease\npassword: hunter2\n";
    let sealed = seal(secret.public_key().as_bytes(), plaintext).unwrap();
    assert_eq!(
        sealed.recipient_key.as_slice(),
        secret.public_key().as_bytes()
    );
    assert_eq!(sealed.ephemeral_key.len(), KEY_BYTES);
    assert_eq!(sealed.nonce.len(), NONCE_BYTES);
    assert_eq!(sealed.ciphertext.len(), plaintext.len() + TAG_BYTES);
    assert_eq!(open(&secret, &sealed).unwrap(), plaintext);

    // A fresh ephemeral key and nonce every time.
    let again = seal(secret.public_key().as_bytes(), plaintext).unwrap();
    assert_ne!(again.ephemeral_key, sealed.ephemeral_key);
    assert_ne!(again.nonce, sealed.nonce);
    assert_ne!(again.ciphertext, sealed.ciphertext);

    // The largest plaintext fits the canister's cap; one byte more is refused.
    let largest = vec![b'x'; MAX_PLAINTEXT_BYTES];
    let sealed = seal(secret.public_key().as_bytes(), &largest).unwrap();
    assert_eq!(sealed.ciphertext.len(), MAX_CIPHERTEXT_BYTES);
    assert_eq!(open(&secret, &sealed).unwrap(), largest);
    let err = seal(
        secret.public_key().as_bytes(),
        &[b'x'; MAX_PLAINTEXT_BYTES + 1],
    )
    .unwrap_err();
    assert!(err.contains("at most 4080"), "{err}");
    assert!(seal(secret.public_key().as_bytes(), b"").is_err());
}

#[test]
fn opens_a_box_made_by_libsodium() {
    // libsodium's crypto_box_easy(m, nonce, lessee_pk, ephemeral_sk) (PyNaCl 1.6.2), with
    // the lessee's secret key 1..=32, the ephemeral secret key 101..=132, nonce 200..=223.
    let secret = SecretKey::from_bytes(std::array::from_fn(|i| i as u8 + 1));
    let sealed = SealedBox {
        recipient_key: hex::decode(
            "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c",
        )
        .unwrap()
        .into(),
        ephemeral_key: hex::decode(
            "5714769d116bf76436ae74bc793d2c30ad1903c59ac5273805c7e2698b410c36",
        )
        .unwrap()
        .into(),
        nonce: hex::decode("c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf")
            .unwrap()
            .into(),
        ciphertext: hex::decode(
            "0cc61c6850cd6dc1e791f2049012a4a3b3c95727d3cb74bd47b35242907d0a7c\
                 00989ac9c840a4980dd19ba5a213c05508a0ae88905286a8bec3e452e915795f",
        )
        .unwrap()
        .into(),
    };
    assert_eq!(
        secret.public_key().as_bytes(),
        sealed.recipient_key.as_slice()
    );
    assert_eq!(
        open(&secret, &sealed).unwrap(),
        b"user=root\npassword=correct horse battery staple\n"
    );
}

#[test]
fn a_box_opened_with_the_wrong_key_fails() {
    let (secret, other) = (lessee(), lessee());
    let sealed = seal(secret.public_key().as_bytes(), b"secret").unwrap();
    let err = open(&other, &sealed).unwrap_err();
    assert!(err.contains("sealed to another key"), "{err}");

    // Named as the other key's box, it still does not open: the key agreement differs.
    let mut relabelled = sealed.clone();
    relabelled.recipient_key = other.public_key().as_bytes().to_vec().into();
    let err = open(&other, &relabelled).unwrap_err();
    assert!(err.contains("do not open"), "{err}");

    // Altered ciphertext, nonce or ephemeral key fail authentication.
    let mut altered = sealed.clone();
    altered.ciphertext[0] ^= 1;
    assert!(open(&secret, &altered).unwrap_err().contains("do not open"));
    let mut altered = sealed.clone();
    altered.nonce[3] ^= 1;
    assert!(open(&secret, &altered).unwrap_err().contains("do not open"));
    let mut altered = sealed.clone();
    altered.ephemeral_key = other.public_key().as_bytes().to_vec().into();
    assert!(open(&secret, &altered).unwrap_err().contains("do not open"));
    let mut short = sealed;
    short.nonce = vec![0; 12].into();
    assert!(open(&secret, &short).unwrap_err().contains("12-byte nonce"));
}

fn field<'a>(fields: &'a [candid::types::value::IDLField], name: &str) -> &'a IDLValue {
    &fields
        .iter()
        .find(|f| f.id == Label::Named(name.into()))
        .unwrap_or_else(|| panic!("no field {name}"))
        .val
}

#[test]
fn the_printed_candid_parses_back_to_the_same_bytes() {
    let secret = lessee();
    // Every byte value, so each escape is exercised.
    let plaintext: Vec<u8> = (0..=255).collect();
    let sealed = seal(secret.public_key().as_bytes(), &plaintext).unwrap();
    let text = sealed_box_text(&sealed);
    assert!(
        text.starts_with("record { recipient_key = blob \"\\"),
        "{text}"
    );
    let IDLValue::Record(fields) = candid_parser::parse_idl_value(&text).unwrap() else {
        panic!("not a record: {text}");
    };
    assert_eq!(fields.len(), 4);
    for (name, bytes) in [
        ("recipient_key", &sealed.recipient_key),
        ("ephemeral_key", &sealed.ephemeral_key),
        ("nonce", &sealed.nonce),
        ("ciphertext", &sealed.ciphertext),
    ] {
        assert_eq!(
            blob_bytes(field(&fields, name)).as_deref(),
            Some(bytes.as_slice()),
            "{name}"
        );
    }

    // Typed as the service's SealedBox, it decodes to the same box.
    let args = candid_parser::parse_idl_args(&format!("({text})")).unwrap();
    let env = candid::TypeEnv::new();
    let bytes = args
        .to_bytes_with_types(&env, &[<SealedBox as candid::CandidType>::ty()])
        .unwrap();
    assert_eq!(candid::decode_one::<SealedBox>(&bytes).unwrap(), sealed);
    let parsed = read_back(&text);
    assert_eq!(open(&secret, &parsed).unwrap(), plaintext);

    // The lessee's key, as printed by `lessee new-key`, and as hex or `opt blob`.
    let public = *secret.public_key().as_bytes();
    let literal = blob_literal(&public);
    assert_eq!(parse_public_key(&literal).unwrap(), public);
    assert_eq!(
        parse_public_key(&format!("opt {literal}\n")).unwrap(),
        public
    );
    assert_eq!(parse_public_key(&hex::encode(public)).unwrap(), public);
    assert!(parse_public_key("blob \"\\01\\02\"")
        .unwrap_err()
        .contains("32 bytes"));
    assert!(parse_public_key("zz").unwrap_err().contains("hex digits"));
}

fn read_back(text: &str) -> SealedBox {
    let IDLValue::Record(fields) = candid_parser::parse_idl_value(text).unwrap() else {
        panic!("not a record");
    };
    let bytes = |name| blob_bytes(field(&fields, name)).unwrap().into();
    SealedBox {
        recipient_key: bytes("recipient_key"),
        ephemeral_key: bytes("ephemeral_key"),
        nonce: bytes("nonce"),
        ciphertext: bytes("ciphertext"),
    }
}
