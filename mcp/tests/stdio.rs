//! `mkt-mcp` end to end: the binary spoken to in JSON-RPC 2.0 over its stdin and stdout
//! (newline-delimited), with `--local` on a state directory where the runner library deployed
//! the marketplace wasm built by `scripts/build.sh`.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

/// The provider's operator: a delegate of the provider key.
const OPS: &str = "s6ely-d4zm2-yclie-fotzv-d7ttp-fffoy-t3nwx-j6s5t-p67tc-bodrq-7qe";
/// The simulated Ironic node: the registered item's `resource_uuid`.
const NODE: &str = "1be26c0b-03f2-4d2d-ae87-c02d7f33c123";
const SECRET: [u8; 32] = [7; 32];
/// How long one reply may take: a debug build interpreting the canister, on a busy machine.
const REPLY_TIMEOUT: Duration = Duration::from_secs(120);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("mcp/ is inside the repository")
        .to_path_buf()
}

fn did() -> PathBuf {
    repo_root().join("candid/marketplace.did")
}

/// A state directory with the marketplace deployed by the runner library (`mkt deploy`).
fn deployed() -> tempfile::TempDir {
    let wasm = repo_root().join("target/wasm/marketplace.wasm.gz");
    assert!(
        wasm.is_file(),
        "{} is missing: build it with `bash scripts/build.sh --marketplace-only` before running \
         these tests",
        wasm.display()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    runner::commands::deploy(dir.path(), &did(), &wasm, None, false).expect("mkt deploy");
    dir
}

fn provider_pem() -> String {
    marketplace::catalog::signing::provider_of(&SECRET).to_pem()
}

/// `mkt provider delegate` for OPS, then `mkt call inventory_register --caller OPS` of one
/// Ironic node of resource class "baremetal.large".
fn with_a_node(dir: &Path) {
    let key = dir.join("provider.key");
    let hex: String = SECRET.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(&key, format!("{hex}\n")).expect("write the provider key");
    runner::provider::delegate(
        dir,
        &did(),
        &runner::provider::Delegation {
            key: &key,
            principal: OPS,
            allow: true,
            seq: None,
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
    let reply = runner::commands::call_reply(dir, &did(), "inventory_register", &register, OPS)
        .expect("inventory_register");
    let reply = runner::candid_text::Interface::load(&did())
        .unwrap()
        .decode_reply("inventory_register", &reply)
        .unwrap()
        .to_string();
    assert!(reply.contains("Ok = vec"), "inventory_register: {reply}");
}

/// The server as a child process, its stdout read line by line on a thread.
struct Mcp {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    next_id: u64,
}

impl Mcp {
    fn spawn(args: &[&str]) -> Self {
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
    fn local(dir: &Path, caller: &str) -> Self {
        let mut mcp = Self::spawn(&["--local", dir.to_str().unwrap(), "--caller", caller]);
        let init = mcp.initialize();
        assert_eq!(init["serverInfo"]["name"], "mkt-mcp", "{init}");
        mcp
    }

    fn send(&mut self, message: &Value) {
        writeln!(self.stdin, "{message}").expect("write to mkt-mcp");
        self.stdin.flush().unwrap();
    }

    /// A request's whole response (`result` or `error`), skipping notifications.
    fn request(&mut self, method: &str, params: Value) -> Value {
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

    fn result(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert!(response.get("error").is_none(), "{method}: {response}");
        response["result"].clone()
    }

    fn initialize(&mut self) -> Value {
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

    fn call(&mut self, tool: &str, arguments: Value) -> Value {
        self.result(
            "tools/call",
            json!({ "name": tool, "arguments": arguments }),
        )
    }

    /// A successful tool call's structured result, which its text content repeats.
    fn ok(&mut self, tool: &str, arguments: Value) -> Value {
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
    fn tool_error(&mut self, tool: &str, arguments: Value) -> String {
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

#[test]
fn initialize_then_list_both_tools_with_their_schemas() {
    let dir = deployed();
    let mut mcp = Mcp::spawn(&["--local", dir.path().to_str().unwrap()]);
    let init = mcp.initialize();
    assert_eq!(init["protocolVersion"], "2025-06-18", "{init}");
    assert!(init["capabilities"]["tools"].is_object(), "{init}");
    assert_eq!(init["serverInfo"]["name"], "mkt-mcp");

    let listed = mcp.result("tools/list", json!({}));
    let tools = listed["tools"].as_array().expect("tools");
    let tool = |name: &str| {
        tools
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no tool {name} in {listed}"))
            .clone()
    };
    assert_eq!(tools.len(), 2, "{listed}");

    let provision = tool("provision_server");
    assert!(provision["description"]
        .as_str()
        .unwrap()
        .starts_with("Provision a server with an operating system image"));
    let input = &provision["inputSchema"];
    assert_eq!(input["type"], "object");
    assert_eq!(input["required"], json!(["image_id"]));
    let properties = input["properties"].as_object().unwrap();
    let mut names: Vec<&str> = properties.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "config_drive",
            "image_id",
            "provider_pem",
            "resource_class",
            "server_id"
        ]
    );
    assert_eq!(properties["image_id"]["type"], "string");
    assert_eq!(properties["server_id"]["type"], json!(["string", "null"]));
    assert!(properties["image_id"]["description"].is_string());
    let output = &provision["outputSchema"];
    let required: Vec<&str> = output["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for field in [
        "operation_id",
        "server_id",
        "server_name",
        "status",
        "message",
    ] {
        assert!(required.contains(&field), "{field} not in {output}");
    }
    assert_eq!(
        output["$defs"]["Status"]["enum"],
        json!(["accepted", "in_progress", "completed", "failed"])
    );

    let check = tool("check_provision_status");
    assert!(check["description"]
        .as_str()
        .unwrap()
        .starts_with("Check the status of a server provisioning operation"));
    let input = &check["inputSchema"];
    assert_eq!(input["required"], json!(["operation_id"]));
    assert_eq!(input["properties"]["operation_id"]["type"], "string");
    assert_eq!(input["properties"]["refresh"]["type"], "boolean");
    assert_eq!(
        check["outputSchema"]["$defs"]["OperationKind"]["enum"],
        json!(["deploy", "undeploy"])
    );
    let output = &check["outputSchema"]["properties"];
    for field in [
        "operation_id",
        "server_id",
        "status",
        "provision_state",
        "progress_percent",
        "started_at",
        "completed_at",
    ] {
        assert!(output.get(field).is_some(), "{field} not in {output}");
    }
}

/// MCP's tool annotations: neither tool is destructive; checking a status is idempotent,
/// provisioning is not; both reach beyond the server (the canister, Ironic).
#[test]
fn tools_carry_the_mcp_annotations() {
    let dir = deployed();
    let mut mcp = Mcp::spawn(&["--local", dir.path().to_str().unwrap()]);
    mcp.initialize();
    let listed = mcp.result("tools/list", json!({}));
    let annotations = |name: &str| {
        listed["tools"]
            .as_array()
            .expect("tools")
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no tool {name} in {listed}"))["annotations"]
            .clone()
    };
    assert_eq!(
        annotations("provision_server"),
        json!({
            "title": "Provision a server",
            "readOnlyHint": false,
            "destructiveHint": false,
            "idempotentHint": false,
            "openWorldHint": true
        })
    );
    assert_eq!(
        annotations("check_provision_status"),
        json!({
            "title": "Check a provisioning operation",
            "readOnlyHint": false,
            "destructiveHint": false,
            "idempotentHint": true,
            "openWorldHint": true
        })
    );
}

#[test]
fn arguments_that_do_not_fit_the_schema_are_refused_before_any_call() {
    let dir = deployed();
    let mut mcp = Mcp::local(dir.path(), "controller");
    // MCP reports invalid tool input as a tool error, so that the model can correct it.
    let text = mcp.tool_error("provision_server", json!({ "server_id": NODE }));
    assert!(text.contains("missing field `image_id`"), "{text}");
    let text = mcp.tool_error("check_provision_status", json!({ "operation": NODE }));
    assert!(text.contains("unknown field `operation`"), "{text}");
    let text = mcp.tool_error(
        "check_provision_status",
        json!({ "operation_id": NODE, "refresh": "yes" }),
    );
    assert!(text.contains("invalid type"), "{text}");
    // A tool that does not exist is a protocol error.
    let no_tool = mcp.request(
        "tools/call",
        json!({ "name": "deprovision_server", "arguments": {} }),
    );
    assert!(no_tool["error"]["code"].is_i64(), "{no_tool}");
    assert!(no_tool.get("result").is_none(), "{no_tool}");
}

#[test]
fn a_directory_without_a_canister_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mkt-mcp"))
        .args(["--local", dir.path().to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no canister in"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn canister_errors_are_tool_errors_naming_the_variant() {
    let dir = deployed();
    with_a_node(dir.path());
    let mut mcp = Mcp::local(dir.path(), OPS);
    let pem = provider_pem();

    let text = mcp.tool_error(
        "provision_server",
        json!({ "image_id": "", "resource_class": "baremetal.large", "provider_pem": pem }),
    );
    assert!(text.starts_with("InvalidArgument: "), "{text}");

    let text = mcp.tool_error(
        "provision_server",
        json!({ "image_id": "ubuntu-24.04", "server_id": "no-such-node", "provider_pem": pem }),
    );
    assert!(
        text.starts_with("ServerNotFound: Server no-such-node not found"),
        "{text}"
    );

    let text = mcp.tool_error(
        "provision_server",
        json!({ "image_id": "ubuntu-24.04", "resource_class": "baremetal.tiny", "provider_pem": pem }),
    );
    assert!(text.starts_with("NoAvailableServers: "), "{text}");

    let text = mcp.tool_error(
        "check_provision_status",
        json!({ "operation_id": "no-such-operation" }),
    );
    assert!(text.starts_with("ServerNotFound: "), "{text}");

    // The identity matters: a stranger is neither the provider's delegate nor a lessee, and
    // the anonymous principal is dropped before the call runs.
    let mut stranger = Mcp::local(
        dir.path(),
        "wmzac-nabae-aqcai-baeaq-caiba-eaqca-ibaea-qcaib-aeaqc-aibae-aqc",
    );
    let text = stranger.tool_error(
        "provision_server",
        json!({ "image_id": "ubuntu-24.04", "server_id": NODE, "provider_pem": pem }),
    );
    assert!(text.starts_with("NotAuthorized: "), "{text}");
    let mut anonymous = Mcp::local(dir.path(), "anonymous");
    let text = anonymous.tool_error(
        "provision_server",
        json!({ "image_id": "ubuntu-24.04", "server_id": NODE, "provider_pem": pem }),
    );
    assert!(text.contains("needs an identity"), "{text}");
}

/// The result has every field its tool's output schema requires, and no other.
fn assert_conforms(mcp: &mut Mcp, tool: &str, result: &Value) {
    let listed = mcp.result("tools/list", json!({}));
    let schema = listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == tool)
        .unwrap()["outputSchema"]
        .clone();
    let properties = schema["properties"].as_object().unwrap();
    let fields = result.as_object().unwrap();
    for field in fields.keys() {
        assert!(properties.contains_key(field), "{field} is not in {schema}");
    }
    for field in schema["required"].as_array().unwrap() {
        assert!(
            fields.contains_key(field.as_str().unwrap()),
            "{field} missing: {result}"
        );
    }
}

#[test]
fn provision_a_server_and_follow_it_to_completed() {
    let dir = deployed();
    with_a_node(dir.path());
    let mut mcp = Mcp::local(dir.path(), OPS);

    let started = mcp.ok(
        "provision_server",
        json!({
            "image_id": "ubuntu-24.04",
            "resource_class": "baremetal.large",
            "provider_pem": provider_pem(),
            "config_drive": "#cloud-config\nhostname: mcp-test\n"
        }),
    );
    assert_eq!(started["server_id"], NODE, "{started}");
    assert_eq!(started["operation_id"], NODE, "{started}");
    assert_eq!(started["item_id"], 1, "{started}");
    assert!(
        ["accepted", "in_progress"].contains(&started["status"].as_str().unwrap()),
        "{started}"
    );
    assert!(started["started_at"].as_str().unwrap().ends_with('Z'));
    assert_conforms(&mut mcp, "provision_server", &started);

    // The same server again: taken.
    let text = mcp.tool_error(
        "provision_server",
        json!({ "image_id": "ubuntu-24.04", "server_id": NODE, "provider_pem": provider_pem() }),
    );
    assert!(text.starts_with("ServerNotAvailable: "), "{text}");

    let status = mcp.ok("check_provision_status", json!({ "operation_id": NODE }));
    assert_eq!(status["operation_id"], NODE);
    assert_eq!(status["kind"], "deploy");
    assert_ne!(status["status"], "completed", "{status}");
    assert_eq!(status["completed_at"], Value::Null);

    // The simulated node deploys in a few steps of ten seconds, moved on by the timer.
    let mut last = status;
    for _ in 0..5 {
        runner::commands::advance_time(dir.path(), "1m").expect("mkt advance-time 1m");
        last = mcp.ok("check_provision_status", json!({ "operation_id": NODE }));
        if last["status"] == "completed" {
            break;
        }
        assert_eq!(last["status"], "in_progress", "{last}");
    }
    assert_eq!(last["status"], "completed", "{last}");
    assert_eq!(last["provision_state"], "active", "{last}");
    assert_eq!(last["progress_percent"], 100, "{last}");
    assert!(
        last["completed_at"].as_str().unwrap().ends_with('Z'),
        "{last}"
    );
    assert!(
        last["checked_at"].as_str().unwrap().ends_with('Z'),
        "{last}"
    );
    assert_conforms(&mut mcp, "check_provision_status", &last);

    // Reading Ironic now (provision_refresh) agrees.
    let refreshed = mcp.ok(
        "check_provision_status",
        json!({ "operation_id": NODE, "refresh": true }),
    );
    assert_eq!(refreshed["status"], "completed", "{refreshed}");
    assert_eq!(refreshed["provision_state"], "active", "{refreshed}");
}
