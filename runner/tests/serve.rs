//! `mkt serve` end to end: a real IC client (ic-agent, its default verification on: certificates
//! against the fetched root key, query signatures against the certified node keys) talks to
//! the canister through the local endpoint, with each kind of identity; the state directory is
//! locked while served and saved when the server stops.

#[path = "serve/served.rs"]
mod served;

use candid::{CandidType, Decode, Deserialize, Encode, Principal};
use ic_agent::identity::{
    AnonymousIdentity, BasicIdentity, DelegatedIdentity, Prime256v1Identity, Secp256k1Identity,
    SignedDelegation,
};
use ic_agent::{Agent, Identity};
use ic_management_canister_types::{CanisterIdRecord, CanisterStatusResult, CanisterStatusType};
use ic_transport_types::Delegation;
use served::{mkt, now_nanos, repo_root, Served};

#[derive(CandidType, Deserialize)]
struct Counters {
    updates: u64,
}

#[derive(CandidType, Deserialize)]
struct Status {
    counters: Counters,
}

async fn updates(agent: &Agent, canister: Principal) -> u64 {
    let reply = agent
        .query(&canister, "status")
        .with_arg(Encode!().expect("encode"))
        .call()
        .await
        .expect("status answers");
    Decode!(&reply, Status).expect("a Status").counters.updates
}

/// One update every caller may make: without network access `ironic_discover` answers with a
/// typed error, and the canister counts the update.
async fn discover(agent: &Agent, canister: Principal) -> Vec<u8> {
    #[derive(CandidType)]
    struct Arg {
        endpoint: String,
    }
    agent
        .update(&canister, "ironic_discover")
        .with_arg(
            Encode!(&Arg {
                endpoint: "https://ironic.example".into()
            })
            .expect("encode"),
        )
        .call_and_wait()
        .await
        .expect("the update is answered with a certified reply")
}

#[tokio::test(flavor = "multi_thread")]
async fn ic_agent_queries_and_updates_with_every_kind_of_identity() {
    let served = Served::start(&[]);
    let canister = served.canister;
    let anonymous = served.agent(AnonymousIdentity).await;
    let start = updates(&anonymous, canister).await;

    let secp = k256::SecretKey::from_slice(&[7; 32]).expect("a secp256k1 key");
    let p256 = p256::SecretKey::from_slice(&[9; 32]).expect("a P-256 key");
    let agents = [
        served.agent(BasicIdentity::from_raw_key(&[3; 32])).await,
        served
            .agent(Secp256k1Identity::from_private_key(secp))
            .await,
        served
            .agent(Prime256v1Identity::from_private_key(p256))
            .await,
    ];
    for (n, agent) in agents.iter().enumerate() {
        let reply = discover(agent, canister).await;
        assert_eq!(&reply[..4], b"DIDL", "a Candid reply");
        assert_eq!(updates(agent, canister).await, start + n as u64 + 1);
    }

    // The canister's inspect_message drops anonymous updates: the IC's non-replicated
    // rejection, with no certificate and nothing run.
    let refused = anonymous
        .update(&canister, "ironic_discover")
        .with_arg(Encode!().expect("encode"))
        .call_and_wait()
        .await;
    match refused {
        Err(ic_agent::AgentError::UncertifiedReject { reject, .. }) => {
            assert!(
                reject.reject_message.contains("anonymous"),
                "{}",
                reject.reject_message
            )
        }
        other => panic!("expected an uncertified reject, got {other:?}"),
    }
    assert_eq!(updates(&anonymous, canister).await, start + 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_delegation_chain_signs_for_its_root_key() {
    let served = Served::start(&[]);
    let canister = served.canister;
    let root = BasicIdentity::from_raw_key(&[1; 32]);
    let middle =
        Secp256k1Identity::from_private_key(k256::SecretKey::from_slice(&[2; 32]).expect("a key"));
    let session = BasicIdentity::from_raw_key(&[4; 32]);
    let expiration = now_nanos() + 3_600_000_000_000;
    let link = |from: &dyn Identity, to: &dyn Identity, targets: Option<Vec<Principal>>| {
        let delegation = Delegation {
            pubkey: to.public_key().expect("a public key"),
            expiration,
            targets,
            permissions: None,
        };
        let signature = from
            .sign_delegation(&delegation)
            .expect("signs")
            .signature
            .expect("a signature");
        SignedDelegation {
            delegation,
            signature,
        }
    };
    let chain = vec![
        link(&root, &middle, Some(vec![canister])),
        link(&middle, &session, None),
    ];
    let delegated =
        DelegatedIdentity::new_unchecked(root.public_key().expect("key"), Box::new(session), chain);
    assert_eq!(
        delegated.sender().expect("sender"),
        root.sender().expect("sender")
    );
    let agent = served.agent(delegated).await;
    let before = updates(&agent, canister).await;
    discover(&agent, canister).await;
    assert_eq!(updates(&agent, canister).await, before + 1);

    // A delegation limited to another canister does not reach this one.
    let elsewhere = vec![link(
        &root,
        &BasicIdentity::from_raw_key(&[5; 32]),
        Some(vec![Principal::management_canister()]),
    )];
    let stray = DelegatedIdentity::new_unchecked(
        root.public_key().expect("key"),
        Box::new(BasicIdentity::from_raw_key(&[5; 32])),
        elsewhere,
    );
    let agent = served.agent(stray).await;
    let refused = agent
        .query(&canister, "status")
        .with_arg(Encode!().expect("encode"))
        .call()
        .await;
    assert!(refused.is_err(), "a delegation to other targets is refused");
}

#[tokio::test(flavor = "multi_thread")]
async fn read_state_certifies_the_module_controllers_and_candid_interface() {
    let served = Served::start(&[]);
    let canister = served.canister;
    let agent = served.agent(AnonymousIdentity).await;
    let did = agent
        .read_state_canister_metadata(canister, "candid:service")
        .await
        .expect("candid:service is public metadata");
    let did = String::from_utf8(did).expect("utf-8");
    let (_, service) = candid_parser::utils::CandidSource::Text(&did)
        .load()
        .expect("the served interface parses");
    assert!(service.is_some(), "a service");
    assert_eq!(
        did,
        std::fs::read_to_string(repo_root().join("candid/marketplace.did")).expect("the .did"),
        "the interface read from the canister is the project's .did"
    );

    let hash = agent
        .read_state_canister_info(canister, "module_hash")
        .await
        .expect("module_hash");
    let wasm = std::fs::read(repo_root().join("target/wasm/marketplace.wasm.gz")).expect("wasm");
    use sha2::Digest;
    assert_eq!(
        hash,
        sha2::Sha256::digest(&wasm).to_vec(),
        "the installed module's hash"
    );

    let controllers = agent
        .read_state_canister_controllers(canister)
        .await
        .expect("controllers");
    assert_eq!(controllers.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_state_is_locked_while_served_and_saved_when_stopped() {
    let served = Served::start(&["--manual-time"]);
    let canister = served.canister;
    let agent = served.agent(BasicIdentity::from_raw_key(&[8; 32])).await;
    discover(&agent, canister).await;
    let counted = updates(&agent, canister).await;

    let refused = mkt(served.state.path())
        .args(["call", "status"])
        .output()
        .expect("run mkt");
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("is being served by mkt serve at http://127.0.0.1:"),
        "{err}"
    );

    // advance-time moves the server's clock; the timer runs there.
    let moved = mkt(served.state.path())
        .args(["advance-time", "2h"])
        .output()
        .expect("run mkt");
    assert!(moved.status.success(), "{moved:?}");
    assert!(String::from_utf8_lossy(&moved.stdout).contains("on mkt serve at"));

    let state = served.stop();
    let status = mkt(state.path())
        .args(["call", "status", "--json"])
        .output()
        .expect("run mkt");
    assert!(status.status.success(), "{status:?}");
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(
        status["counters"]["updates"], counted,
        "the update was saved"
    );
    assert!(
        status["counters"]["timer_runs"].as_u64().unwrap_or(0) > 0,
        "the timer ran on the server: {status}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn canister_status_answers_the_controllers_only() {
    let admin = BasicIdentity::from_raw_key(&[21; 32]);
    let principal = admin.sender().expect("a principal").to_text();
    let served = Served::start_with(&["--controller", &principal], &[]);
    let canister = served.canister;
    let ask = |agent: Agent| async move {
        agent
            .update(&Principal::management_canister(), "canister_status")
            .with_effective_canister_id(canister)
            .with_arg(
                Encode!(&CanisterIdRecord {
                    canister_id: canister
                })
                .expect("encode"),
            )
            .call_and_wait()
            .await
    };
    let reply = ask(served.agent(admin).await)
        .await
        .expect("a controller's status");
    let status = Decode!(&reply, CanisterStatusResult).expect("a CanisterStatusResult");
    assert_eq!(status.status, CanisterStatusType::Running);
    assert!(status
        .settings
        .controllers
        .iter()
        .any(|c| c.to_text() == principal));
    let wasm = std::fs::read(repo_root().join("target/wasm/marketplace.wasm.gz")).expect("wasm");
    use sha2::Digest;
    assert_eq!(
        status.module_hash,
        Some(sha2::Sha256::digest(&wasm).to_vec())
    );
    assert!(status.memory_size > 0u8 && status.cycles > 0u8);

    let stranger = served.agent(BasicIdentity::from_raw_key(&[22; 32])).await;
    match ask(stranger).await {
        Err(ic_agent::AgentError::CertifiedReject { reject, .. }) => assert!(
            reject.reject_message.contains("Only the controllers"),
            "{}",
            reject.reject_message
        ),
        other => panic!("a stranger is refused, got {other:?}"),
    }
}
