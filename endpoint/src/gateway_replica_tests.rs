//! The gateway with a replica: the replica's data certificates, as a canister gets them in a
//! query, are what the gateway verifies (a body certified with them passes, and only while the
//! certified data covers it); an upgraded request becomes a call (against a stand-in replica).

use super::canister::{self, HttpUpdateRequest};
use super::tests::{canister_id, get, keys, ok, v1_certified, v1_tree, NOW};
use super::verify;
use crate::keys::Keys;
use crate::replica::{self, CallOutcome, Config, Job};
use crate::state_tree::{self, RequestStatus, StateView};
use ic0_host::Host;
use std::sync::{mpsc, Arc};
use tokio::sync::oneshot;

/// `set` (update): the argument becomes the certified data. `cert` (query): replies with the
/// data certificate the query was given.
const CANISTER: &str = r#"
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "certified_data_set" (func $certified_data_set (param i32 i32)))
  (import "ic0" "data_certificate_size" (func $cert_size (result i32)))
  (import "ic0" "data_certificate_copy" (func $cert_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (memory 1)
  (func $set
    (call $arg_copy (i32.const 0) (i32.const 0) (call $arg_size))
    (call $certified_data_set (i32.const 0) (call $arg_size))
    (call $reply))
  (func $cert
    (call $cert_copy (i32.const 0) (i32.const 0) (call $cert_size))
    (call $append (i32.const 0) (call $cert_size))
    (call $reply))
  (export "canister_update set" (func $set))
  (export "canister_query cert" (func $cert)))
"#;

fn start(dir: &std::path::Path) -> mpsc::Sender<Job> {
    let wasm = wat::parse_str(CANISTER).expect("the test canister assembles");
    let load = move || {
        let mut host = Host::new();
        host.install(&wasm, &[]).map_err(|e| e.message)?;
        Ok(host)
    };
    let config = Config {
        dir: dir.to_path_buf(),
        manual_time: true,
    };
    let (jobs, id) = replica::start(load, Arc::new(keys()), config).expect("the replica starts");
    assert_eq!(id, vec![canister_id()]);
    jobs
}

async fn set_certified_data(jobs: &mpsc::Sender<Job>, data: &[u8]) {
    let (reply, answer) = oneshot::channel();
    let mut request_id = [0u8; 32];
    request_id[..data.len().min(32)].copy_from_slice(&data[..data.len().min(32)]);
    jobs.send(Job::Call {
        request_id,
        canister: canister_id(),
        sender: candid::Principal::anonymous(),
        management: false,
        method: "set".into(),
        arg: data.to_vec(),
        expiry: replica::wall_clock() + 60_000_000_000,
        reply,
    })
    .expect("the replica runs");
    assert!(matches!(answer.await.unwrap(), CallOutcome::Certified(_)));
}

async fn data_certificate(jobs: &mpsc::Sender<Job>) -> Vec<u8> {
    let (reply, answer) = oneshot::channel();
    jobs.send(Job::Query {
        canister: canister_id(),
        sender: candid::Principal::anonymous(),
        method: "cert".into(),
        arg: vec![],
        reply,
    })
    .expect("the replica runs");
    answer
        .await
        .unwrap()
        .expect("a query has a data certificate")
}

#[tokio::test]
async fn a_body_certified_with_the_replicas_data_certificate_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let jobs = start(dir.path());
    let root = keys().root_key_der();
    let tree = v1_tree("/metrics", b"up 1\n");
    set_certified_data(&jobs, &tree.digest()).await;

    let certificate = data_certificate(&jobs).await;
    let response = v1_certified(&tree, &certificate, b"up 1\n");
    let now = replica::wall_clock();
    let info = verify::verify(&get("/metrics"), &response, canister_id(), &root, now)
        .expect("certified by the replica's certificate");
    assert_eq!(info.verification_version, 1);

    // Once the canister certifies something else, the old tree no longer verifies.
    set_certified_data(&jobs, &[0; 32]).await;
    let stale = v1_certified(&tree, &data_certificate(&jobs).await, b"up 1\n");
    let now = replica::wall_clock();
    assert!(verify::verify(&get("/metrics"), &stale, canister_id(), &root, now).is_err());

    let (reply, answer) = oneshot::channel();
    jobs.send(Job::Stop { reply }).unwrap();
    answer.await.unwrap().expect("the replica saves and stops");
}

/// A stand-in replica answering the query with an upgrade and the call with `update_reply`.
fn stand_in(keys: Keys, update_reply: Vec<u8>) -> std::sync::mpsc::Sender<Job> {
    let (jobs, receive) = std::sync::mpsc::channel::<Job>();
    std::thread::spawn(move || {
        while let Ok(job) = receive.recv() {
            match job {
                Job::Query { method, reply, .. } => {
                    assert_eq!(method, "http_request");
                    let mut upgrade = ok(vec![], b"");
                    upgrade.upgrade = Some(true);
                    let _ = reply.send(Ok(candid::encode_one(upgrade).unwrap()));
                }
                Job::Call {
                    request_id,
                    method,
                    arg,
                    reply,
                    ..
                } => {
                    assert_eq!(method, "http_request_update");
                    let request: HttpUpdateRequest = candid::decode_one(&arg).unwrap();
                    assert_eq!(request.url, "/bump");
                    let status = RequestStatus::Replied(update_reply.clone());
                    let lookup = |id: &[u8]| (id == request_id).then(|| status.clone());
                    let view = StateView {
                        time: NOW,
                        keys: &keys,
                        canister_ranges: vec![],
                        canisters: vec![],
                        request_status: &lookup,
                    };
                    let path = vec![b"request_status".to_vec(), request_id.to_vec()];
                    let tree = state_tree::tree_for(&view, &[path]).unwrap();
                    let certificate = crate::certificate::certificate(&keys, tree);
                    let _ = reply.send(CallOutcome::Certified(certificate));
                }
                _ => panic!("unexpected job"),
            }
        }
    });
    jobs
}

#[tokio::test]
async fn an_upgrade_becomes_an_update_call() {
    let updated = ok(vec![("X-Update".into(), "yes".into())], b"bumped");
    let jobs = stand_in(keys(), candid::encode_one(&updated).unwrap());
    let (response, upgraded) = canister::call_http_request(&jobs, canister_id(), &get("/bump"))
        .await
        .unwrap();
    assert!(upgraded);
    assert_eq!(response, updated);
}
