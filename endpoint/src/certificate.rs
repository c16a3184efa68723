//! Certificates: a hash tree and the root key's BLS signature over its digest, CBOR-encoded
//! as clients decode them. The endpoint is its own root subnet, so there is never a delegation.

use crate::keys::Keys;
use ic_certification::{Certificate, HashTree};
use serde::Serialize;

/// CBOR, with the self-describing tag 55799 the IC puts in front, of
/// `{tree, signature}` where `signature` signs `tree.digest()` with the root key.
pub fn certificate(keys: &Keys, tree: HashTree) -> Vec<u8> {
    let signature = keys.sign_state_root(&tree.digest());
    let certificate = Certificate {
        tree,
        signature,
        delegation: None,
    };
    let mut out = Vec::new();
    let mut serializer = serde_cbor::Serializer::new(&mut out);
    // Writing CBOR of in-memory bytes and maps into a Vec cannot fail.
    serializer
        .self_describe()
        .and_then(|()| certificate.serialize(&mut serializer))
        .expect("a certificate always encodes as CBOR");
    out
}

#[cfg(test)]
#[path = "certificate_tests.rs"]
mod tests;
