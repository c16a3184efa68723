//! The market tools' end-to-end setting: a state directory with the example catalog and the
//! node offered for 30 days, and an agent (`mkt-mcp --local`) with its own key directory; the
//! tools as `tools/list` gives them, and results checked against their output schemas.

use super::*;
use serde_json::{json, Value};
use std::path::Path;

/// The consumer.
pub const ALICE: &str = "wmzac-nabae-aqcai-baeaq-caiba-eaqca-ibaea-qcaib-aeaqc-aibae-aqc";
pub const HOUR_NS: u64 = 3_600_000_000_000;
pub const DAY_NS: u64 = 24 * HOUR_NS;

pub fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// `mkt provider publish` of the example catalog: three visible offerings (DC2993, a VPS at
/// 99.99 EUR; QC1494, dedicated at 149.99 EUR; 4XQC3719, dedicated at 249.99 USD) and an
/// invisible one.
pub fn with_a_catalog(dir: &Path) {
    let change = runner::provider::Change {
        key: &dir.join("provider.key"),
        csv: &repo_root().join("tests/fixtures/serverhunter-offering-example.csv"),
        upsert: false,
        seq: None,
    };
    runner::provider::publish(
        dir,
        &did(),
        &change,
        runner::provider::Transfer::default(),
        runner::Output::Idl,
    )
    .expect("mkt provider publish");
}

/// The node (item 1) offered for 30 days, from an hour ago, at 2.50 USD an hour.
pub fn with_an_offer(dir: &Path) {
    let now = now_ns() - HOUR_NS;
    let arg = format!(
        r#"(record {{ provider = variant {{ Pem = "{}" }}; item_id = 1; start_ns = {now};
            end_ns = {}; price_per_hour = 250; properties = vec {{}} }})"#,
        provider_pem(),
        now + 30 * DAY_NS
    );
    let reply =
        runner::commands::call_reply(dir, &did(), "offer_create", &arg, OPS).expect("offer_create");
    let reply = runner::candid_text::Interface::load(&did())
        .unwrap()
        .decode_reply("offer_create", &reply)
        .unwrap()
        .to_string();
    assert!(reply.contains("Ok = record"), "offer_create: {reply}");
}

pub fn market() -> tempfile::TempDir {
    let dir = deployed();
    with_a_node(dir.path(), OPS);
    with_a_catalog(dir.path());
    with_an_offer(dir.path());
    dir
}

/// `mkt-mcp --local DIR --caller CALLER --keys KEYS`, initialized.
pub fn agent(dir: &Path, caller: &str, keys: &Path) -> Mcp {
    let mut mcp = Mcp::spawn(&[
        "--local",
        dir.to_str().unwrap(),
        "--caller",
        caller,
        "--keys",
        keys.to_str().unwrap(),
    ]);
    mcp.initialize();
    mcp
}

pub fn tools(mcp: &mut Mcp) -> Vec<Value> {
    mcp.result("tools/list", json!({}))["tools"]
        .as_array()
        .expect("tools")
        .clone()
}

pub fn tool(tools: &[Value], name: &str) -> Value {
    tools
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no tool {name}"))
        .clone()
}

/// The result has every field its tool's output schema requires, and no other.
pub fn assert_conforms(tools: &[Value], name: &str, result: &Value) {
    conforms(&tool(tools, name)["outputSchema"], result);
}

pub fn conforms(schema: &Value, result: &Value) {
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
