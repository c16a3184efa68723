//! The README's walkthrough, run: every ```` ```bash runner ```` block of README.md, in order, in
//! one bash (`set -euo pipefail`) with `mkt` on PATH and a fresh state directory, so the
//! documented commands cannot drift from the code. Blocks marked `dfx` need a replica and are
//! skipped. Needs the wasm built by `scripts/build.sh` (target/wasm/marketplace.wasm.gz).

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runner/ is inside the repository")
        .to_path_buf()
}

/// The bodies of the fenced blocks whose info string is exactly `bash runner`, in order.
fn runner_blocks(readme: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match current.as_mut() {
            None => {
                let info: Vec<&str> = line
                    .strip_prefix("```")
                    .map(|rest| rest.split_whitespace().collect())
                    .unwrap_or_default();
                if info == ["bash", "runner"] {
                    current = Some(String::new());
                }
            }
            Some(body) => {
                if line.trim_end() == "```" {
                    blocks.push(current.take().expect("inside a block"));
                } else {
                    body.push_str(line);
                    body.push('\n');
                }
            }
        }
    }
    assert!(
        current.is_none(),
        "README.md: a `bash runner` block is not closed"
    );
    blocks
}

#[test]
fn readme_runner_blocks_are_found_in_order() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let blocks = runner_blocks(&readme);
    let all = blocks.concat();
    // Every flow of the walkthrough, in the order a reader follows them.
    let steps = [
        "mkt deploy",
        "mkt provider publish",
        "offerings_search",
        "mkt provider delegate",
        "inventory_register",
        "offer_create",
        "offerset_request",
        "execution_accept",
        "contract_get",
        "provision_status",
        "mkt advance-time 2h",
        "execution_get",
        "audit_log",
    ];
    let mut from = 0;
    for step in steps {
        let at = all[from..]
            .find(step)
            .unwrap_or_else(|| panic!("README.md walkthrough: `{step}` missing or out of order"));
        from += at;
    }
}

#[test]
fn readme_walkthrough_runs_on_the_local_runner() {
    let root = repo_root();
    let wasm = root.join("target/wasm/marketplace.wasm.gz");
    assert!(
        wasm.is_file(),
        "{} is missing: build it with `bash scripts/build.sh --marketplace-only` first",
        wasm.display()
    );
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    let blocks = runner_blocks(&readme);
    assert!(
        blocks.len() >= 8,
        "README.md has {} runner blocks",
        blocks.len()
    );

    // The README's commands run from the repository root and write key files to the current
    // directory: run them in a scratch directory that sees the repository's candid/, target/
    // and tests/ through symlinks, with the canister's state in a directory of its own.
    let work = tempfile::tempdir().expect("temp dir");
    for dir in ["candid", "target", "tests"] {
        std::os::unix::fs::symlink(root.join(dir), work.path().join(dir)).expect("symlink");
    }
    let state = work.path().join("state");

    let mut script = String::from("set -euo pipefail\n");
    for (i, block) in blocks.iter().enumerate() {
        script.push_str(&format!("echo '### README runner block {}' >&2\n", i + 1));
        script.push_str(block);
    }
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "mkt() {{ \"$MKT_BIN\" \"$@\"; }}\nexport -f mkt\n{script}"
        ))
        .current_dir(work.path())
        .env("MKT_BIN", env!("CARGO_BIN_EXE_mkt"))
        .env("MKT_STATE", &state)
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the README walkthrough failed ({}):\n--- stderr (last block marked) ---\n{stderr}\n--- stdout ---\n{stdout}",
        out.status
    );

    for expected in [
        "deployed canister",
        // offerset_request
        "result = variant { Yes }",
        // contract_get after the start
        "status = variant { Fulfilled }",
        // provision_status: the deploy, then the undeploy
        "kind = variant { Deploy }",
        "provision_state = \"active\"",
        "kind = variant { Undeploy }",
        "status = variant { Completed }",
        // execution_get after the end
        "phase = variant { Completed }",
        // the credentials opened by the lessee
        "ssh root@203.0.113.7",
        // availability after the lease: the rest of the offer, complete
        "truncated = false",
        // the audit log
        "why = \"accepted by the consumer\"",
        // the safety checks: the digest, and inspect_message refusing the anonymous principal
        "excluded = vec { \"COUNTERS\" }",
        "lease_end needs an identity",
    ] {
        assert!(
            stdout.contains(expected),
            "the README walkthrough's output lacks `{expected}`:\n{stdout}"
        );
    }
    assert!(!stderr.contains("error:"), "{stderr}");
    // provision_status prints `status` before `kind`: the deploy and the undeploy both completed.
    for kind in ["Deploy", "Undeploy"] {
        let at = stdout
            .find(&format!("kind = variant {{ {kind} }}"))
            .unwrap_or_else(|| panic!("no {kind} operation in:\n{stdout}"));
        let record = &stdout[stdout[..at]
            .rfind("checked_at_ns")
            .expect("a provision status")..at];
        assert!(
            record.contains("status = variant { Completed }"),
            "the {kind} operation did not complete:\n{record}"
        );
    }
}

/// The fenced blocks of README.md's "## Walkthrough" section per numbered step (a paragraph
/// starting `**N.`): the step's number and its blocks, each as (info string, body), in order.
fn walkthrough_steps(readme: &str) -> Vec<(u32, Vec<(String, String)>)> {
    let start = readme
        .find("\n## Walkthrough\n")
        .expect("README.md has a `## Walkthrough` section");
    let section = &readme[start + 1..];
    let end = section[1..]
        .find("\n## ")
        .map_or(section.len(), |at| at + 1);
    let mut steps: Vec<(u32, Vec<(String, String)>)> = Vec::new();
    let mut block: Option<(String, String)> = None;
    for line in section[..end].lines() {
        if let Some((_, body)) = block.as_mut() {
            if line.trim_end() == "```" {
                let done = block.take().expect("inside a block");
                if let Some((_, blocks)) = steps.last_mut() {
                    blocks.push(done);
                }
            } else {
                body.push_str(line);
                body.push('\n');
            }
        } else if let Some(info) = line.strip_prefix("```") {
            block = Some((info.trim().to_string(), String::new()));
        } else if let Some(number) = line
            .strip_prefix("**")
            .and_then(|rest| rest.split_once(". "))
            .and_then(|(n, _)| n.parse::<u32>().ok())
        {
            steps.push((number, Vec::new()));
        }
    }
    assert!(
        block.is_none(),
        "README.md walkthrough: a block is not closed"
    );
    steps
}

/// Every numbered walkthrough step with a `runner` block also shows the same with dfx and with
/// icp-cli (dfx's successor), the `icp` block right after the `dfx` one, and no `icp` block
/// falls back on dfx.
#[test]
fn readme_walkthrough_steps_have_runner_dfx_and_icp_blocks() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let steps = walkthrough_steps(&readme);
    let numbers: Vec<u32> = steps.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        numbers,
        (0..numbers.len() as u32).collect::<Vec<_>>(),
        "README.md walkthrough: the steps are not numbered 0, 1, 2, …"
    );
    let mut with_runner = 0;
    for (number, blocks) in &steps {
        let infos: Vec<&str> = blocks.iter().map(|(info, _)| info.as_str()).collect();
        if !infos.contains(&"bash runner") {
            continue;
        }
        with_runner += 1;
        let dfx = infos
            .iter()
            .position(|info| *info == "bash dfx")
            .unwrap_or_else(|| {
                panic!("walkthrough step {number} has no `bash dfx` block: {infos:?}")
            });
        assert_eq!(
            infos.get(dfx + 1),
            Some(&"bash icp"),
            "walkthrough step {number}: no `bash icp` block right after its `bash dfx` block: {infos:?}"
        );
        for kind in ["bash runner", "bash dfx", "bash icp"] {
            assert_eq!(
                infos.iter().filter(|info| **info == kind).count(),
                1,
                "walkthrough step {number}: not exactly one `{kind}` block: {infos:?}"
            );
        }
        for (info, body) in blocks {
            if info == "bash icp" {
                assert!(
                    !body.contains("dfx"),
                    "walkthrough step {number}: the icp block uses dfx:\n{body}"
                );
                assert!(
                    body.contains("icp "),
                    "walkthrough step {number}: the icp block runs no icp command:\n{body}"
                );
            }
        }
    }
    assert!(
        with_runner >= 10,
        "README.md walkthrough: only {with_runner} steps with a runner block"
    );
    // Every runner block (the ones the walkthrough test runs) belongs to a numbered step.
    assert_eq!(
        runner_blocks(&readme).len(),
        with_runner,
        "README.md: a `bash runner` block outside a numbered walkthrough step"
    );
}

/// dfx.json and icp.yaml deploy with the init argument the walkthrough deploys the runner with.
#[test]
fn deploy_configs_name_the_init_argument_file() {
    let root = repo_root();
    let dfx: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("dfx.json")).expect("dfx.json"))
            .expect("dfx.json is JSON");
    let canister = &dfx["canisters"]["marketplace"];
    assert_eq!(canister["type"], "custom");
    assert_eq!(canister["init_arg_file"], "candid/init.did");
    assert!(
        canister.get("init_arg").is_none(),
        "dfx refuses init_arg with init_arg_file"
    );
    // No metadata block: with one, dfx rewrites the module's metadata sections (and re-gzips
    // it), so it would install a wasm other than the one scripts/build.sh wrote and the tests
    // ran. The build embeds candid:service and candid:args itself.
    assert!(
        canister.get("metadata").is_none(),
        "dfx.json must not ask dfx to rewrite the module's metadata"
    );
    assert!(
        canister.get("shrink").is_none() && canister.get("optimize").is_none(),
        "dfx.json must not ask dfx to rewrite the module"
    );
    let icp = std::fs::read_to_string(root.join("icp.yaml")).expect("icp.yaml");
    assert!(
        icp.contains("init_args:\n      path: candid/init.did\n      format: candid"),
        "{icp}"
    );
    // icp-cli's canister manifest has init_args only (no upgrade_args).
    assert!(!icp.contains("upgrade_args"), "{icp}");
    let init = std::fs::read_to_string(root.join("candid/init.did")).expect("candid/init.did");
    assert!(
        init.trim_start().starts_with("(") && init.contains("opt record"),
        "{init}"
    );
}

/// `candid/init.did` is what the README says it is: the configuration with every default written
/// out. Every field of `InitArg` is given (a field added to `InitArg` fails to compile here until
/// the file and this list have it), each with `Config::default()`'s value.
#[test]
fn init_did_writes_out_every_default() {
    use marketplace::config::{Config, InitArg};
    let text = std::fs::read_to_string(repo_root().join("candid/init.did")).expect("init.did");
    let args = candid_parser::parse_idl_args(&text).expect("init.did is Candid text");
    let bytes = args.to_bytes().expect("init.did encodes");
    let given: Option<InitArg> = candid::decode_one(&bytes).expect("init.did is (opt InitArg)");
    let d = Config::default();
    let every_default = InitArg {
        cycles_sample_interval_seconds: Some(d.cycles_sample_interval_seconds),
        cycles_history_len: Some(d.cycles_history_len),
        max_offerings_per_provider: Some(d.max_offerings_per_provider),
        max_catalog_bytes: Some(d.max_catalog_bytes),
        caller_calls_per_minute: Some(d.caller_calls_per_minute),
        caller_call_burst: Some(d.caller_call_burst),
        max_providers: Some(d.max_providers),
        max_offerings: Some(d.max_offerings),
        max_items: Some(d.max_items),
        max_open_offers: Some(d.max_open_offers),
        change_feed_window: Some(d.change_feed_window),
        // No ledger by default: the market runs free. The file says so in a comment.
        ledger: d.ledger,
        no_ledger: None,
    };
    assert_eq!(given, Some(every_default));
}

/// Every method the canister exports (`src/methods.rs`) is in the README, by its name in
/// backticks (`` `name` `` or the start of a signature, `` `name : … ` ``), so a new method
/// cannot go undocumented.
#[test]
fn every_method_is_in_the_readme() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let missing: Vec<&str> = marketplace::methods::METHODS
        .iter()
        .map(|method| method.name)
        .filter(|name| {
            !readme.contains(&format!("`{name}`")) && !readme.contains(&format!("`{name} :"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "methods missing from README.md's interface tables: {missing:?}"
    );
}
