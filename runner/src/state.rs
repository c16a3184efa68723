//! The canister between invocations: loaded from the state directory, saved back after it ran.

use candid::Principal;
use ic0_host::{Host, HttpReply, RejectCode};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The file whose presence says a state directory holds a canister (written by `Host::save`).
const MARKER: &str = "state.json";
/// The names `mkt` gives the canisters installed beside the market (`ledger`), by id.
const NAMES: &str = "canisters.json";
/// What `--canister` names the primary canister, the marketplace.
pub const MARKET: &str = "market";

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

    /// The canister `name` stands for: `market`, a name given at deploy (`ledger`), or the id
    /// of a hosted canister.
    pub fn canister(&self, name: &str) -> Result<Principal, String> {
        if name == MARKET {
            return Ok(self.host.canister_id());
        }
        let names = Self::names(&self.dir)?;
        let id = match names.get(name) {
            Some(id) => *id,
            None => Principal::from_text(name).map_err(|_| {
                let known: Vec<&str> = std::iter::once(MARKET)
                    .chain(names.keys().map(String::as_str))
                    .collect();
                format!(
                    "no canister '{name}' in {}: give one of {} or a canister id",
                    self.dir.display(),
                    known.join(", ")
                )
            })?,
        };
        if !self.host.canister_ids().contains(&id) {
            return Err(format!("canister {id} is not in {}", self.dir.display()));
        }
        Ok(id)
    }

    /// The names of the canisters beside the market in `dir`.
    pub fn names(dir: &Path) -> Result<BTreeMap<String, Principal>, String> {
        let path = dir.join(NAMES);
        if !path.is_file() {
            return Ok(BTreeMap::new());
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let texts: BTreeMap<String, String> = serde_json::from_str(&text)
            .map_err(|e| format!("{} is damaged: {e}", path.display()))?;
        texts
            .into_iter()
            .map(|(name, id)| {
                let id = Principal::from_text(&id)
                    .map_err(|e| format!("{}: {name}: {e}", path.display()))?;
                Ok((name, id))
            })
            .collect()
    }

    /// Records the names of the canisters beside the market (all of them: a deploy replaces them).
    pub fn set_names(&self, names: &BTreeMap<String, Principal>) -> Result<(), String> {
        let path = self.dir.join(NAMES);
        let texts: BTreeMap<&String, String> = names
            .iter()
            .map(|(name, id)| (name, id.to_text()))
            .collect();
        let json = serde_json::to_string_pretty(&texts).map_err(|e| e.to_string())?;
        // Through a temporary file and a rename: a crash leaves the old names or the new ones.
        let tmp = self.dir.join(format!("{NAMES}.tmp"));
        std::fs::write(&tmp, json + "\n")
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
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
