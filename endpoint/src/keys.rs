//! The endpoint's keys: a BLS12-381 root key that signs certificates (clients fetch its public
//! half from `/api/v2/status` and trust it, as they trust the IC's root key), and an Ed25519
//! node key that signs query responses. Both derive from one 32-byte seed so that a persisted
//! seed gives a stable root key across restarts: clients that cached the key keep working.

use candid::Principal;
use ed25519_dalek::Signer;
use sha2::{Digest, Sha256};
use std::path::Path;

/// The DER prefix the IC puts before its 96-byte compressed G2 BLS public key; clients
/// (`extract_der` in ic-agent, `extractDER` in agent-js) compare it byte for byte.
pub const IC_ROOT_KEY_DER_PREFIX: [u8; 37] = [
    0x30, 0x81, 0x82, 0x30, 0x1d, 0x06, 0x0d, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xdc, 0x7c, 0x05,
    0x03, 0x01, 0x02, 0x01, 0x06, 0x0c, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0xdc, 0x7c, 0x05, 0x03,
    0x02, 0x01, 0x03, 0x61, 0x00,
];

/// SubjectPublicKeyInfo prefix of an Ed25519 key (OID 1.3.101.112); clients check it.
pub const ED25519_DER_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The hash-to-curve suite of the IC's BLS signatures (signatures in G1).
pub const BLS_DST: &[u8] = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_";

/// Prepended to a tree's root hash before signing, per the interface specification.
pub const STATE_ROOT_DOMAIN_SEPARATOR: &[u8] = b"\x0dic-state-root";

/// Name of the file [`Keys::load_or_create`] keeps the seed in.
pub const KEYS_FILE: &str = "endpoint-keys.json";

/// The endpoint's root (BLS) and node (Ed25519) secrets.
#[derive(Clone)]
pub struct Keys {
    root: blst::min_sig::SecretKey,
    node: ed25519_dalek::SigningKey,
}

/// Never prints secrets: only the public identities.
impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("subnet_id", &self.subnet_id().to_text())
            .field("node_id", &self.node_id().to_text())
            .finish()
    }
}

/// The seed file's contents.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeysFile {
    seed: String,
}

/// SHA-256 of a domain label and the seed, so that the two keys are independent even though
/// they share a seed.
fn derive(domain: &[u8], seed: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([domain.len() as u8]);
    hasher.update(domain);
    hasher.update(seed);
    hasher.finalize().into()
}

impl Keys {
    /// Deterministic keys from a seed: the same seed always gives the same root and node keys.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let ikm = derive(b"mkt-endpoint root bls12-381", &seed);
        // key_gen fails only for key material under 32 bytes, and ours is always 32.
        let root = blst::min_sig::SecretKey::key_gen(&ikm, &[])
            .expect("32 bytes of key material are always enough");
        let node =
            ed25519_dalek::SigningKey::from_bytes(&derive(b"mkt-endpoint node ed25519", &seed));
        Keys { root, node }
    }

    /// Fresh keys from the operating system's randomness.
    pub fn generate() -> Self {
        Self::from_seed(fresh_seed())
    }

    /// Loads `dir/endpoint-keys.json` ({"seed": "<hex>"}), or creates it (mode 0600 on unix)
    /// with a fresh seed, so the root key survives restarts.
    pub fn load_or_create(dir: &Path) -> Result<Self, String> {
        let path = dir.join(KEYS_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => parse_keys_file(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_keys_file(dir, &path),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// The root public key, DER-encoded exactly as the IC encodes its own (133 bytes).
    pub fn root_key_der(&self) -> Vec<u8> {
        let mut der = IC_ROOT_KEY_DER_PREFIX.to_vec();
        der.extend_from_slice(&self.root.sk_to_pk().compress());
        der
    }

    /// The subnet's id: self-authenticating principal of the root key, which is what clients
    /// assume for a certificate without delegation.
    pub fn subnet_id(&self) -> Principal {
        Principal::self_authenticating(self.root_key_der())
    }

    /// The node's Ed25519 public key as SubjectPublicKeyInfo DER (44 bytes).
    pub fn node_key_der(&self) -> Vec<u8> {
        let mut der = ED25519_DER_PREFIX.to_vec();
        der.extend_from_slice(self.node.verifying_key().as_bytes());
        der
    }

    /// The node's id: self-authenticating principal of its key, as `identity` in query
    /// signatures and as `<node_id>` in the state tree.
    pub fn node_id(&self) -> Principal {
        Principal::self_authenticating(self.node_key_der())
    }

    /// BLS signature (48 bytes, compressed G1) over `"\x0dic-state-root" ++ root_hash`.
    pub fn sign_state_root(&self, root_hash: &[u8; 32]) -> Vec<u8> {
        let mut msg = STATE_ROOT_DOMAIN_SEPARATOR.to_vec();
        msg.extend_from_slice(root_hash);
        self.root.sign(&msg, BLS_DST, &[]).compress().to_vec()
    }

    /// Ed25519 signature by the node key over `signable`, which the caller takes from
    /// `ic_transport_types::QueryResponse::signable` (that already prepends "\x0bic-response").
    pub fn sign_query_response(&self, signable: &[u8]) -> Vec<u8> {
        self.node.sign(signable).to_bytes().to_vec()
    }
}

fn fresh_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    // Without OS randomness there is no safe key to make; this is not recoverable.
    getrandom::fill(&mut seed).expect("the operating system's random source is unavailable");
    seed
}

/// Parses the seed file, rejecting anything but 32 hex-encoded bytes.
fn parse_keys_file(text: &str) -> Result<Keys, String> {
    let file: KeysFile = serde_json::from_str(text).map_err(|e| format!("not a keys file: {e}"))?;
    let bytes = hex::decode(file.seed.trim()).map_err(|e| format!("seed is not hex: {e}"))?;
    let seed: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| format!("seed has {} bytes, expected 32", bytes.len()))?;
    Ok(Keys::from_seed(seed))
}

/// Writes a fresh seed, readable by the owner only. `create_new` means a concurrent creator
/// wins and we read its seed instead of overwriting it.
fn create_keys_file(dir: &Path, path: &Path) -> Result<Keys, String> {
    use std::io::Write;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let seed = fresh_seed();
    let text = serde_json::to_string(&KeysFile {
        seed: hex::encode(seed),
    })
    .map_err(|e| e.to_string())?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            return parse_keys_file(&text).map_err(|e| format!("{}: {e}", path.display()));
        }
        Err(e) => return Err(format!("cannot create {}: {e}", path.display())),
    };
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(Keys::from_seed(seed))
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
