use super::*;

/// RFC 8032 test 1's public key and its SPKI PEM as `openssl pkey -pubout` writes it.
const RFC8032_KEY: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const RFC8032_PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
        MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n\
        -----END PUBLIC KEY-----\n";

fn raw() -> Vec<u8> {
    (0..32)
        .map(|i| u8::from_str_radix(&RFC8032_KEY[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

#[test]
fn raw_and_pem_give_the_same_key_and_pem_round_trips() {
    let from_raw = ProviderKey::parse(&ProviderKeyInput::Raw(ByteBuf::from(raw()))).unwrap();
    let from_pem = ProviderKey::parse(&ProviderKeyInput::Pem(RFC8032_PEM.into())).unwrap();
    assert_eq!(from_raw, from_pem);
    assert_eq!(from_raw.as_bytes().to_vec(), raw());
    assert_eq!(from_raw.to_pem(), RFC8032_PEM);
    assert_eq!(ProviderKey::from_bytes(from_raw.to_bytes()), from_raw);
    // CRLF and surrounding whitespace are accepted.
    let crlf = format!("\n{}", RFC8032_PEM.replace('\n', "\r\n"));
    assert_eq!(ProviderKey::from_pem(&crlf), Ok(from_raw));
}

#[test]
fn raw_keys_must_be_32_bytes_on_the_curve() {
    let mut short = raw();
    short.pop();
    let err = ProviderKey::from_raw(&short).unwrap_err();
    assert!(err.contains("got 31"), "{err}");
    let mut long = raw();
    long.push(0);
    assert!(ProviderKey::from_raw(&long).unwrap_err().contains("got 33"));
    // y = 2 has no x on the curve.
    let mut off_curve = [0u8; 32];
    off_curve[0] = 2;
    let err = ProviderKey::from_raw(&off_curve).unwrap_err();
    assert!(err.contains("not a curve point"), "{err}");
}

#[test]
fn pem_must_be_an_ed25519_public_key() {
    let err = ProviderKey::from_pem("not pem").unwrap_err();
    assert!(err.starts_with("not a PEM document"), "{err}");
    let private = RFC8032_PEM.replace("PUBLIC KEY", "PRIVATE KEY");
    let err = ProviderKey::from_pem(&private).unwrap_err();
    assert!(err.contains("got \"PRIVATE KEY\""), "{err}");
    // An X25519 key (OID 1.3.101.110) has the same shape.
    let mut x25519 = SPKI_PREFIX.to_vec();
    x25519[8] = 0x6e;
    x25519.extend(raw());
    let err = ProviderKey::from_pem(&pem_of(x25519)).unwrap_err();
    assert!(err.contains("not an Ed25519 key"), "{err}");
    let mut truncated = SPKI_PREFIX.to_vec();
    truncated.extend(&raw()[..31]);
    let err = ProviderKey::from_pem(&pem_of(truncated)).unwrap_err();
    assert!(err.contains("malformed"), "{err}");
}

fn pem_of(der: Vec<u8>) -> String {
    pem::encode(&pem::Pem::new(PEM_TAG, der))
}
