//! `mkt-mcp --url` (ic-agent, its default verification on) against the local endpoint that
//! `mkt serve` runs: a dfx-style secp256k1 identity, a delegate of the provider, provisions the
//! node and follows it to completed while the server's clock is moved on.

mod common;

use common::*;
use k256::pkcs8::LineEnding;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Serves the canister in `dir` on a free port from a thread of its own (time moves only when
/// told); returns the URL and the canister id.
fn serve(dir: &Path) -> (String, String) {
    let (ready, started) = std::sync::mpsc::channel();
    let dir: PathBuf = dir.to_path_buf();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
                .await
                .expect("a port");
            let url = format!("http://{}", listener.local_addr().expect("an address"));
            let config = endpoint::replica::Config {
                dir: dir.clone(),
                manual_time: true,
            };
            let served = endpoint::serve::serve(
                listener,
                move || runner::state::State::load_unserved(&dir).map(|state| state.host),
                endpoint::keys::Keys::generate(),
                config,
                move |canister| {
                    let _ = ready.send((url, canister[0].to_text()));
                },
                std::future::pending(),
            );
            served.await.expect("the server runs until the test ends");
        });
    });
    started
        .recv_timeout(Duration::from_secs(120))
        .expect("the server starts")
}

#[test]
fn mkt_mcp_provisions_through_the_endpoint_with_a_dfx_identity() {
    let dir = deployed();
    let secret = k256::SecretKey::from_slice(&[11; 32]).expect("a secp256k1 key");
    let pem = secret.to_sec1_pem(LineEnding::LF).expect("PEM");
    let identity = dir.path().join("identity.pem");
    std::fs::write(&identity, pem.as_bytes()).expect("write the identity");
    let public = secret.public_key();
    let der = k256::pkcs8::EncodePublicKey::to_public_key_der(&public).expect("DER");
    let operator = candid::Principal::self_authenticating(der.as_bytes()).to_text();
    with_a_node(dir.path(), &operator);

    let (url, canister) = serve(dir.path());
    let mut mcp = Mcp::spawn(&[
        "--url",
        &url,
        "--canister",
        &canister,
        "--identity",
        identity.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(mcp.initialize()["serverInfo"]["name"], "mkt-mcp");

    let started = mcp.ok(
        "provision_server",
        json!({
            "image_id": "ubuntu-24.04",
            "resource_class": "baremetal.large",
            "provider_pem": provider_pem(),
        }),
    );
    assert_eq!(started["server_id"], NODE, "{started}");

    let mut last = started;
    for _ in 0..5 {
        runner::serve::advance_time(&url, Duration::from_secs(60)).expect("advance the server");
        last = mcp.ok("check_provision_status", json!({ "operation_id": NODE }));
        if last["status"] == "completed" {
            break;
        }
        assert_eq!(last["status"], "in_progress", "{last}");
    }
    assert_eq!(last["status"], "completed", "{last}");
    assert_eq!(last["provision_state"], "active", "{last}");

    // A stranger's identity is refused by the canister, through the same endpoint.
    let stranger = dir.path().join("stranger.pem");
    let other = k256::SecretKey::from_slice(&[12; 32]).expect("a key");
    std::fs::write(
        &stranger,
        other.to_sec1_pem(LineEnding::LF).expect("PEM").as_bytes(),
    )
    .expect("write");
    let mut outsider = Mcp::spawn(&[
        "--url",
        &url,
        "--canister",
        &canister,
        "--identity",
        stranger.to_str().expect("utf-8 path"),
    ]);
    outsider.initialize();
    let refused = outsider.tool_error(
        "provision_server",
        json!({ "image_id": "ubuntu-24.04", "server_id": NODE, "provider_pem": provider_pem() }),
    );
    assert!(refused.starts_with("NotAuthorized"), "{refused}");
}
