//! dfx.json and icp.yaml are what the tools accept: each validates against its tool's published
//! JSON schema (dfx's dfx-json schema, icp-cli's icp-yaml schema; copies beside the project in
//! `../shared/schemas/`), and both deploy the wasm the tests run; so do the snippets
//! `scripts/release.sh` prints, for the module a passing `scripts/test.sh` recorded.

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

/// The fenced block of `lang` in release notes.
fn fenced<'a>(notes: &'a str, lang: &str) -> &'a str {
    let open = format!("```{lang}\n");
    let start = notes
        .find(&open)
        .unwrap_or_else(|| panic!("no {lang} block in:\n{notes}"))
        + open.len();
    let len = notes[start..].find("```").expect("the block closes");
    &notes[start..start + len]
}

fn release(tested_hash: &str, out: &Path) -> std::process::Output {
    let tested = out.join("tested");
    std::fs::create_dir_all(out).unwrap();
    std::fs::write(&tested, format!("{tested_hash}\n")).unwrap();
    std::process::Command::new("bash")
        .args(["scripts/release.sh", "--no-build", "--out"])
        .arg(out.join("notes"))
        .env("RELEASE_TESTED_FILE", &tested)
        .current_dir(repo_root())
        .output()
        .expect("bash runs")
}

/// `scripts/release.sh` releases the module the tests ran, and only a module a passing
/// `scripts/test.sh` recorded: its copy has the recorded SHA-256, the notes print it, and the
/// dfx.json and icp.yaml snippets it prints are valid for their tools and name that file (icp
/// with its hash).
#[test]
fn release_ships_the_tested_module_with_valid_snippets() {
    use sha2::{Digest, Sha256};
    let module = std::fs::read(repo_root().join("target/wasm/marketplace.wasm.gz"))
        .expect("target/wasm/marketplace.wasm.gz (scripts/build.sh)");
    let hash = hex::encode(Sha256::digest(&module));
    let dir = tempfile::tempdir().unwrap();

    let refused = release(&"0".repeat(64), dir.path());
    assert!(
        !refused.status.success(),
        "a module nobody tested is refused"
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("no passing scripts/test.sh"), "{stderr}");

    let released = release(&hash, dir.path());
    let stderr = String::from_utf8_lossy(&released.stderr);
    assert!(released.status.success(), "release.sh failed: {stderr}");
    let notes = String::from_utf8(released.stdout).unwrap();
    assert!(notes.contains(&format!("SHA-256: `{hash}`")), "{notes}");
    assert!(
        notes.contains("tested: `scripts/test.sh` passed"),
        "{notes}"
    );
    let copies: Vec<PathBuf> = std::fs::read_dir(dir.path().join("notes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".wasm.gz"))
        .collect();
    assert_eq!(copies.len(), 1, "{copies:?}");
    let copy = std::fs::read(&copies[0]).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&copy)), hash);
    let file = copies[0].file_name().unwrap().to_string_lossy().to_string();

    let dfx: Value = serde_json::from_str(fenced(&notes, "json")).expect("the dfx.json snippet");
    let errors = violations(&schema("dfx-json-schema.json"), &dfx);
    assert!(errors.is_empty(), "dfx.json snippet: {errors:#?}");
    assert_eq!(dfx["canisters"]["marketplace"]["wasm"], file.as_str());

    let icp: Value = serde_norway::from_str(fenced(&notes, "yaml")).expect("the icp.yaml snippet");
    let errors = violations(&schema("icp-yaml-schema.json"), &icp);
    assert!(errors.is_empty(), "icp.yaml snippet: {errors:#?}");
    let step = &icp["canisters"][0]["build"]["steps"][0];
    assert_eq!(step["sha256"], hash.as_str());
    assert_eq!(step["path"], file.as_str());
}
