//! Sender public keys: DER `SubjectPublicKeyInfo` parsing and signature verification for the
//! key types the IC accepts from users that this endpoint supports (Ed25519, ECDSA on
//! secp256k1 and on P-256). Parsing is by hand, on untrusted bytes, and never panics.

use ed25519_dalek::Verifier as _;

/// `1.3.101.112`: Ed25519.
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
/// `1.2.840.10045.2.1`: an elliptic-curve key; the curve is the algorithm's parameter.
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// `1.3.132.0.10`: secp256k1.
const OID_SECP256K1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x0a];
/// `1.2.840.10045.3.1.7`: P-256 (secp256r1, prime256v1).
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// `1.3.6.1.4.1.56387.1.2`: IC canister signatures (Internet Identity).
const OID_CANISTER_SIG: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb8, 0x43, 0x01, 0x02];
/// `1.3.6.1.4.1.56387.1.1`: a COSE key wrapped in DER (WebAuthn).
const OID_COSE: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb8, 0x43, 0x01, 0x01];
/// `1.2.840.113549.1.1.1`: RSA.
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

const TAG_SEQUENCE: u8 = 0x30;
const TAG_OID: u8 = 0x06;
const TAG_BIT_STRING: u8 = 0x03;

/// A user's public key, parsed and ready to verify.
#[derive(Debug)]
pub(super) enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    Secp256k1(k256::ecdsa::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// Parses a DER-encoded `SubjectPublicKeyInfo`; the error is the IC's `CryptoError` text
    /// (or, for key types this endpoint leaves out, says so).
    pub(super) fn from_der(der: &[u8]) -> Result<Self, String> {
        let malformed =
            |why: &str| format!("malformed DER public key ({why}): {}", hex::encode(der));
        let (spki, rest) = read(der, TAG_SEQUENCE).ok_or_else(|| malformed("not a sequence"))?;
        if !rest.is_empty() {
            return Err(malformed("trailing bytes"));
        }
        let (algorithm, rest) =
            read(spki, TAG_SEQUENCE).ok_or_else(|| malformed("no algorithm identifier"))?;
        let (key, rest) =
            read(rest, TAG_BIT_STRING).ok_or_else(|| malformed("no key bit string"))?;
        if !rest.is_empty() {
            return Err(malformed("trailing bytes"));
        }
        // A key's bit string has no unused bits: its first byte (the unused-bit count) is 0.
        let key = match key.split_first() {
            Some((0, key)) => key,
            _ => return Err(malformed("bit string with unused bits")),
        };
        let (oid, params) =
            read(algorithm, TAG_OID).ok_or_else(|| malformed("no algorithm OID"))?;
        match oid {
            OID_ED25519 if params.is_empty() => {
                let bytes: &[u8; 32] = key
                    .try_into()
                    .map_err(|_| malformed("Ed25519 keys are 32 bytes"))?;
                ed25519_dalek::VerifyingKey::from_bytes(bytes)
                    .map(Self::Ed25519)
                    .map_err(|_| malformed("not an Ed25519 point"))
            }
            OID_EC_PUBLIC_KEY => match read(params, TAG_OID) {
                Some((OID_SECP256K1, [])) => k256::ecdsa::VerifyingKey::from_sec1_bytes(key)
                    .map(Self::Secp256k1)
                    .map_err(|_| malformed("not a secp256k1 point")),
                Some((OID_P256, [])) => p256::ecdsa::VerifyingKey::from_sec1_bytes(key)
                    .map(Self::P256)
                    .map_err(|_| malformed("not a P-256 point")),
                Some((curve, [])) => Err(format!(
                    "unsupported elliptic curve {} (ECDSA keys must be on secp256k1 or P-256)",
                    dotted(curve)
                )),
                _ => Err(malformed("EC key without a named curve")),
            },
            OID_CANISTER_SIG => Err("canister signatures (Internet Identity, OID \
                 1.3.6.1.4.1.56387.1.2) are not supported by this endpoint; use an Ed25519, \
                 secp256k1 or P-256 key"
                .to_string()),
            OID_COSE => Err("WebAuthn (COSE) keys (OID 1.3.6.1.4.1.56387.1.1) are not \
                 supported by this endpoint; use an Ed25519, secp256k1 or P-256 key"
                .to_string()),
            OID_RSA => Err("RSA keys are not supported by this endpoint (the IC allows them \
                 only inside WebAuthn); use an Ed25519, secp256k1 or P-256 key"
                .to_string()),
            _ => Err(format!(
                "unsupported public key algorithm {} (supported: Ed25519, ECDSA on secp256k1 or P-256)",
                dotted(oid)
            )),
        }
    }

    /// Verifies `signature` over `message`. ECDSA signatures are 64 bytes `r || s` over
    /// SHA-256 of the message, as ic-agent and agent-js make them; secp256k1 ones must have a
    /// low `s` (k256 enforces it, as the IC's secp256k1 verifier does).
    pub(super) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), String> {
        let failed = |algorithm: &str| {
            format!(
                "Signature verification failed (algorithm: {algorithm}, signature: {})",
                hex::encode(signature)
            )
        };
        match self {
            Self::Ed25519(key) => {
                let sig = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| failed("Ed25519"))?;
                key.verify_strict(message, &sig)
                    .map_err(|_| failed("Ed25519"))
            }
            Self::Secp256k1(key) => {
                let sig = k256::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| failed("EcdsaSecp256k1"))?;
                key.verify(message, &sig)
                    .map_err(|_| failed("EcdsaSecp256k1"))
            }
            Self::P256(key) => {
                let sig = p256::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| failed("EcdsaP256"))?;
                key.verify(message, &sig).map_err(|_| failed("EcdsaP256"))
            }
        }
    }
}

/// Reads one DER element with tag `tag` from the front of `input`: its contents and the rest.
/// Definite lengths only, up to 2 length bytes (keys are far shorter).
fn read(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = input.split_first()?;
    if first != tag {
        return None;
    }
    let (&len, rest) = rest.split_first()?;
    let (len, rest) = match len {
        0..=0x7f => (usize::from(len), rest),
        0x81 => {
            let (&l, rest) = rest.split_first()?;
            (usize::from(l), rest)
        }
        0x82 => {
            let (l, rest) = rest.split_first_chunk::<2>()?;
            (usize::from(u16::from_be_bytes(*l)), rest)
        }
        _ => return None,
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// An OID's dotted form, for error messages (hex when the encoding is odd).
fn dotted(oid: &[u8]) -> String {
    let mut arcs: Vec<u64> = Vec::new();
    let mut arc: u64 = 0;
    for &byte in oid {
        if arc > u64::MAX >> 7 {
            return hex::encode(oid);
        }
        arc = (arc << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            if arcs.is_empty() {
                let first = (arc / 40).min(2);
                arcs.push(first);
                arcs.push(arc - first * 40);
            } else {
                arcs.push(arc);
            }
            arc = 0;
        }
    }
    if arcs.is_empty() || oid.last().is_some_and(|b| b & 0x80 != 0) {
        return hex::encode(oid);
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_names_oids() {
        assert_eq!(dotted(OID_CANISTER_SIG), "1.3.6.1.4.1.56387.1.2");
        assert_eq!(dotted(OID_P256), "1.2.840.10045.3.1.7");
        assert_eq!(dotted(OID_SECP256K1), "1.3.132.0.10");
    }

    #[test]
    fn garbage_keys_are_errors() {
        for der in [
            &[][..],
            &[0x30],
            &[0x30, 0x82, 0xff],
            &[0x30, 0x00],
            &[0x30, 0x02, 0x30, 0x00],
        ] {
            assert!(PublicKey::from_der(der).is_err(), "{der:?}");
        }
    }
}
