//! What the `mkt-mcp` end-to-end tests share: a deployed state directory with a provider and
//! a node, and the binary spoken to in JSON-RPC 2.0 over its stdin and stdout; `market` adds
//! the market tools' catalog, offer and agent.
// Each test file uses its own part of these helpers.
#![allow(dead_code)]

pub mod market;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

/// The provider's operator: a delegate of the provider key.
pub const OPS: &str = "s6ely-d4zm2-yclie-fotzv-d7ttp-fffoy-t3nwx-j6s5t-p67tc-bodrq-7qe";
/// The simulated Ironic node: the registered item's `resource_uuid`.
pub const NODE: &str = "1be26c0b-03f2-4d2d-ae87-c02d7f33c123";
pub const SECRET: [u8; 32] = [7; 32];
/// How long one reply may take: a debug build interpreting the canister, on a busy machine.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(120);

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("mcp/ is inside the repository")
        .to_path_buf()
}

pub fn did() -> PathBuf {
    repo_root().join("candid/marketplace.did")
}

/// A state directory with the marketplace deployed by the runner library (`mkt deploy`).
pub fn deployed() -> tempfile::TempDir {
    let wasm = repo_root().join("target/wasm/marketplace.wasm.gz");
    assert!(
        wasm.is_file(),
        "{} is missing: build it with `bash scripts/build.sh --marketplace-only` before running \
         these tests",
        wasm.display()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    runner::commands::deploy(dir.path(), &did(), &wasm, None, false, &[], None)
        .expect("mkt deploy");
    dir
}

pub fn provider_pem() -> String {
    marketplace::catalog::signing::provider_of(&SECRET).to_pem()
}

/// `mkt provider delegate` for `operator`, then `mkt call inventory_register --caller operator`
/// of one Ironic node of resource class "baremetal.large".
pub fn with_a_node(dir: &Path, operator: &str) {
    let key = dir.join("provider.key");
    let hex: String = SECRET.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&key, format!("{hex}\n")).expect("write the provider key");
    runner::provider::delegate(
        dir,
        &did(),
        &runner::provider::Delegation {
            key: &key,
            principal: operator,
            allow: true,
            seq: None,
            expires_in: None,
        },
    )
    .expect("mkt provider delegate");
    let register = format!(
        r#"(record {{ provider = variant {{ Pem = "{}" }}; items = vec {{ record {{
            resource_type = "ironic_node"; resource_uuid = "{NODE}"; sku = "4D.large";
            attributes = record {{ cores = 32; memory_mb = 262144; storage_gb = 4000; gpus = 0;
              resource_class = "baremetal.large"; routable_ips = 2; labels = vec {{}} }} }} }} }})"#,
        provider_pem()
    );
    let reply =
        runner::commands::call_reply(dir, &did(), "inventory_register", &register, operator)
            .expect("inventory_register");
    let reply = runner::candid_text::Interface::load(&did())
        .unwrap()
        .decode_reply("inventory_register", &reply)
        .unwrap()
        .to_string();
    assert!(reply.contains("Ok = vec"), "inventory_register: {reply}");
}

/// The server as a child process, its stdout read line by line on a thread.
pub struct Mcp {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    next_id: u64,
}

impl Mcp {
    pub fn spawn(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mkt-mcp"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn mkt-mcp");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            lines,
            next_id: 1,
        }
    }

    /// Spawned on `dir` as `caller`, and initialized.
    pub fn local(dir: &Path, caller: &str) -> Self {
        let mut mcp = Self::spawn(&["--local", dir.to_str().unwrap(), "--caller", caller]);
        let init = mcp.initialize();
        assert_eq!(init["serverInfo"]["name"], "mkt-mcp", "{init}");
        mcp
    }

    pub fn send(&mut self, message: &Value) {
        writeln!(self.stdin, "{message}").expect("write to mkt-mcp");
        self.stdin.flush().unwrap();
    }

    /// A request's whole response (`result` or `error`), skipping notifications.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let line = self
                .lines
                .recv_timeout(REPLY_TIMEOUT)
                .unwrap_or_else(|e| panic!("no reply to {method} (id {id}): {e}"));
            let message: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not JSON on stdout ({e}): {line}"));
            assert_eq!(message["jsonrpc"], "2.0", "{message}");
            if message["id"] == json!(id) {
                return message;
            }
            assert!(
                message.get("id").is_none(),
                "a reply to another request: {message}"
            );
        }
    }

    pub fn result(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    pub fn initialize(&mut self) -> Value {
        let result = self.result(
            "initialize",
            json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": { "name": "stdio-test", "version": "0" }
            }),
        );
        self.send(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" }));
        result
    }

    pub fn call(&mut self, tool: &str, arguments: Value) -> Value {
        self.result(
            "tools/call",
            json!({ "name": tool, "arguments": arguments }),
        )
    }

    /// A successful tool call's structured result, which its text content repeats.
    pub fn ok(&mut self, tool: &str, arguments: Value) -> Value {
        let result = self.call(tool, arguments.clone());
        assert_eq!(
            result["isError"], false,
            "{tool} {arguments} failed: {result}"
        );
        let structured = result["structuredContent"].clone();
        let text = result["content"][0]["text"].as_str().expect("text content");
        assert_eq!(serde_json::from_str::<Value>(text).unwrap(), structured);
        structured
    }

    /// A tool call that failed: the error's text.
    pub fn tool_error(&mut self, tool: &str, arguments: Value) -> String {
        let result = self.call(tool, arguments.clone());
        assert_eq!(
            result["isError"], true,
            "{tool} {arguments} should fail: {result}"
        );
        result["content"][0]["text"]
            .as_str()
            .expect("text content")
            .to_string()
    }
}

impl Drop for Mcp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
