//! The README's first command, run: `scripts/demo.sh --no-build` with this build's `mkt`, on the
//! wasm `scripts/build.sh` wrote. It runs under `set -euo pipefail` and `mkt` exits non-zero on
//! any refusal, so a step that fails (or a refusal the demo expects that does not come) fails
//! this test.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("runner/ is inside the repository")
        .to_path_buf()
}

#[test]
fn the_demo_runs_to_its_end() {
    let root = repo_root();
    let output = Command::new("bash")
        .arg("scripts/demo.sh")
        .arg("--no-build")
        .env("MKT_BIN", env!("CARGO_BIN_EXE_mkt"))
        .current_dir(&root)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "demo.sh failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        output.status
    );
    // The three refusals it shows, then the lease to its end and the state kept by the upgrade.
    assert_eq!(
        stdout.matches("(refused, as it should be)").count(),
        3,
        "{stdout}"
    );
    assert!(
        stdout.contains("Completed"),
        "the lease ran to its end:\n{stdout}"
    );
    // Paid through the test ledger: settled at the lease's end, the provider paid the 2 hours
    // at 0.25 TEST less the market's 2% and the ledger's fee.
    assert!(stdout.contains("state = variant { Settled }"), "{stdout}");
    assert!(stdout.contains("(48_990_000 : nat)"), "{stdout}");
    assert!(stdout.contains("+ mkt upgrade"), "{stdout}");
}
