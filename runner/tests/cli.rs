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

    /// Runs a command the canister must refuse with an `Err` reply: exit code 1, the reply on
    /// stdout in its usual shape, and one `error: METHOD refused: …` line on stderr. Returns
    /// (stdout, the error line).
    fn refused(&self, args: &[&str]) -> (String, String) {
        let out = self.run(args);
        let stdout = String::from_utf8(out.stdout.clone()).expect("utf-8 stdout");
        assert_eq!(
            out.status.code(),
            Some(1),
            "mkt {args:?} should exit 1 on an Err reply; stdout:\n{stdout}"
        );
        let err = stderr(&out);
        let errors: Vec<&str> = err
            .lines()
            .filter(|l| !l.starts_with("[canister] ") && !l.starts_with("uploaded "))
            .collect();
        assert_eq!(errors.len(), 1, "expected one error line, got:\n{err}");
        assert!(
            errors[0].starts_with("error: ") && errors[0].contains(" refused: "),
            "{err}"
        );
        (stdout, errors[0].to_string())
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
    // Timers fire at each deadline on the way, not once at the end; `now` follows the
    // runner's clock, not the wall clock.
    let now = |mkt: &Mkt| -> u64 { mkt.ok(&["now"]).trim().parse().expect("mkt now: a number") };
    let before = counter(&mkt.status(), "timer_runs");
    let started = now(&mkt);
    mkt.ok(&["advance-time", "5m"]);
    assert_eq!(now(&mkt), started + 300_000_000_000);
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
    let (reply, err) = mkt.refused(&["call", "ironic_discover", DISCOVER]);
    assert!(
        reply.contains("Err") && reply.contains("Unreachable"),
        "no network, so a typed error: {reply}"
    );
    assert!(
        err.starts_with("error: ironic_discover refused: variant { Unreachable"),
        "{err}"
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
    mkt.refused(&["call", "ironic_discover", DISCOVER]);
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
    // The anonymous principal never gets past inspect_message for a controllers' method.
    let refused = mkt.fails(&["call", "ironic_discover", DISCOVER, "--caller", "anonymous"]);
    assert!(refused.contains("needs an identity"), "{refused}");
    let stranger = "wmzac-nabae-aqcai-baeaq-caiba-eaqca-ibaea-qcaib-aeaqc-aibae-aqc";
    let (reply, err) = mkt.refused(&["call", "ironic_discover", DISCOVER, "--caller", stranger]);
    assert!(reply.contains("Err = variant { NotAuthorized }"), "{reply}");
    assert_eq!(
        err,
        "error: ironic_discover refused: variant { NotAuthorized }"
    );
    // --json keeps its shape on stdout; the refusal is the exit code and stderr.
    let (reply, err) = mkt.refused(&[
        "call",
        "ironic_discover",
        DISCOVER,
        "--caller",
        stranger,
        "--output",
        "json",
    ]);
    let reply: Value = serde_json::from_str(&reply).expect("JSON");
    assert_eq!(
        reply,
        serde_json::json!({ "Err": { "NotAuthorized": null } })
    );
    assert!(err.contains("NotAuthorized"), "{err}");
    // So do the raw bytes.
    let (hex, _) = mkt.refused(&[
        "call",
        "ironic_discover",
        DISCOVER,
        "--caller",
        stranger,
        "--output",
        "hex",
    ]);
    assert!(hex.trim().starts_with("4449444c"), "{hex}");
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
    // Bytes that are not the method's argument are dropped by the canister's inspect_message,
    // which says why.
    let refused = mkt.fails(&["call", "ironic_discover", "--arg-hex", "4449444c0000"]);
    assert!(
        refused.contains("inspect_message: ironic_discover: cannot decode the argument"),
        "{refused}"
    );
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
    // A refused publish exits non-zero, the reply on stdout and the refusal on stderr.
    let (replay, err) = mkt.refused(&[
        "provider", "publish", "--key", key, "--csv", csv, "--seq", "7",
    ]);
    assert!(replay.contains("StaleSequence"), "{replay}");
    assert!(
        err.starts_with("error: catalog_replace refused: variant { StaleSequence"),
        "{err}"
    );
    let (replay, _) = mkt.refused(&[
        "provider", "publish", "--key", key, "--csv", csv, "--seq", "7", "--json",
    ]);
    let replay: Value = serde_json::from_str(&replay).expect("JSON");
    assert!(replay["Err"]["StaleSequence"].is_object(), "{replay}");
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

    // With --hex: the argument's bytes, typed by the .did, for an agent's raw call.
    let canister = "ryjl3-tyaaa-aaaaa-aaaba-cai";
    for line in [
        format!("provider sign --key {key} --csv {csv} --canister {canister} --hex"),
        format!("provider delegate --key {key} --principal {canister} --print --canister {canister} --hex"),
    ] {
        let args: Vec<&str> = line.split_whitespace().collect();
        let bytes = hex::decode(mkt.ok(&args).trim()).expect("hex");
        assert!(bytes.starts_with(b"DIDL"), "{line}");
    }
}

/// The canister's time in nanoseconds, from `mkt info`.
fn canister_time_ns(mkt: &Mkt) -> u64 {
    let info = mkt.ok(&["info"]);
    let line = info
        .lines()
        .find(|l| l.starts_with("time "))
        .unwrap_or_else(|| panic!("no time in:\n{info}"));
    line.rsplit_once('(')
        .and_then(|(_, ns)| ns.strip_suffix(" ns)"))
        .and_then(|ns| ns.parse().ok())
        .unwrap_or_else(|| panic!("no nanoseconds in {line}"))
}

/// A market update or query whose reply must be `Ok`; returns the `Ok` value as JSON.
fn market_ok(mkt: &Mkt, method: &str, arg: &str, caller: &str) -> Value {
    let reply = mkt.ok(&["call", method, arg, "--caller", caller, "--output", "json"]);
    let reply: Value = serde_json::from_str(&reply).expect("JSON reply");
    reply
        .get("Ok")
        .unwrap_or_else(|| panic!("{method} failed: {reply}"))
        .clone()
}

#[test]
fn a_provider_seals_credentials_that_only_the_lessee_opens() {
    let mkt = Mkt::deployed();
    let dir = mkt.state.path();
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let ops = candid::Principal::self_authenticating(b"provider ops").to_text();
    let consumer = candid::Principal::self_authenticating(b"pez consumer").to_text();
    let stranger = candid::Principal::self_authenticating(b"someone else").to_text();

    // The provider's key and its operations principal.
    let provider_key = path("provider.key");
    mkt.ok(&["provider", "new-key", &provider_key]);
    mkt.ok(&[
        "provider",
        "delegate",
        "--key",
        &provider_key,
        "--principal",
        &ops,
    ]);
    let provider = mkt.ok(&["provider", "show", "--key", &provider_key, "--as-arg"]);
    let provider = provider.trim();
    assert!(
        provider.starts_with("variant {") && provider.contains("Pem = "),
        "{provider}"
    );

    // One item, offered from a minute ago for a week: lease_by_sku leases only from now.
    let items = market_ok(
        &mkt,
        "inventory_register",
        &format!(
            r#"(record {{ provider = {provider}; items = vec {{ record {{
                sku = "4D.large"; resource_type = "ironic_node"; resource_uuid = "node-1";
                offering_key = null;
                attributes = record {{ resource_class = "baremetal.large"; cores = 32;
                  memory_mb = 131072; storage_gb = 1000; gpus = 0; routable_ips = 1;
                  labels = vec {{ "vCloud" }} }} }} }} }})"#
        ),
        &ops,
    );
    let item_id = items[0]["id"].as_u64().expect("item id");
    let now = canister_time_ns(&mkt);
    let minute = 60_000_000_000u64;
    market_ok(
        &mkt,
        "offer_create",
        &format!(
            "(record {{ provider = {provider}; item_id = {item_id}; price_per_hour = 500;
               start_ns = {}; end_ns = {}; properties = vec {{}} }})",
            now - minute,
            now + 7 * 24 * 60 * minute
        ),
        &ops,
    );

    // The lessee makes its key and leases by SKU with it.
    let lessee_key = path("lessee.key");
    let public = mkt.ok(&["lessee", "new-key", &lessee_key]);
    let public = public.trim();
    assert!(
        public.starts_with("opt blob \"\\") && public.len() == "opt blob \"\"".len() + 3 * 32,
        "{public}"
    );
    assert!(mkt
        .fails(&["lessee", "new-key", &lessee_key])
        .contains("refusing to overwrite"));
    assert_eq!(
        mkt.ok(&["lessee", "show", "--key", &lessee_key]).trim(),
        public
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&lessee_key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the secret key is the owner's alone");
    }
    let lease = market_ok(
        &mkt,
        "lease_by_sku",
        &format!(
            r#"(record {{ sku = "4D.large"; duration_seconds = 7200; max_price_per_hour = null;
                 lessee_key = {public}; image = "ubuntu-24.04"; project = null }})"#
        ),
        &consumer,
    );
    let id = lease["id"].as_u64().expect("lease id").to_string();
    mkt.ok(&["advance-time", "1m"]);
    let open = |caller: &str, key: &str| {
        mkt.run(&[
            "lessee",
            "open",
            "--key",
            key,
            "--execution",
            &id,
            "--caller",
            caller,
        ])
    };
    let err = mkt.fails(&[
        "lessee",
        "open",
        "--key",
        &lessee_key,
        "--execution",
        &id,
        "--caller",
        &consumer,
    ]);
    assert!(err.contains("has no credentials"), "{err}");

    // The provider seals the credentials to the lessee's key, and records its procurement.
    let secret = "ssh root@203.0.113.7\npassword: correct horse battery staple";
    let sealed = mkt.ok(&["provider", "seal", "--lessee-key", public, "--text", secret]);
    let sealed = sealed.trim();
    // `lessee show` prints the key as `opt blob` (for `lessee_key`); a SealedBox holds the blob.
    let recipient = public.trim_start_matches("opt ");
    assert!(
        sealed.starts_with(&format!(
            "record {{ recipient_key = {recipient}; ephemeral_key = blob"
        )),
        "{sealed}"
    );
    assert!(!sealed.contains("correct horse"), "{sealed}");
    // The reply on stdout, whether the canister accepted (exit 0) or refused (exit 1).
    let set = |sealed: &str| {
        let out = mkt.run(&[
            "call",
            "lease_set_consumer_meta",
            &format!(
                "(record {{ provider = {provider}; execution_id = {id}; sealed = {sealed} }})"
            ),
            "--caller",
            &ops,
        ]);
        let reply = String::from_utf8(out.stdout).expect("utf-8 stdout");
        let refused = reply.contains("Err = ");
        assert_eq!(out.status.code(), Some(i32::from(refused)), "{reply}");
        reply
    };
    assert!(set(sealed).contains("Ok = record"), "credentials attached");
    market_ok(
        &mkt,
        "lease_set_procurement_meta",
        &format!(
            r#"(record {{ provider = {provider}; execution_id = {id};
                 meta = vec {{ record {{ key = "purchase_order"; value = "PO-2026-0042" }} }} }})"#
        ),
        &ops,
    );

    // The lessee opens them, exactly as they were sealed.
    let out = open(&consumer, &lessee_key);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), secret);

    // Another principal is refused by the canister; another key cannot open the box.
    let err = mkt.fails(&[
        "lessee",
        "open",
        "--key",
        &lessee_key,
        "--execution",
        &id,
        "--caller",
        &stranger,
    ]);
    assert!(err.contains("NotAuthorized"), "{err}");
    let other_key = path("other.key");
    mkt.ok(&["lessee", "new-key", &other_key]);
    let err = mkt.fails(&[
        "lessee",
        "open",
        "--key",
        &other_key,
        "--execution",
        &id,
        "--caller",
        &consumer,
    ]);
    assert!(err.contains("sealed to another key"), "{err}");

    // A box sealed to the other key is refused by the canister.
    let other_public = mkt.ok(&["lessee", "show", "--key", &other_key]);
    let wrong = mkt.ok(&[
        "provider",
        "seal",
        "--lessee-key",
        other_public.trim(),
        "--text",
        "x",
    ]);
    let reply = set(wrong.trim());
    assert!(
        reply.contains("InvalidArgument") && reply.contains("another key"),
        "{reply}"
    );

    // Credentials from a file, the key as hex (how `--output json` shows blobs); too much refused.
    let execution = market_ok(&mkt, "execution_get", &format!("({id})"), &consumer);
    let key_hex = execution["lessee_key"].as_str().expect("lessee_key as hex");
    let file = path("creds.txt");
    std::fs::write(&file, "token=abc123\n").unwrap();
    let sealed = mkt.ok(&["provider", "seal", "--lessee-key", key_hex, "--file", &file]);
    assert!(set(sealed.trim()).contains("Ok = record"));
    let out = open(&consumer, &lessee_key);
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "token=abc123\n");
    std::fs::write(&file, vec![b'x'; 4081]).unwrap();
    let err = mkt.fails(&["provider", "seal", "--lessee-key", key_hex, "--file", &file]);
    assert!(err.contains("at most 4080"), "{err}");
    let err = mkt.fails(&[
        "provider",
        "seal",
        "--lessee-key",
        "blob \"\\01\"",
        "--text",
        "x",
    ]);
    assert!(err.contains("32 bytes"), "{err}");

    // The consumer sees the sealed box and never the procurement details; the provider both.
    assert!(
        execution["consumer_meta"]["ciphertext"].is_string(),
        "{execution}"
    );
    assert!(execution["procurement_meta"].is_null(), "{execution}");
    let shown = mkt.ok(&[
        "call",
        "execution_get",
        &format!("({id})"),
        "--caller",
        &consumer,
    ]);
    assert!(!shown.contains("PO-2026-0042"), "{shown}");
    let lease = market_ok(&mkt, "lease_get", &format!("({id})"), &consumer);
    assert!(lease["procurement_meta"].is_null(), "{lease}");
    let theirs = market_ok(&mkt, "execution_get", &format!("({id})"), &ops);
    assert_eq!(
        theirs["procurement_meta"][0]["value"], "PO-2026-0042",
        "{theirs}"
    );
}

/// The fixture's rows `copies` times over, each copy's keys made distinct (`DC2993-3`).
fn bigger_catalog(copies: usize) -> String {
    let fixture = std::fs::read_to_string(
        repo_root().join("tests/fixtures/serverhunter-offering-example.csv"),
    )
    .expect("the fixture");
    let mut lines = fixture.lines();
    let mut csv = format!("{}\n", lines.next().expect("a header"));
    let rows: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
    for copy in 0..copies {
        for row in &rows {
            // The key is the third cell; the first two are never quoted in the fixture.
            let mut cells = row.splitn(4, ',');
            let (name, description, key, rest) = (
                cells.next().unwrap(),
                cells.next().unwrap(),
                cells.next().unwrap(),
                cells.next().unwrap(),
            );
            csv.push_str(&format!("{name},{description},{key}-{copy},{rest}\n"));
        }
    }
    csv
}

#[test]
fn a_large_catalog_is_published_in_chunks() {
    let mkt = Mkt::deployed();
    let dir = mkt.state.path();
    let key = dir.join("provider.key");
    let key = key.to_str().unwrap();
    let pem = mkt.ok(&["provider", "new-key", key]);
    let csv_path = dir.join("big.csv");
    let csv = bigger_catalog(15);
    assert!(csv.len() > 5 * 4096, "{} bytes", csv.len());
    std::fs::write(&csv_path, &csv).unwrap();
    let csv_path = csv_path.to_str().unwrap();

    let publish = |extra: &[&str]| {
        let mut args = vec!["provider", "publish", "--key", key, "--csv", csv_path];
        args.extend_from_slice(extra);
        mkt.run(&args)
    };
    let out = publish(&["--seq", "3", "--chunked", "--chunk-size", "4096"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let receipt = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        receipt.contains("offerings = 60 : nat32")
            && receipt.contains("upserted = 60 : nat32")
            && receipt.contains("seq = 3 : nat64")
            && receipt.contains(pem.trim().lines().nth(1).unwrap()),
        "{receipt}"
    );
    // The bar is drawn on a terminal only: captured stderr gets one plain summary line.
    let err = stderr(&out);
    let chunks = csv.len().div_ceil(4096);
    assert!(!err.contains('\x1b'), "escape codes on stderr: {err:?}");
    assert!(
        err.contains(&format!("uploaded {} bytes in {chunks} chunks", csv.len()))
            && err.contains("60 rows"),
        "{err}"
    );

    let found = mkt.ok(&[
        "call",
        "offerings_search",
        r#"(record { text = opt "rotterdam"; limit = opt 100 })"#,
        "--json",
    ]);
    let found: Value = serde_json::from_str(&found).expect("JSON");
    let text = found.to_string();
    for key in ["DC2993-0", "DC2993-14", "QC1494-5"] {
        assert!(text.contains(key), "{key} not found: {text}");
    }

    // An upsert in chunks, its receipt as JSON; a replayed sequence number is refused at begin.
    let out = publish(&[
        "--seq",
        "4",
        "--upsert",
        "--chunked",
        "--chunk-size",
        "10000",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let receipt: Value = serde_json::from_slice(&out.stdout).expect("JSON receipt");
    assert_eq!(receipt["Ok"]["seq"], 4, "{receipt}");
    assert_eq!(receipt["Ok"]["offerings"], 60, "{receipt}");
    assert_eq!(receipt["Ok"]["unchanged"], 60, "{receipt}");
    // A refusal on the way (here at begin) exits 1 with the refusing reply on stdout.
    let out = publish(&["--seq", "4", "--chunked"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("error: catalog_upload_begin refused: variant { StaleSequence"),
        "{}",
        stderr(&out)
    );
    let replay = String::from_utf8(out.stdout).unwrap();
    assert!(replay.contains("StaleSequence"), "{replay}");

    // Small catalogs still go in one message unless told; bad chunk sizes are one error line.
    let receipt = mkt.ok(&[
        "provider",
        "publish",
        "--key",
        key,
        "--csv",
        "tests/fixtures/serverhunter-offering-example.csv",
        "--seq",
        "5",
    ]);
    assert!(receipt.contains("offerings = 4 : nat32"), "{receipt}");
    for size in ["0", "3000000"] {
        let err = mkt.fails(&[
            "provider",
            "publish",
            "--key",
            key,
            "--csv",
            csv_path,
            "--seq",
            "6",
            "--chunked",
            "--chunk-size",
            size,
        ]);
        assert!(err.contains("--chunk-size"), "{err}");
    }
}

#[test]
fn info_and_key_shows_as_json() {
    let mkt = Mkt::deployed();
    let info: Value = serde_json::from_str(&mkt.ok(&["info", "--json"])).expect("info as JSON");
    let text = mkt.ok(&["info"]);
    let id = info["canister_id"].as_str().expect("canister_id");
    assert!(
        text.contains(&format!("canister id    {id}")),
        "{info}\n{text}"
    );
    let controllers = info["controllers"].as_array().expect("controllers");
    assert!(
        !controllers.is_empty() && controllers[0].is_string(),
        "{info}"
    );
    // Nanosecond times exceed 2^53: decimal strings, as `--output json` gives them.
    let time_ns: u64 = info["time_ns"]
        .as_str()
        .and_then(|ns| ns.parse().ok())
        .unwrap_or_else(|| panic!("time_ns in {info}"));
    assert_eq!(time_ns, canister_time_ns(&mkt));
    assert!(info["time"].as_str().unwrap().starts_with("20"), "{info}");
    assert!(
        info["cycles"].is_string() || info["cycles"].is_u64(),
        "{info}"
    );
    assert!(info["stable_memory_bytes"].is_u64(), "{info}");
    assert!(info["heap_bytes"].as_u64().unwrap() > 0, "{info}");
    assert!(
        info["timer"].is_string() || info["timer"].is_null(),
        "{info}"
    );
    assert_eq!(
        info["timer"].is_null(),
        info["timer_ns"].is_null(),
        "{info}"
    );
    assert!(info["state_dir"].is_string(), "{info}");

    // `--json` is `--output json`; it cannot be combined with another output.
    assert_eq!(
        serde_json::from_str::<Value>(&mkt.ok(&["call", "status", "--json"])).unwrap()["version"],
        mkt.status()["version"]
    );
    let out = mkt.run(&["call", "status", "--json", "--output", "hex"]);
    assert!(!out.status.success());

    let dir = mkt.state.path();
    let provider_key = dir.join("provider.key");
    let provider_key = provider_key.to_str().unwrap();
    let pem = mkt.ok(&["provider", "new-key", provider_key]);
    let shown: Value =
        serde_json::from_str(&mkt.ok(&["provider", "show", "--key", provider_key, "--json"]))
            .expect("provider show as JSON");
    assert_eq!(shown["pem"].as_str().unwrap().trim(), pem.trim());
    assert_eq!(
        mkt.ok(&["provider", "show", "--key", provider_key]),
        pem,
        "plain show is the PEM"
    );
    let as_arg = mkt.ok(&["provider", "show", "--key", provider_key, "--as-arg"]);
    assert_eq!(shown["candid"].as_str().unwrap(), as_arg.trim());
    // The key's self-authenticating principal, as the market pays it.
    let principal = candid::Principal::from_text(shown["principal"].as_str().unwrap()).unwrap();
    assert_eq!(principal.as_slice().len(), 29, "{principal}");
    let raw = shown["public_key"].as_str().unwrap();
    assert!(
        raw.len() == 64 && raw.chars().all(|c| c.is_ascii_hexdigit()),
        "{shown}"
    );

    let lessee_key = dir.join("lessee.key");
    let lessee_key = lessee_key.to_str().unwrap();
    let public = mkt.ok(&["lessee", "new-key", lessee_key]);
    let shown: Value =
        serde_json::from_str(&mkt.ok(&["lessee", "show", "--key", lessee_key, "--json"]))
            .expect("lessee show as JSON");
    assert_eq!(shown["candid"].as_str().unwrap(), public.trim());
    // The hex form is what `provider seal --lessee-key` takes too.
    let hex = shown["public_key"].as_str().unwrap();
    let sealed = mkt.ok(&["provider", "seal", "--lessee-key", hex, "--text", "x"]);
    assert!(
        sealed.starts_with(&format!(
            "record {{ recipient_key = {}",
            public.trim().trim_start_matches("opt ")
        )),
        "{sealed}"
    );
}

#[test]
fn a_delegation_signed_with_expires_in_ends_on_the_local_clock() {
    let mkt = Mkt::deployed();
    let key = mkt.state.path().join("provider.key");
    let key = key.to_str().unwrap();
    let ops = candid::Principal::self_authenticating(b"ops for a day").to_text();
    mkt.ok(&["provider", "new-key", key]);
    let provider = mkt.ok(&["provider", "show", "--key", key, "--as-arg"]);
    let provider = provider.trim();
    let now = canister_time_ns(&mkt);
    let args = ["provider", "delegate", "--key", key, "--principal", &ops];
    mkt.ok(&[&args[..], &["--expires-in", "1d"]].concat());
    let nat = |value: &Value| {
        value
            .as_u64()
            .or_else(|| value.as_str().and_then(|s| s.replace('_', "").parse().ok()))
            .unwrap_or_else(|| panic!("not a nat64: {value}"))
    };
    let view = market_ok(
        &mkt,
        "market_delegation",
        &format!("({provider})"),
        "anonymous",
    );
    assert_eq!(view["principals"], serde_json::json!([ops]), "{view}");
    let expiring = view["expiring"].as_array().expect("expiring");
    assert_eq!(expiring.len(), 1, "{view}");
    assert_eq!(expiring[0]["principal"], Value::String(ops.clone()));
    assert_eq!(nat(&expiring[0]["expires_at_ns"]), now + 86_400_000_000_000);
    // --expires-in is only for allowing.
    let out = mkt.run(&[&args[..], &["--revoke", "--expires-in", "1d"]].concat());
    assert!(!out.status.success() && stderr(&out).contains("--expires-in"));

    mkt.ok(&["advance-time", "1d"]);
    let view = market_ok(
        &mkt,
        "market_delegation",
        &format!("({provider})"),
        "anonymous",
    );
    assert_eq!(view["principals"], serde_json::json!([]), "{view}");
    assert_eq!(view["expiring"], serde_json::json!([]), "{view}");
}
