//! The `mkt` binary end to end: each test runs it as separate processes on one state directory,
//! with the marketplace wasm built by `scripts/build.sh` and `candid/marketplace.did`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DISCOVER: &str = r#"(record { endpoint = "https://ironic.example" })"#;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runner/ is inside the repository")
        .to_path_buf()
}

/// A state directory of its own, and the binary run from the repository root.
struct Mkt {
    state: tempfile::TempDir,
    root: PathBuf,
}

impl Mkt {
    fn new() -> Self {
        let root = repo_root();
        let wasm = root.join("target/wasm/marketplace.wasm.gz");
        assert!(
            wasm.is_file(),
            "{} is missing: build it with `bash scripts/build.sh` before running these tests",
            wasm.display()
        );
        Self {
            state: tempfile::tempdir().expect("temp dir"),
            root,
        }
    }

    fn deployed() -> Self {
        let mkt = Self::new();
        mkt.ok(&["deploy"]);
        mkt
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_mkt"))
            .current_dir(&self.root)
            .env_remove("MKT_STATE")
            .arg("--state")
            .arg(self.state.path())
            .args(args)
            .output()
            .expect("run mkt")
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "mkt {args:?} failed:\n{}",
            stderr(&out)
        );
        String::from_utf8(out.stdout).expect("utf-8 stdout")
    }

    /// Runs a command that must fail with one `error:` line; returns that line.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "mkt {args:?} should fail with exit code 1; stdout:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let err = stderr(&out);
        let errors: Vec<&str> = err
            .lines()
            .filter(|l| !l.starts_with("[canister] "))
            .collect();
        assert_eq!(errors.len(), 1, "expected one error line, got:\n{err}");
        assert!(errors[0].starts_with("error: "), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        errors[0].to_string()
    }

    fn status(&self) -> Value {
        serde_json::from_str(&self.ok(&["call", "status", "--output", "json"]))
            .expect("status as JSON")
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn counter(status: &Value, name: &str) -> u64 {
    status["counters"][name]
        .as_u64()
        .unwrap_or_else(|| panic!("counters.{name} in {status}"))
}

#[test]
fn deploy_then_status_prints_a_record() {
    let mkt = Mkt::new();
    let out = mkt.ok(&["deploy"]);
    assert!(out.contains("deployed canister"), "{out}");
    let status = mkt.ok(&["call", "status"]);
    assert!(status.starts_with("(\n  record {"), "{status}");
    assert!(status.contains("counters = record {"), "{status}");
    assert!(status.contains("version = \""), "{status}");

    let err = mkt.fails(&["deploy"]);
    assert!(err.contains("already holds a canister"), "{err}");
    mkt.ok(&["deploy", "--force"]);

    let info = mkt.ok(&["info"]);
    for field in [
        "canister id",
        "controllers",
        "time",
        "cycles",
        "stable memory",
        "heap",
        "timer",
    ] {
        assert!(info.contains(field), "{field} missing from:\n{info}");
    }
}

#[test]
fn deploy_types_the_init_argument() {
    let mkt = Mkt::new();
    mkt.ok(&[
        "deploy",
        "--argument",
        "(opt record { cycles_sample_interval_seconds = opt 60 })",
    ]);
    assert_eq!(mkt.status()["config"]["cycles_sample_interval_seconds"], 60);
    // Timers fire at each deadline on the way, not once at the end.
    let before = counter(&mkt.status(), "timer_runs");
    mkt.ok(&["advance-time", "5m"]);
    let after = counter(&mkt.status(), "timer_runs");
    assert!(
        after >= before + 5,
        "5 minutes of a 60 s timer ran {} times",
        after - before
    );

    let err = mkt.fails(&[
        "deploy",
        "--force",
        "--argument",
        "(opt record { cycles_sample_interval_seconds = opt \"x\" })",
    ]);
    assert!(
        err.contains("expected (opt InitArg)") && err.contains("InitArg = record"),
        "{err}"
    );
}

#[test]
fn an_update_is_visible_to_the_next_process() {
    let mkt = Mkt::deployed();
    let before = mkt.status();
    let reply = mkt.ok(&["call", "ironic_discover", DISCOVER]);
    assert!(
        reply.contains("Err") && reply.contains("Unreachable"),
        "no network, so a typed error: {reply}"
    );

    let after = mkt.status();
    assert_eq!(
        counter(&after, "outcalls"),
        counter(&before, "outcalls") + 1
    );
    assert_eq!(
        counter(&after, "outcall_failures"),
        counter(&before, "outcall_failures") + 1
    );
    assert_eq!(counter(&after, "updates"), counter(&before, "updates") + 1);
}

#[test]
fn advance_time_runs_the_timer() {
    let mkt = Mkt::deployed();
    let before = mkt.status();
    let out = mkt.ok(&["advance-time", "2h"]);
    assert!(
        out.starts_with("time 20") && out.contains("steps ran"),
        "{out}"
    );
    let after = mkt.status();
    assert!(
        counter(&after, "timer_runs") > counter(&before, "timer_runs"),
        "{before} -> {after}"
    );
    assert!(
        counter(&after, "tasks_run") > counter(&before, "tasks_run"),
        "{before} -> {after}"
    );
    assert!(mkt
        .fails(&["advance-time", "2 weeks"])
        .contains("not a duration"));
}

#[test]
fn upgrade_keeps_counters() {
    let mkt = Mkt::deployed();
    mkt.ok(&["call", "ironic_discover", DISCOVER]);
    mkt.ok(&["advance-time", "90m"]);
    let before = mkt.status();
    assert!(mkt.ok(&["upgrade"]).contains("upgraded canister"));
    let after = mkt.status();
    assert_eq!(after["counters"], before["counters"]);
    // Timers are re-armed after the upgrade.
    mkt.ok(&["advance-time", "2h"]);
    assert!(counter(&mkt.status(), "timer_runs") > counter(&after, "timer_runs"));
}

#[test]
fn errors_are_one_clear_line() {
    let mkt = Mkt::new();
    let err = mkt.fails(&["call", "status"]);
    assert!(
        err.contains("no canister in") && err.contains("run `mkt deploy` first"),
        "{err}"
    );
    let err = mkt.fails(&["deploy", "--wasm", "no/such.wasm.gz"]);
    assert!(err.contains("scripts/build.sh"), "{err}");

    mkt.ok(&["deploy"]);
    let err = mkt.fails(&["call", "no_such_method"]);
    assert!(
        err.contains("no method 'no_such_method'")
            && err.contains("status")
            && err.contains("ironic_discover"),
        "{err}"
    );
    let err = mkt.fails(&["call", "ironic_discover", "(record { endpoint = "]);
    assert!(
        err.contains("not valid Candid text") && err.contains("endpoint : text"),
        "{err}"
    );
    let err = mkt.fails(&["call", "ironic_discover", "(record { endpoint = 5 })"]);
    assert!(
        err.contains("do not match") && err.contains("endpoint : text"),
        "{err}"
    );
    // A reject from the IC: `status` is a query, so there is no update method of that name.
    let err = mkt.fails(&["call", "status", "--update"]);
    assert!(
        err.starts_with("error: rejected (DestinationInvalid, code 3): ") && err.contains("status"),
        "{err}"
    );
    let err = mkt.fails(&["call", "status", "--caller", "not-a-principal"]);
    assert!(err.contains("--caller"), "{err}");
}

#[test]
fn non_controllers_get_the_typed_not_authorized_error() {
    let mkt = Mkt::deployed();
    let reply = mkt.ok(&["call", "ironic_discover", DISCOVER, "--caller", "anonymous"]);
    assert!(reply.contains("Err = variant { NotAuthorized }"), "{reply}");
    let reply = mkt.ok(&[
        "call",
        "ironic_discover",
        DISCOVER,
        "--caller",
        "2vxsx-fae",
        "--output",
        "json",
    ]);
    let reply: Value = serde_json::from_str(&reply).expect("JSON");
    assert_eq!(
        reply,
        serde_json::json!({ "Err": { "NotAuthorized": null } })
    );
    // Neither call reached the outcall.
    assert_eq!(counter(&mkt.status(), "outcalls"), 0);
}

#[test]
fn json_and_hex_outputs() {
    let mkt = Mkt::deployed();
    let status = mkt.status();
    assert!(status["version"].is_string(), "{status}");
    assert!(status["counters"].is_object(), "{status}");
    // Balances beyond 2^53 come as decimal strings, so no digit is lost.
    assert!(
        status["cycles_balance"].is_string() || status["cycles_balance"].is_u64(),
        "{status}"
    );

    let hex = mkt.ok(&["call", "status", "--output", "hex"]);
    assert!(
        hex.trim().starts_with("4449444c"),
        "Candid bytes start with DIDL: {hex}"
    );
    assert!(hex.trim().chars().all(|c| c.is_ascii_hexdigit()));

    // Raw argument bytes (an empty Candid argument list) and the query/update override.
    let raw = mkt.ok(&[
        "call",
        "status",
        "--arg-hex",
        "4449444c0000",
        "--output",
        "json",
    ]);
    assert_eq!(
        serde_json::from_str::<Value>(&raw).unwrap()["version"],
        status["version"]
    );
    // Bytes that are not the method's argument reach the canister, which answers with its typed error.
    let reply = mkt.ok(&["call", "ironic_discover", "--arg-hex", "4449444c0000"]);
    assert!(reply.contains("InvalidArgument"), "{reply}");
    assert!(mkt
        .fails(&["call", "status", "--arg-hex", "xyz"])
        .contains("--arg-hex"));
}

#[test]
fn a_provider_makes_a_key_publishes_and_signs_for_dfx() {
    let mkt = Mkt::deployed();
    let key = mkt.state.path().join("provider.key");
    let key = key.to_str().unwrap();
    let pem = mkt.ok(&["provider", "new-key", key]);
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    assert!(mkt
        .fails(&["provider", "new-key", key])
        .contains("refusing to overwrite"));

    let csv = "tests/fixtures/serverhunter-offering-example.csv";
    let receipt = mkt.ok(&[
        "provider", "publish", "--key", key, "--csv", csv, "--seq", "7",
    ]);
    assert!(
        receipt.contains("offerings = 4 : nat32")
            && receipt.contains(pem.trim().lines().nth(1).unwrap()),
        "{receipt}"
    );
    let replay = mkt.ok(&[
        "provider", "publish", "--key", key, "--csv", csv, "--seq", "7",
    ]);
    assert!(replay.contains("StaleSequence"), "{replay}");
    let found = mkt.ok(&[
        "call",
        "offerings_search",
        r#"(record { text = opt "rotterdam" })"#,
    ]);
    assert!(found.contains("DC2993"), "{found}");

    // The signed argument as Candid text, sent like `dfx canister call … --argument-file`.
    let argument = mkt.ok(&[
        "provider", "sign", "--key", key, "--csv", csv, "--seq", "8", "--upsert",
    ]);
    let receipt = mkt.ok(&["call", "catalog_upsert", &argument]);
    assert!(receipt.contains("seq = 8 : nat64"), "{receipt}");
}
