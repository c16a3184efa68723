use super::*;
use ic_certification::{LookupResult, SubtreeLookupResult};

fn cid(n: u64) -> Principal {
    // Canister ids: 8 bytes of index, then 0x01 0x01, as the IC makes them.
    let mut bytes = n.to_be_bytes().to_vec();
    bytes.extend_from_slice(&[1, 1]);
    Principal::from_slice(&bytes)
}

fn p(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|s| s.to_vec()).collect()
}

const REPLIED: [u8; 32] = [1; 32];
const REJECTED: [u8; 32] = [2; 32];
const REJECTED_NO_CODE: [u8; 32] = [3; 32];
const PROCESSING: [u8; 32] = [4; 32];
const DONE: [u8; 32] = [5; 32];
const RECEIVED: [u8; 32] = [6; 32];

fn statuses(id: &[u8]) -> Option<RequestStatus> {
    let rejected = |error_code| RequestStatus::Rejected {
        code: 4,
        message: "no".into(),
        error_code,
    };
    match <[u8; 32]>::try_from(id).ok()? {
        REPLIED => Some(RequestStatus::Replied(b"DIDL\0\0".to_vec())),
        REJECTED => Some(rejected(Some("IC0503".into()))),
        REJECTED_NO_CODE => Some(rejected(None)),
        PROCESSING => Some(RequestStatus::Processing),
        DONE => Some(RequestStatus::Done),
        RECEIVED => Some(RequestStatus::Received),
        _ => None,
    }
}

fn canister(n: u64) -> CanisterView {
    let mut c = CanisterView::new(cid(n));
    c.module_hash = Some([n as u8; 32]);
    c.controllers = vec![Principal::anonymous(), cid(99)];
    c.certified_data = vec![n as u8; 3];
    c.public_metadata
        .insert("candid:service".into(), b"service : {}".to_vec());
    c.private_metadata_names.insert("secret".into());
    c
}

fn with_view<R>(f: impl FnOnce(&StateView) -> R) -> R {
    let keys = Keys::from_seed([9; 32]);
    let mut canisters: Vec<_> = (1..12).map(canister).collect();
    canisters.push(CanisterView::new(cid(50)));
    let view = StateView {
        time: 1_700_000_000_000_000_000,
        keys: &keys,
        canister_ranges: vec![(cid(100), cid(200)), (cid(0), cid(99))],
        canisters,
        request_status: &statuses,
    };
    f(&view)
}

fn found(tree: &HashTree, path: &[&[u8]]) -> Vec<u8> {
    match tree.lookup_path(path) {
        LookupResult::Found(v) => v.to_vec(),
        other => panic!("{path:?}: {other:?}"),
    }
}

fn absent(tree: &HashTree, path: &[&[u8]]) {
    assert_eq!(tree.lookup_path(path), LookupResult::Absent, "{path:?}");
}

#[test]
fn leb128_encodes_nats() {
    assert_eq!(leb128(0), [0]);
    assert_eq!(leb128(127), [127]);
    assert_eq!(leb128(128), [0x80, 1]);
    assert_eq!(leb128(624485), [0xe5, 0x8e, 0x26]);
    assert_eq!(leb128(u64::MAX).len(), 10);
}

#[test]
fn time_is_always_there_and_nothing_else_unasked() {
    with_view(|view| {
        let tree = tree_for(view, &[]).unwrap();
        assert_eq!(found(&tree, &[b"time"]), leb128(view.time));
        absent(&tree, &[b"subnet"]);
        absent(&tree, &[b"canister"]);
        absent(&tree, &[b"request_status", &REPLIED, b"status"]);
        assert_eq!(
            tree_for(view, &[p(&[b"time"])]).unwrap().digest(),
            tree.digest()
        );
    })
}

#[test]
fn subnet_holds_keys_ranges_and_the_node_as_clients_read_them() {
    with_view(|view| {
        let keys = view.keys;
        let sid = keys.subnet_id();
        let tree = tree_for(view, &[p(&[b"subnet"])]).unwrap();
        assert_eq!(
            found(&tree, &[b"subnet", sid.as_slice(), b"public_key"]),
            keys.root_key_der()
        );
        let ranges = found(&tree, &[b"subnet", sid.as_slice(), b"canister_ranges"]);
        assert_eq!(ranges[..3], [0xd9, 0xd9, 0xf7]);
        let ranges: Vec<(Principal, Principal)> = serde_cbor::from_slice(&ranges).unwrap();
        assert_eq!(ranges, view.canister_ranges);
        // As ic-agent's lookup_incomplete_subnet and agent-js's lookupNodeKeysFromCertificate do.
        let SubtreeLookupResult::Found(nodes) =
            tree.lookup_subtree([b"subnet".as_ref(), sid.as_slice(), b"node"])
        else {
            panic!("no node subtree")
        };
        let paths = nodes.list_paths();
        assert_eq!(paths.len(), 1);
        assert_eq!(paths[0][0].as_bytes(), keys.node_id().as_slice());
        assert_eq!(paths[0][1].as_bytes(), b"public_key");
        assert_eq!(
            found(
                &tree,
                &[
                    b"subnet",
                    sid.as_slice(),
                    b"node",
                    keys.node_id().as_slice(),
                    b"public_key"
                ]
            ),
            keys.node_key_der()
        );
        // Sub-paths give just their part.
        let narrow = tree_for(view, &[p(&[b"subnet", sid.as_slice(), b"public_key"])]).unwrap();
        assert_eq!(
            found(&narrow, &[b"subnet", sid.as_slice(), b"public_key"]),
            keys.root_key_der()
        );
        absent(&narrow, &[b"subnet", sid.as_slice(), b"canister_ranges"]);
        // Another subnet is absent, not an error.
        let other = tree_for(view, &[p(&[b"subnet", cid(1).as_slice()])]).unwrap();
        absent(&other, &[b"subnet", cid(1).as_slice(), b"public_key"]);
    })
}

#[test]
fn sharded_canister_ranges_hold_one_shard_labelled_by_the_lowest_id() {
    with_view(|view| {
        let sid = view.keys.subnet_id();
        let tree = tree_for(view, &[p(&[b"canister_ranges", sid.as_slice()])]).unwrap();
        let SubtreeLookupResult::Found(shards) =
            tree.lookup_subtree([b"canister_ranges".as_ref(), sid.as_slice()])
        else {
            panic!("no shards")
        };
        let paths = shards.list_paths();
        assert_eq!(paths.len(), 1);
        assert_eq!(paths[0].len(), 1);
        assert_eq!(paths[0][0].as_bytes(), cid(0).as_slice());
        let leaf = found(
            &tree,
            &[b"canister_ranges", sid.as_slice(), cid(0).as_slice()],
        );
        let ranges: Vec<(Principal, Principal)> = serde_cbor::from_slice(&leaf).unwrap();
        assert_eq!(ranges, vec![(cid(0), cid(99)), (cid(100), cid(200))]);
        // The unsharded copy was not asked for.
        absent(&tree, &[b"subnet", sid.as_slice(), b"canister_ranges"]);
    })
}

#[test]
fn canister_fields_are_there_for_every_canister() {
    with_view(|view| {
        for n in 1..12 {
            let id = cid(n);
            let c = |f: &[u8]| p(&[b"canister", id.as_slice(), f]);
            let paths = [
                c(b"module_hash"),
                c(b"controllers"),
                c(b"certified_data"),
                p(&[b"canister", id.as_slice(), b"metadata", b"candid:service"]),
            ];
            let tree = tree_for(view, &paths).unwrap();
            let id = id.as_slice();
            assert_eq!(
                found(&tree, &[b"canister", id, b"module_hash"]),
                [n as u8; 32]
            );
            assert_eq!(
                found(&tree, &[b"canister", id, b"certified_data"]),
                [n as u8; 3]
            );
            let controllers = found(&tree, &[b"canister", id, b"controllers"]);
            assert_eq!(controllers[..3], [0xd9, 0xd9, 0xf7]);
            let controllers: Vec<Principal> = serde_cbor::from_slice(&controllers).unwrap();
            assert_eq!(controllers, vec![Principal::anonymous(), cid(99)]);
            assert_eq!(
                found(&tree, &[b"canister", id, b"metadata", b"candid:service"]),
                b"service : {}"
            );
            // Only what was asked for: another canister is absent.
            absent(
                &tree,
                &[b"canister", cid(n + 20).as_slice(), b"module_hash"],
            );
        }
    })
}

#[test]
fn missing_canister_parts_are_absent() {
    with_view(|view| {
        let empty = cid(50);
        let tree = tree_for(
            view,
            &[
                p(&[b"canister", empty.as_slice(), b"module_hash"]),
                p(&[
                    b"canister",
                    empty.as_slice(),
                    b"metadata",
                    b"candid:service",
                ]),
                p(&[b"canister", cid(77).as_slice(), b"controllers"]),
                p(&[b"canister", cid(1).as_slice(), b"metadata", b"nope"]),
            ],
        )
        .unwrap();
        absent(&tree, &[b"canister", empty.as_slice(), b"module_hash"]);
        absent(
            &tree,
            &[
                b"canister",
                empty.as_slice(),
                b"metadata",
                b"candid:service",
            ],
        );
        absent(&tree, &[b"canister", cid(77).as_slice(), b"controllers"]);
        absent(
            &tree,
            &[b"canister", cid(1).as_slice(), b"metadata", b"nope"],
        );
    })
}

#[test]
fn forbidden_malformed_and_unknown_paths_are_errors() {
    with_view(|view| {
        let id = cid(1);
        let err = |path: Vec<Vec<u8>>| tree_for(view, &[p(&[b"time"]), path]).unwrap_err();
        let forbidden = |e: PathError| assert!(matches!(e, PathError::Forbidden(_)), "{e:?}");
        let malformed = |e: PathError| assert!(matches!(e, PathError::Malformed(_)), "{e:?}");
        forbidden(err(p(&[
            b"canister",
            id.as_slice(),
            b"metadata",
            b"secret",
        ])));
        forbidden(err(p(&[b"canister"])));
        forbidden(err(p(&[b"canister", id.as_slice()])));
        forbidden(err(p(&[b"canister", id.as_slice(), b"metadata"])));
        forbidden(err(p(&[b"canister", id.as_slice(), b"wasm"])));
        forbidden(err(p(&[b"request_status"])));
        malformed(err(p(&[b"canister", &[0; 30], b"module_hash"])));
        malformed(err(p(&[b"request_status", &[0; 31]])));
        malformed(err(vec![]));
        let e = err(p(&[b"flowers"]));
        assert!(matches!(e, PathError::NotFound(_)), "{e:?}");
        assert_eq!(e.status(), 404);
        assert!(e.message().contains("flowers"));
        assert_eq!(PathError::Forbidden("x".into()).status(), 403);
        assert_eq!(PathError::Malformed("x".into()).status(), 400);
    })
}

#[test]
fn request_statuses_read_as_the_clients_expect() {
    with_view(|view| {
        let all = [
            REPLIED,
            REJECTED,
            REJECTED_NO_CODE,
            PROCESSING,
            DONE,
            RECEIVED,
            [0; 32],
        ];
        let paths: Vec<_> = all.iter().map(|id| p(&[b"request_status", id])).collect();
        let tree = tree_for(view, &paths).unwrap();
        let status = |id: &[u8; 32]| found(&tree, &[b"request_status", id, b"status"]);
        assert_eq!(status(&REPLIED), b"replied");
        assert_eq!(
            found(&tree, &[b"request_status", &REPLIED, b"reply"]),
            b"DIDL\0\0"
        );
        absent(&tree, &[b"request_status", &REPLIED, b"reject_code"]);
        assert_eq!(status(&REJECTED), b"rejected");
        assert_eq!(
            found(&tree, &[b"request_status", &REJECTED, b"reject_code"]),
            [4]
        );
        assert_eq!(
            found(&tree, &[b"request_status", &REJECTED, b"reject_message"]),
            b"no"
        );
        assert_eq!(
            found(&tree, &[b"request_status", &REJECTED, b"error_code"]),
            b"IC0503"
        );
        absent(&tree, &[b"request_status", &REJECTED, b"reply"]);
        absent(
            &tree,
            &[b"request_status", &REJECTED_NO_CODE, b"error_code"],
        );
        assert_eq!(status(&PROCESSING), b"processing");
        assert_eq!(status(&DONE), b"done");
        absent(&tree, &[b"request_status", &DONE, b"reply"]);
        assert_eq!(status(&RECEIVED), b"received");
        absent(&tree, &[b"request_status", &[0; 32], b"status"]);
        // A narrower path gives only its leaf.
        let narrow = tree_for(view, &[p(&[b"request_status", &REPLIED, b"status"])]).unwrap();
        assert_eq!(
            found(&narrow, &[b"request_status", &REPLIED, b"status"]),
            b"replied"
        );
        absent(&narrow, &[b"request_status", &REPLIED, b"reply"]);
    })
}

#[test]
fn overlapping_paths_merge_and_trees_are_deterministic() {
    with_view(|view| {
        let sid = view.keys.subnet_id();
        let paths = [
            p(&[b"subnet", sid.as_slice(), b"public_key"]),
            p(&[b"subnet"]),
            p(&[b"time"]),
            p(&[b"canister", cid(3).as_slice(), b"module_hash"]),
            p(&[b"api_boundary_nodes"]),
        ];
        let a = tree_for(view, &paths).unwrap();
        let mut reversed = paths.clone();
        reversed.reverse();
        let b = tree_for(view, &reversed).unwrap();
        assert_eq!(a.digest(), b.digest());
        let whole = tree_for(view, &[p(&[b"subnet"])]).unwrap();
        assert!(matches!(
            whole.lookup_subtree([b"subnet".as_ref()]),
            SubtreeLookupResult::Found(_)
        ));
        assert_eq!(
            found(&a, &[b"subnet", sid.as_slice(), b"canister_ranges"]),
            found(&whole, &[b"subnet", sid.as_slice(), b"canister_ranges"])
        );
        assert_eq!(
            found(&a, &[b"canister", cid(3).as_slice(), b"module_hash"]),
            [3; 32]
        );
        assert!(a.lookup_subtree([b"api_boundary_nodes".as_ref()]) != SubtreeLookupResult::Absent);
    })
}

#[test]
fn empty_ranges_give_an_empty_shard_list() {
    let keys = Keys::from_seed([1; 32]);
    let none = |_: &[u8]| None;
    let view = StateView {
        time: 1,
        keys: &keys,
        canister_ranges: vec![],
        canisters: vec![],
        request_status: &none,
    };
    let sid = keys.subnet_id();
    let tree = tree_for(&view, &[p(&[b"canister_ranges"])]).unwrap();
    let SubtreeLookupResult::Found(shards) =
        tree.lookup_subtree([b"canister_ranges".as_ref(), sid.as_slice()])
    else {
        panic!("no shards")
    };
    assert!(shards.list_paths().is_empty());
}
