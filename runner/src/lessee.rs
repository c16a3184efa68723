//! Lease credentials, end to end: the lessee's X25519 key, the provider sealing credentials to
//! it, and the lessee opening what the canister holds.
//!
//! The box is libsodium's `crypto_box` (X25519 + XSalsa20-Poly1305, RustCrypto's `crypto_box`)
//! between a fresh ephemeral secret key and the lessee's public key, with a random 24-byte
//! nonce: the canister stores the ephemeral public key and the nonce beside the ciphertext and
//! can never read the contents.

use crate::commands;
use crate::provider;
use crypto_box::aead::{Aead, AeadCore, OsRng};
use crypto_box::{PublicKey, SalsaBox, SecretKey};
use marketplace::market::{Lease, MarketError, SealedBox};
use std::path::Path;

/// An X25519 key, public or secret.
pub const KEY_BYTES: usize = 32;
/// XSalsa20's nonce.
pub const NONCE_BYTES: usize = 24;
/// Poly1305's tag: a ciphertext is this much longer than its plaintext.
pub const TAG_BYTES: usize = 16;
/// The largest ciphertext `lease_set_consumer_meta` takes.
pub const MAX_CIPHERTEXT_BYTES: usize = 4096;
/// The largest plaintext whose box the canister takes.
pub const MAX_PLAINTEXT_BYTES: usize = MAX_CIPHERTEXT_BYTES - TAG_BYTES;

/// Writes a new X25519 secret key (hex, owner-readable only) and prints its public key as the
/// Candid `opt blob` to give as `lessee_key`.
pub fn new_key(path: &Path) -> Result<(), String> {
    if path.exists() {
        return Err(format!(
            "{} exists; refusing to overwrite a key",
            path.display()
        ));
    }
    let public = generate_key(path)?;
    say!("{}", lessee_key_literal(&public));
    Ok(())
}

/// Writes a new X25519 secret key to `path` (hex, owner-readable only; never over an existing
/// file) and returns its public key.
pub fn generate_key(path: &Path) -> Result<[u8; KEY_BYTES], String> {
    let secret = SecretKey::generate(&mut OsRng);
    provider::write_private(
        path,
        format!("{}\n", hex::encode(secret.to_bytes())).as_bytes(),
    )?;
    Ok(*secret.public_key().as_bytes())
}

/// Prints the key file's public key as the Candid `opt blob` to give as `lessee_key`, or with
/// `json` as `{"public_key": hex, "candid": "opt blob \"…\""}` (either form goes to
/// `--lessee-key`; the hex one to `lessee_key_hex`).
pub fn show(key: &Path, json: bool) -> Result<(), String> {
    let public = read_secret(key)?.public_key();
    let literal = lessee_key_literal(public.as_bytes());
    if json {
        let object = serde_json::json!({
            "public_key": hex::encode(public.as_bytes()),
            "candid": literal,
        });
        say!("{object:#}");
    } else {
        say!("{literal}");
    }
    Ok(())
}

/// Seals `plaintext` to the lessee's public key: `crypto_box` from a fresh ephemeral key, with
/// a random nonce.
pub fn seal(recipient: &[u8; KEY_BYTES], plaintext: &[u8]) -> Result<SealedBox, String> {
    if plaintext.is_empty() {
        return Err("nothing to seal: the credentials are empty".into());
    }
    if plaintext.len() > MAX_PLAINTEXT_BYTES {
        return Err(format!(
            "the credentials are {} bytes; at most {MAX_PLAINTEXT_BYTES} can be sealed (the \
             canister takes ciphertexts up to {MAX_CIPHERTEXT_BYTES} bytes, {TAG_BYTES} of them \
             the tag)",
            plaintext.len()
        ));
    }
    let ephemeral = SecretKey::generate(&mut OsRng);
    let nonce = SalsaBox::generate_nonce(&mut OsRng);
    let ciphertext = SalsaBox::new(&PublicKey::from(*recipient), &ephemeral)
        .encrypt(&nonce, plaintext)
        .map_err(|_| "encryption failed".to_string())?;
    Ok(SealedBox {
        recipient_key: recipient.to_vec().into(),
        ephemeral_key: ephemeral.public_key().as_bytes().to_vec().into(),
        nonce: nonce.to_vec().into(),
        ciphertext: ciphertext.into(),
    })
}

/// Opens a box sealed to `secret`'s public key.
pub fn open(secret: &SecretKey, sealed: &SealedBox) -> Result<Vec<u8>, String> {
    let mine = secret.public_key();
    if sealed.recipient_key.as_slice() != mine.as_bytes() {
        return Err(format!(
            "the credentials are sealed to another key ({}), not to this one ({})",
            blob_literal(&sealed.recipient_key),
            blob_literal(mine.as_bytes())
        ));
    }
    let ephemeral = PublicKey::from_slice(&sealed.ephemeral_key).map_err(|_| {
        format!(
            "the box's ephemeral key is {} bytes, not {KEY_BYTES}",
            sealed.ephemeral_key.len()
        )
    })?;
    if sealed.nonce.len() != NONCE_BYTES {
        return Err(format!(
            "the box has a {}-byte nonce: it was not sealed with crypto_box (X25519 + \
             XSalsa20-Poly1305, a {NONCE_BYTES}-byte nonce), which is all mkt opens",
            sealed.nonce.len()
        ));
    }
    let nonce = crypto_box::aead::Nonce::<SalsaBox>::from_slice(&sealed.nonce);
    SalsaBox::new(&ephemeral, secret)
        .decrypt(nonce, sealed.ciphertext.as_slice())
        .map_err(|_| {
            "the credentials do not open with this key: the box was altered, or not sealed \
             with crypto_box (X25519 + XSalsa20-Poly1305)"
                .to_string()
        })
}

/// Reads the lease's credentials from the local canister as `caller` (`lease_get`, a query)
/// and prints them opened with the secret key in `key`.
pub fn open_lease(
    dir: &Path,
    did: &Path,
    key: &Path,
    execution: u64,
    caller: &str,
) -> Result<(), String> {
    let secret = read_secret(key)?;
    let reply = commands::call_reply(dir, did, "lease_get", &format!("({execution})"), caller)?;
    let lease = candid::decode_one::<Result<Lease, MarketError>>(&reply)
        .map_err(|e| format!("lease_get replied with something other than a lease: {e}"))?
        .map_err(|e| format!("lease_get {execution} refused: {e:?}"))?;
    let sealed = lease.consumer_meta.ok_or_else(|| {
        format!("lease {execution} has no credentials: its provider has not sealed any to it yet")
    })?;
    let plaintext = open(&secret, &sealed)
        .map_err(|e| format!("lease {execution} ({}): {e}", key.display()))?;
    print_plaintext(&plaintext)
}

/// The credentials as they were sealed; a terminal also gets a final newline.
fn print_plaintext(plaintext: &[u8]) -> Result<(), String> {
    use std::io::{IsTerminal, Write};
    let mut out = std::io::stdout().lock();
    let mut written = out.write_all(plaintext);
    if out.is_terminal() && !plaintext.ends_with(b"\n") {
        written = written.and_then(|()| out.write_all(b"\n"));
    }
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| format!("stdout: {e}")),
    }
}

pub fn read_secret(path: &Path) -> Result<SecretKey, String> {
    provider::read_key(path).map(SecretKey::from_bytes)
}

/// A lessee's public key given as 64 hex digits (as `--output json` shows blobs) or as Candid
/// text: `blob "…"`, or `opt blob "…"` as an execution shows its `lessee_key`.
pub fn parse_public_key(text: &str) -> Result<[u8; KEY_BYTES], String> {
    let text = text.trim();
    let bytes = if text.len() == 2 * KEY_BYTES && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(text).map_err(|e| e.to_string())?
    } else {
        let value = candid_parser::parse_idl_value(text).map_err(|_| {
            format!(
                "--lessee-key: not {} hex digits nor a Candid blob (blob \"\\ab\\cd…\")",
                2 * KEY_BYTES
            )
        })?;
        blob_bytes(&value).ok_or_else(|| {
            format!("--lessee-key: {text} is not a blob; give the lessee's key as blob \"…\"")
        })?
    };
    let len = bytes.len();
    bytes
        .try_into()
        .map_err(|_| format!("--lessee-key: an X25519 public key is {KEY_BYTES} bytes, not {len}"))
}

/// The bytes of a Candid blob value (`blob "…"`, `vec { 1; 2 }` or `opt` of either).
fn blob_bytes(value: &candid::IDLValue) -> Option<Vec<u8>> {
    use candid::IDLValue;
    match value {
        IDLValue::Blob(bytes) => Some(bytes.clone()),
        IDLValue::Opt(inner) => blob_bytes(inner),
        IDLValue::Vec(items) => items
            .iter()
            .map(|item| match item {
                IDLValue::Nat8(b) => Some(*b),
                IDLValue::Number(n) => n.parse().ok(),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// A lessee's public key as the value of `lessee_key` (`execution_accept`, `lease_by_sku`),
/// an `opt blob` since `lessee_key_hex` is the other way to give it.
pub fn lessee_key_literal(bytes: &[u8]) -> String {
    format!("opt {}", blob_literal(bytes))
}

/// `blob "\ab\cd…"`, every byte escaped.
pub fn blob_literal(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(7 + 3 * bytes.len());
    text.push_str("blob \"");
    for byte in bytes {
        text.push('\\');
        text.push_str(&hex::encode([*byte]));
    }
    text.push('"');
    text
}

/// The box as the Candid `SealedBox` record, to paste into `lease_set_consumer_meta`.
pub fn sealed_box_text(sealed: &SealedBox) -> String {
    format!(
        "record {{ recipient_key = {}; ephemeral_key = {}; nonce = {}; ciphertext = {} }}",
        blob_literal(&sealed.recipient_key),
        blob_literal(&sealed.ephemeral_key),
        blob_literal(&sealed.nonce),
        blob_literal(&sealed.ciphertext)
    )
}

#[cfg(test)]
mod tests;
