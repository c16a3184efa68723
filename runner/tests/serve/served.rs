//! A deployed canister served by `mkt serve` on a free port, for the tests that talk to it.

use candid::Principal;
use ic_agent::{Agent, Identity};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runner/ is inside the repository")
        .to_path_buf()
}

pub fn mkt(state: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mkt"));
    command
        .current_dir(repo_root())
        .env_remove("MKT_STATE")
        .arg("--state")
        .arg(state);
    command
}

/// A deployed canister served on a free port; `stop` ends the server as Ctrl-C would, a drop kills it.
pub struct Served {
    pub state: tempfile::TempDir,
    child: Child,
    pub url: String,
    pub canister: Principal,
}

impl Served {
    #[allow(dead_code)] // not every test file uses every helper
    pub fn start(extra: &[&str]) -> Self {
        Self::start_with(&[], extra)
    }

    /// `mkt deploy` with `deploy`'s flags, then `mkt serve` with `serve`'s.
    pub fn start_with(deploy: &[&str], serve: &[&str]) -> Self {
        let state = tempfile::tempdir().expect("temp dir");
        let deployed = mkt(state.path())
            .arg("deploy")
            .args(deploy)
            .output()
            .expect("run mkt");
        assert!(deployed.status.success(), "{deployed:?}");
        Self::serve(state, serve)
    }

    pub fn serve(state: tempfile::TempDir, extra: &[&str]) -> Self {
        let mut child = mkt(state.path())
            .args(["serve", "--port", "0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run mkt serve");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut canister = None;
        let url = loop {
            let line = lines
                .next()
                .expect("mkt serve printed its URL")
                .expect("utf-8");
            if let Some(rest) = line.strip_prefix("mkt serve: canister ") {
                let id = rest.split(' ').next().expect("an id");
                canister = Some(Principal::from_text(id).expect("a canister id"));
            }
            if let Some(url) = line.strip_prefix("mkt serve: listening on ") {
                break url.to_string();
            }
        };
        // Keep reading what it prints later: `mkt` exits when its stdout is closed.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            state,
            child,
            url,
            canister: canister.expect("the canister id is printed before the URL"),
        }
    }

    #[allow(dead_code)] // not every test file uses every helper
    pub async fn agent(&self, identity: impl Identity + 'static) -> Agent {
        let agent = Agent::builder()
            .with_url(&self.url)
            .with_identity(identity)
            .build()
            .expect("an agent");
        agent.fetch_root_key().await.expect("the root key");
        agent
    }

    /// Stops the server the way Ctrl-C or a service manager does, and waits for it.
    #[allow(dead_code)]
    pub fn stop(mut self) -> tempfile::TempDir {
        terminate(&mut self.child);
        std::mem::replace(&mut self.state, tempfile::tempdir().expect("temp dir"))
    }
}

fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = child.wait().expect("mkt serve exits");
    assert!(status.success(), "mkt serve exited with {status}");
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[allow(dead_code)]
pub fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos() as u64
}
