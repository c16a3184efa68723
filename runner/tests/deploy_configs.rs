//! dfx.json and icp.yaml are what the tools accept: each validates against its tool's published
//! JSON schema (dfx's dfx-json schema, icp-cli's icp-yaml schema; copies beside the project in
//! `../shared/schemas/`), and both deploy the wasm the tests run.

use serde_json::Value;
use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runner/ is inside the repository")
        .to_path_buf()
}

fn schema(name: &str) -> Value {
    let path = repo_root().join("../shared/schemas").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (the schemas sit beside the project)",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn violations(schema: &Value, instance: &Value) -> Vec<String> {
    let validator = jsonschema::validator_for(schema).expect("the schema compiles");
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn dfx_json_is_valid_against_dfx_schema() {
    let text = std::fs::read_to_string(repo_root().join("dfx.json")).expect("dfx.json");
    let config: Value = serde_json::from_str(&text).expect("dfx.json is JSON");
    let errors = violations(&schema("dfx-json-schema.json"), &config);
    assert!(errors.is_empty(), "dfx.json: {errors:#?}");
    let canister = &config["canisters"]["marketplace"];
    assert_eq!(canister["wasm"], "target/wasm/marketplace.wasm.gz");
    assert!(
        canister.get("metadata").is_none(),
        "a metadata block makes dfx rewrite the module"
    );

    // The schema is strict enough to catch a mistake.
    let mut broken = config.clone();
    broken["canisters"]["marketplace"]["type"] = Value::from("no-such-type");
    assert!(!violations(&schema("dfx-json-schema.json"), &broken).is_empty());
}

#[test]
fn icp_yaml_is_valid_against_icp_schema() {
    let text = std::fs::read_to_string(repo_root().join("icp.yaml")).expect("icp.yaml");
    let config: Value = serde_norway::from_str(&text).expect("icp.yaml is YAML");
    let errors = violations(&schema("icp-yaml-schema.json"), &config);
    assert!(errors.is_empty(), "icp.yaml: {errors:#?}");
    let canister = &config["canisters"][0];
    assert_eq!(canister["name"], "marketplace");
    let commands = canister["build"]["steps"][0]["commands"].to_string();
    assert!(
        commands.contains("target/wasm/marketplace.wasm.gz"),
        "icp deploys the built wasm: {commands}"
    );

    let mut broken = config.clone();
    broken["canisters"][0]["build"]["steps"][0]["type"] = Value::from("no-such-step");
    assert!(!violations(&schema("icp-yaml-schema.json"), &broken).is_empty());
}
