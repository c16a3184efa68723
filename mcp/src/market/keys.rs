//! The lessee key mkt-mcp keeps for its agent: an X25519 secret key in `DIR/lessee.key`
//! (hex, owner-only), made at the first accept_offer or lease_by_sku. Its public key goes to
//! the canister as the lease's `lessee_key`; the secret key never leaves the file but to open
//! credentials.

use super::types::{CredentialsState, LeaseStatusResult};
use marketplace::api::SealedBox;
use std::path::{Path, PathBuf};

pub const KEY_FILE: &str = "lessee.key";

pub struct LesseeKeys {
    dir: PathBuf,
    /// One lease at a time makes the key.
    lock: tokio::sync::Mutex<()>,
}

impl LesseeKeys {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    /// The key's public half, the key made first if there is none.
    pub async fn public_key_or_new(&self) -> Result<[u8; runner::lessee::KEY_BYTES], String> {
        let _one = self.lock.lock().await;
        let path = self.path();
        if path.exists() {
            return Ok(*runner::lessee::read_secret(&path)?.public_key().as_bytes());
        }
        create_private_dir(&self.dir)?;
        runner::lessee::generate_key(&path)
    }

    /// The credentials `sealed` holds, opened with the key if there is one.
    pub fn open(
        &self,
        sealed: Option<&SealedBox>,
    ) -> (CredentialsState, Option<String>, Option<String>) {
        let Some(sealed) = sealed else {
            return (CredentialsState::NotSealed, None, None);
        };
        let path = self.path();
        if !path.exists() {
            return (CredentialsState::NoKey, None, None);
        }
        match runner::lessee::read_secret(&path)
            .and_then(|secret| runner::lessee::open(&secret, sealed))
        {
            Ok(plain) => (
                CredentialsState::Opened,
                Some(String::from_utf8_lossy(&plain).into_owned()),
                None,
            ),
            Err(e) => (CredentialsState::NotOpened, None, Some(e)),
        }
    }

    pub fn status(&self, execution: marketplace::api::Execution) -> LeaseStatusResult {
        let (credentials_state, credentials, credentials_error) =
            self.open(execution.consumer_meta.as_ref());
        LeaseStatusResult {
            execution: execution.into(),
            credentials_state,
            credentials,
            credentials_error,
        }
    }
}

/// The directory, made owner-only when this creates it.
fn create_private_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// Where the key is kept unless `--keys` says: beside the local runner's state
/// (`DIR/mkt-mcp`), or `$XDG_CONFIG_HOME/mkt-mcp` (`~/.config/mkt-mcp`).
pub fn default_dir(local: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(state) = local {
        return Ok(state.join("mkt-mcp"));
    }
    if let Some(config) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(config).join("mkt-mcp"));
    }
    std::env::var_os("HOME")
        .filter(|v| !v.is_empty())
        .map(|home| PathBuf::from(home).join(".config/mkt-mcp"))
        .ok_or_else(|| "no HOME nor XDG_CONFIG_HOME: give --keys DIR".into())
}
