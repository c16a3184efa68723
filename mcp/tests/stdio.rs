//! `mkt-mcp` end to end: the binary spoken to in JSON-RPC 2.0 over its stdin and stdout
//! (newline-delimited), with `--local` on a state directory where the runner library deployed
//! the marketplace wasm built by `scripts/build.sh`.

mod common;

use common::*;
use serde_json::{json, Value};
use std::process::{Command, Stdio};

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
    assert_eq!(tools.len(), 13, "{listed}"); // these two and the market's eleven (market_tools.rs)

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
    with_a_node(dir.path(), OPS);
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
    with_a_node(dir.path(), OPS);
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
