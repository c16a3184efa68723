//! `mkt serve`: the canister in a state directory behind a local endpoint speaking the IC's HTTP
//! interface (crate `endpoint`), until interrupted. While it serves, the state directory holds
//! `serve.lock` with its URL: other `mkt` commands refuse to touch the state (it lives in the
//! server's memory) and `mkt advance-time` moves the server's clock instead.

use crate::state::State;
use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

const LOCK: &str = "serve.lock";

pub struct Options {
    pub port: u16,
    /// Time moves only with `mkt advance-time`, not with the wall clock.
    pub manual_time: bool,
}

pub fn serve(dir: &Path, options: Options) -> Result<(), String> {
    if !State::exists(dir) {
        return Err(format!(
            "no canister in {}: run `mkt deploy` first",
            dir.display()
        ));
    }
    let keys = endpoint::keys::Keys::load_or_create(dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server's runtime: {e}"))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
            .await
            .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", options.port))?;
        let address = listener
            .local_addr()
            .map_err(|e| format!("no local address: {e}"))?;
        let url = format!("http://{address}");
        let _lock = Lock::acquire(dir, &url)?;
        let owned = dir.to_path_buf();
        let config = endpoint::replica::Config {
            dir: dir.to_path_buf(),
            manual_time: options.manual_time,
        };
        let subnet = keys.subnet_id();
        let names = State::names(dir)?;
        let ready = move |canisters: &[candid::Principal]| {
            let canister = canisters[0];
            say!("mkt serve: canister {canister} on subnet {subnet}");
            for (name, id) in names.iter().filter(|(_, id)| canisters.contains(id)) {
                say!("mkt serve: {name} canister {id}");
            }
            say!("mkt serve: listening on {url}");
            // The canister serves its web app; the gateway on the same port verifies it.
            say!(
                "mkt serve: the web app at http://{canister}.localhost:{}/",
                address.port()
            );
        };
        endpoint::serve::serve(
            listener,
            move || State::load_unserved(&owned).map(|state| state.host),
            keys,
            config,
            ready,
            shutdown(),
        )
        .await
    })
}

/// Ctrl-C, or SIGTERM on Unix: the server saves the state and exits.
async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The URL of the `mkt serve` serving `dir`, if one is running (a lock whose server no longer
/// answers is stale and ignored).
pub fn serving(dir: &Path) -> Option<String> {
    let url = fs::read_to_string(dir.join(LOCK)).ok()?;
    let url = url.trim().to_string();
    let address: SocketAddr = url.strip_prefix("http://")?.parse().ok()?;
    TcpStream::connect_timeout(&address, Duration::from_millis(300))
        .is_ok()
        .then_some(url)
}

/// `mkt advance-time` against a running server: its admin route moves the replica's clock.
/// Returns the canister's time afterwards (nanoseconds).
pub fn advance_time(url: &str, by: Duration) -> Result<u64, String> {
    let response = reqwest::blocking::Client::new()
        .post(format!("{url}/_/advance_time"))
        .body(serde_json::json!({ "nanos": by.as_nanos() as u64 }).to_string())
        .send()
        .map_err(|e| format!("cannot reach mkt serve at {url}: {e}"))?;
    let status = response.status();
    let body = response
        .text()
        .map_err(|e| format!("no answer from mkt serve at {url}: {e}"))?;
    if !status.is_success() {
        return Err(format!("mkt serve at {url} refused: {status} {body}"));
    }
    let reply: serde_json::Value =
        serde_json::from_str(&body).map_err(|e| format!("mkt serve answered {body}: {e}"))?;
    reply["time_nanos"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| format!("mkt serve answered {body}"))
}

/// The lock file of a serving state directory, removed when the server stops.
struct Lock(PathBuf);

impl Lock {
    fn acquire(dir: &Path, url: &str) -> Result<Self, String> {
        if let Some(other) = serving(dir) {
            return Err(format!(
                "{} is already served by mkt serve at {other}",
                dir.display()
            ));
        }
        let path = dir.join(LOCK);
        fs::write(&path, format!("{url}\n"))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}
