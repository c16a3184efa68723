//! The canister between invocations: loaded from the state directory, saved back after it ran.

use ic0_host::{Host, HttpReply, RejectCode};
use std::path::{Path, PathBuf};

/// The file whose presence says a state directory holds a canister (written by `Host::save`).
const MARKER: &str = "state.json";

pub struct State {
    pub dir: PathBuf,
    pub host: Host,
}

impl State {
    pub fn exists(dir: &Path) -> bool {
        dir.join(MARKER).is_file()
    }

    /// A fresh host that will be saved to `dir`.
    pub fn fresh(dir: &Path) -> Self {
        let mut host = Host::new();
        offline(&mut host);
        Self {
            dir: dir.to_path_buf(),
            host,
        }
    }

    /// Loads the canister, unless `mkt serve` is serving it (then the state lives in the
    /// server's memory and only the server may touch it).
    pub fn load(dir: &Path) -> Result<Self, String> {
        if let Some(url) = crate::serve::serving(dir) {
            return Err(format!(
                "{} is being served by mkt serve at {url}: call the canister through that \
                 endpoint (dfx or icp with --network, agent-js, ic-agent), or stop the server first",
                dir.display()
            ));
        }
        Self::load_unserved(dir)
    }

    /// Loads the canister without checking for a server (what the server itself does).
    pub fn load_unserved(dir: &Path) -> Result<Self, String> {
        if !Self::exists(dir) {
            return Err(format!(
                "no canister in {}: run `mkt deploy` first",
                dir.display()
            ));
        }
        let mut host = Host::load(dir)
            .map_err(|e| format!("cannot load the canister from {}: {e}", dir.display()))?;
        offline(&mut host);
        Ok(Self {
            dir: dir.to_path_buf(),
            host,
        })
    }

    /// Prints what the canister logged and writes the state back.
    pub fn finish(&mut self) -> Result<(), String> {
        self.print_log();
        self.host
            .save(&self.dir)
            .map_err(|e| format!("cannot save the canister to {}: {e}", self.dir.display()))
    }

    pub fn print_log(&mut self) {
        for entry in self.host.take_debug_log() {
            for line in entry.lines() {
                eprintln!("[canister] {line}");
            }
        }
    }
}

/// The runner makes no network requests: every HTTPS outcall fails as unreachable.
fn offline(host: &mut Host) {
    host.set_http_responder(|_| {
        HttpReply::Reject(
            RejectCode::SysTransient,
            "the local runner makes no network requests".into(),
        )
    });
}

/// Reads a canister module (plain or gzipped wasm).
pub fn read_wasm(path: &Path) -> Result<Vec<u8>, String> {
    if !path.is_file() {
        return Err(format!(
            "no wasm at {}: build it with scripts/build.sh (or pass --wasm PATH)",
            path.display()
        ));
    }
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}
