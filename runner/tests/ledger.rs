//! A paying market on the runner: `mkt deploy --ledger` installs the test ledger beside the
//! market, both live on in the state directory, `mkt ledger` mints, approves and reads balances,
//! and `mkt serve` routes a real IC client's calls to either canister.

#[path = "serve/served.rs"]
mod served;

use candid::{CandidType, Decode, Deserialize, Encode, Nat, Principal};
use ic_agent::identity::BasicIdentity;
use ic_agent::Identity;
use ic_management_canister_types::{CanisterIdRecord, CanisterStatusResult};
use served::{mkt, repo_root, Served};
use std::path::Path;

const CONSUMER: &str = "wmzac-nabae-aqcai-baeaq-caiba-eaqca-ibaea-qcaib-aeaqc-aibae-aqc";

fn run(state: &Path, args: &[&str]) -> (bool, String, String) {
    let out = mkt(state).args(args).output().expect("run mkt");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(state: &Path, args: &[&str]) -> String {
    let (success, stdout, stderr) = run(state, args);
    assert!(success, "mkt {args:?} failed:\n{stderr}");
    stdout
}

fn balance(state: &Path, owner: &str) -> u128 {
    // One nat: a JSON number up to 2^53, a decimal string beyond.
    let text = ok(state, &["ledger", "balance", owner, "--json"]);
    text.trim().trim_matches('"').parse().expect("a balance")
}

fn ledger_id(state: &Path) -> Principal {
    let info: serde_json::Value =
        serde_json::from_str(&ok(state, &["info", "--json"])).expect("info JSON");
    Principal::from_text(info["canisters"]["ledger"].as_str().expect("a ledger")).unwrap()
}

#[test]
fn a_ledger_deployed_beside_the_market_mints_approves_and_lives_on() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path();
    let out = ok(
        state,
        &[
            "deploy",
            "--ledger",
            "--mint",
            &format!("{CONSUMER}=1000000"),
        ],
    );
    assert!(out.contains("ledger canister"), "{out}");
    let ledger = ledger_id(state);

    // The market names the ledger and shows its currency.
    let policies = ok(state, &["call", "policies"]);
    assert!(policies.contains(&ledger.to_text()), "{policies}");
    assert!(policies.contains("\"TEST\""), "{policies}");

    // Minted at deploy and by the controller, each in its own process: the ledger is saved.
    assert_eq!(balance(state, CONSUMER), 1_000_000);
    ok(
        state,
        &["ledger", "mint", "--to", CONSUMER, "--amount", "500"],
    );
    assert_eq!(balance(state, CONSUMER), 1_000_500);

    // The approval costs the fee and names the market as the spender.
    ok(
        state,
        &[
            "ledger", "approve", "--caller", CONSUMER, "--amount", "300000",
        ],
    );
    assert_eq!(balance(state, CONSUMER), 1_000_500 - 10_000);
    let market = ok(state, &["info", "--json"]);
    let market: serde_json::Value = serde_json::from_str(&market).unwrap();
    let allowance = ok(
        state,
        &[
            "call",
            "--canister",
            "ledger",
            "icrc2_allowance",
            &format!(
                "(record {{ account = record {{ owner = principal \"{CONSUMER}\" }}; \
                 spender = record {{ owner = principal \"{}\" }} }})",
                market["canister_id"].as_str().unwrap()
            ),
        ],
    );
    assert!(allowance.contains("300_000"), "{allowance}");

    // A ledger refusal is the command's refusal: an approval from an empty account.
    let (success, stdout, stderr) = run(
        state,
        &[
            "ledger",
            "approve",
            "--caller",
            "anonymous",
            "--amount",
            "5",
        ],
    );
    assert!(!success && stdout.contains("InsufficientFunds"), "{stdout}");
    assert!(stderr.contains("icrc2_approve refused"), "{stderr}");
    // An upgrade of the market keeps the ledger.
    ok(state, &["upgrade"]);
    assert_eq!(ledger_id(state), ledger);
    assert_eq!(balance(state, CONSUMER), 1_000_500 - 10_000);

    // Deployed again without --ledger: the ledger is gone, and naming it says so.
    ok(state, &["deploy", "--force"]);
    let (success, _, stderr) = run(state, &["ledger", "balance", CONSUMER]);
    assert!(
        !success && stderr.contains("no canister 'ledger'"),
        "{stderr}"
    );
    assert!(!state.join("canisters").join(ledger.to_text()).exists());
}

#[test]
fn bad_ledger_flags_are_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    for (args, expected) in [
        (
            vec!["deploy", "--ledger", "--mint", "nobody=5"],
            "is not a principal",
        ),
        (
            vec!["deploy", "--ledger", "--mint", &format!("{CONSUMER}=lots")],
            "not a number",
        ),
        (
            vec!["deploy", "--ledger", "--mint", CONSUMER],
            "PRINCIPAL=AMOUNT",
        ),
        (
            vec![
                "deploy",
                "--ledger",
                "--argument",
                "(opt record { ledger = opt principal \"aaaaa-aa\" })",
            ],
            "leave `ledger` out",
        ),
        (
            vec!["deploy", "--ledger", "--ledger-wasm", "missing.wasm"],
            "no wasm at",
        ),
    ] {
        let (success, _, stderr) = run(dir.path(), &args);
        assert!(!success && stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert!(
        !dir.path().join("state.json").exists(),
        "a refused deploy writes nothing"
    );
}

#[derive(CandidType, Deserialize)]
struct Account {
    owner: Principal,
    subaccount: Option<Vec<u8>>,
}

#[derive(CandidType)]
struct ApproveArgs {
    spender: Account,
    amount: Nat,
}

#[tokio::test(flavor = "multi_thread")]
async fn mkt_serve_routes_an_agent_to_the_ledger_and_the_market() {
    let identity = BasicIdentity::from_raw_key(&[7u8; 32]);
    let me = identity.sender().unwrap().to_text();
    let mint = format!("{me}=2000000");
    let served = Served::start_with(
        &["--ledger", "--mint", &mint, "--controller", &me],
        &["--manual-time"],
    );
    let ledger = serde_json::from_str::<std::collections::BTreeMap<String, String>>(
        &std::fs::read_to_string(served.state.path().join("canisters.json")).unwrap(),
    )
    .unwrap()["ledger"]
        .parse::<Principal>()
        .unwrap();
    let agent = served.agent(identity).await;
    let me = Principal::from_text(&me).unwrap();
    let account = |owner| Account {
        owner,
        subaccount: None,
    };

    let reply = agent
        .query(&ledger, "icrc1_balance_of")
        .with_arg(Encode!(&account(me)).unwrap())
        .call()
        .await
        .expect("the ledger answers a query");
    assert_eq!(Decode!(&reply, Nat).unwrap(), Nat::from(2_000_000u32));

    let approve = ApproveArgs {
        spender: account(served.canister),
        amount: Nat::from(50_000u32),
    };
    let reply = agent
        .update(&ledger, "icrc2_approve")
        .with_arg(Encode!(&approve).unwrap())
        .call_and_wait()
        .await
        .expect("the ledger answers a certified update");
    let approved = Decode!(&reply, Result<Nat, candid::Reserved>).expect("an approve result");
    assert!(approved.is_ok(), "the approval is made");

    // Certified state of each canister: the ledger's own interface, the market's.
    let did = agent
        .read_state_canister_metadata(ledger, "candid:service")
        .await
        .expect("the ledger's candid:service");
    assert_eq!(
        String::from_utf8(did).unwrap(),
        std::fs::read_to_string(repo_root().join("ledger/ledger.did")).unwrap()
    );
    let reply = agent
        .query(&served.canister, "policies")
        .with_arg(Encode!().unwrap())
        .call()
        .await
        .expect("the market answers");
    let policies = candid::IDLArgs::from_bytes(&reply).unwrap().to_string();
    assert!(policies.contains(&ledger.to_text()), "{policies}");

    // The management canister answers about either canister; an unknown one is not served.
    let status = agent
        .update(&Principal::management_canister(), "canister_status")
        .with_effective_canister_id(ledger)
        .with_arg(
            Encode!(&CanisterIdRecord {
                canister_id: ledger
            })
            .unwrap(),
        )
        .call_and_wait()
        .await
        .expect("the ledger's status for its controller");
    Decode!(&status, CanisterStatusResult).expect("a status");
    // The URL must name the canister the argument is about, as on the IC.
    let mismatched = agent
        .update(&Principal::management_canister(), "canister_status")
        .with_effective_canister_id(served.canister)
        .with_arg(
            Encode!(&CanisterIdRecord {
                canister_id: ledger
            })
            .unwrap(),
        )
        .call_and_wait()
        .await;
    assert!(
        format!("{mismatched:?}").contains("effective canister id"),
        "{mismatched:?}"
    );
    let unknown = Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 9, 1, 1]);
    let refused = agent
        .query(&unknown, "icrc1_symbol")
        .with_arg(Encode!().unwrap())
        .call()
        .await;
    assert!(refused.is_err(), "{refused:?}");

    // Stopped, the server saved both canisters: the approval is still there.
    let state = served.stop();
    let allowance = ok(
        state.path(),
        &[
            "call",
            "--canister",
            "ledger",
            "icrc2_allowance",
            &format!(
                "(record {{ account = record {{ owner = principal \"{me}\" }}; \
                 spender = record {{ owner = principal \"{}\" }} }})",
                Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
            ),
        ],
    );
    assert!(allowance.contains("50_000"), "{allowance}");
}
