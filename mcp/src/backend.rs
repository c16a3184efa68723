//! Where the tools' calls go: the local runner's state directory (in-process), or a canister on
//! a replica through ic-agent with the user's identity.

use candid::Principal;
use ic_agent::identity::{AnonymousIdentity, BasicIdentity, Secp256k1Identity};
use ic_agent::{Agent, Identity};
use runner::commands::CallKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Query,
    Update,
}

pub enum Backend {
    /// The canister in a `mkt` state directory, called as `caller`. Calls are serialized: each
    /// loads the state and an update saves it.
    Local {
        dir: PathBuf,
        caller: String,
        lock: tokio::sync::Mutex<()>,
    },
    Agent {
        agent: Agent,
        canister: Principal,
    },
}

impl Backend {
    pub fn local(dir: PathBuf, caller: String) -> Result<Self, String> {
        // Fail at start rather than on every call: no canister, or a caller that is not one.
        let state = runner::state::State::load(&dir)?;
        runner::commands::parse_caller(&state.host, &caller)?;
        Ok(Self::Local {
            dir,
            caller,
            lock: tokio::sync::Mutex::new(()),
        })
    }

    /// An agent for `url` signing as the PEM file's identity (anonymous without one). A local
    /// replica (an `http:` URL) has its own root key, fetched from it.
    pub async fn agent(url: &str, canister: &str, pem: Option<&Path>) -> Result<Self, String> {
        let canister =
            Principal::from_text(canister).map_err(|e| format!("--canister '{canister}': {e}"))?;
        let identity: Arc<dyn Identity> = match pem {
            Some(path) => identity_from_pem(
                &std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
            )
            .map_err(|e| format!("{}: {e}", path.display()))?,
            None => Arc::new(AnonymousIdentity),
        };
        let agent = Agent::builder()
            .with_url(url)
            .with_arc_identity(identity)
            .build()
            .map_err(|e| format!("--url {url}: {e}"))?;
        if needs_root_key(url) {
            agent
                .fetch_root_key()
                .await
                .map_err(|e| format!("cannot fetch the root key of {url}: {e}"))?;
        }
        Ok(Self::Agent { agent, canister })
    }

    /// Calls `method` with Candid argument bytes; the reply's bytes, or why there is none.
    pub async fn call(&self, method: &str, kind: Kind, arg: Vec<u8>) -> Result<Vec<u8>, String> {
        match self {
            Self::Local { dir, caller, lock } => {
                let _one_at_a_time = lock.lock().await;
                let (dir, caller, name) = (dir.clone(), caller.clone(), method.to_string());
                let kind = match kind {
                    Kind::Query => CallKind::Query,
                    Kind::Update => CallKind::Update,
                };
                tokio::task::spawn_blocking(move || {
                    runner::call_bytes(&dir, &name, &arg, kind, &caller)
                })
                .await
                .map_err(|e| format!("{method}: the local call panicked: {e}"))?
            }
            Self::Agent { agent, canister } => match kind {
                Kind::Query => agent.query(canister, method).with_arg(arg).call().await,
                Kind::Update => {
                    agent
                        .update(canister, method)
                        .with_arg(arg)
                        .call_and_wait()
                        .await
                }
            }
            .map_err(|e| format!("{method}: {e}")),
        }
    }
}

/// A dfx identity's PEM: Secp256k1 (`EC PRIVATE KEY`, dfx's default) or Ed25519 (`PRIVATE KEY`).
pub fn identity_from_pem(pem: &[u8]) -> Result<Arc<dyn Identity>, String> {
    let secp256k1 = match Secp256k1Identity::from_pem(pem) {
        Ok(identity) => return Ok(Arc::new(identity)),
        Err(e) => e,
    };
    match BasicIdentity::from_pem(pem) {
        Ok(identity) => Ok(Arc::new(identity)),
        Err(ed25519) => Err(format!(
            "neither a Secp256k1 ({secp256k1}) nor an Ed25519 ({ed25519}) private key"
        )),
    }
}

/// Only a replica on this machine or a test network has a root key other than the IC's: one
/// reached over plain http.
fn needs_root_key(url: &str) -> bool {
    url.trim_start().to_ascii_lowercase().starts_with("http://")
}

#[cfg(test)]
mod tests;
