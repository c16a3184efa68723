//! Maintenance, upgrades, malformed input and the wasm's interface metadata.

mod common;

use candid::Nat;
use candid_parser::utils::{service_equal, CandidSource};
use common::*;
use ic0_host::RejectCode;
use icrc_ledger_types::icrc1::transfer::{Memo, TransferError};
use icrc_ledger_types::icrc2::approve::ApproveError;
use icrc_ledger_types::icrc2::transfer_from::TransferFromError;

#[test]
fn maintenance_is_for_controllers_and_makes_changes_temporarily_unavailable() {
    let mut l = Ledger::install();
    l.approve("alice", approve_arg(acc("shop"), 1_000)).unwrap();
    assert_eq!(
        l.set_maintenance(principal("alice"), true),
        Err(AdminError::NotAuthorized)
    );
    let controller = l.controller();
    assert_eq!(l.set_maintenance(controller, true), Ok(()));
    assert_eq!(
        l.transfer("alice", transfer_arg(acc("carol"), 1)),
        Err(TransferError::TemporarilyUnavailable)
    );
    assert_eq!(
        l.approve("alice", approve_arg(acc("shop"), 1)),
        Err(ApproveError::TemporarilyUnavailable)
    );
    assert_eq!(
        l.transfer_from("shop", transfer_from_arg(acc("alice"), acc("shop"), 1)),
        Err(TransferFromError::TemporarilyUnavailable)
    );
    // Queries still answer.
    assert_eq!(l.balance(acc("alice")), n(1_000_000 - FEE));
    assert_eq!(l.set_maintenance(controller, false), Ok(()));
    assert!(l.transfer("alice", transfer_arg(acc("carol"), 1)).is_ok());
}

#[test]
fn an_upgrade_keeps_balances_allowances_the_log_and_the_dedup_index() {
    let mut l = Ledger::install();
    let now = l.now();
    let mut expiring = approve_arg(acc("shop"), 50_000);
    expiring.expires_at = Some(now + HOUR);
    l.approve("alice", expiring).unwrap();
    let mut deduped = transfer_arg(acc("carol"), 300);
    deduped.created_at_time = Some(now);
    deduped.memo = Some(Memo::from(vec![1, 2, 3]));
    assert_eq!(l.transfer("alice", deduped.clone()), Ok(n(3)));
    l.transfer_from("shop", transfer_from_arg(acc("alice"), acc("dave"), 100))
        .unwrap();
    let controller = l.controller();
    l.set_maintenance(controller, true).unwrap();
    let before = l.blocks(0, 100);
    let balances: Vec<Nat> = ["alice", "bob", "carol", "dave"]
        .iter()
        .map(|name| l.balance(acc(name)))
        .collect();
    let supply = l.supply();

    l.upgrade();

    assert_eq!(l.blocks(0, 100), before);
    let after: Vec<Nat> = ["alice", "bob", "carol", "dave"]
        .iter()
        .map(|name| l.balance(acc(name)))
        .collect();
    assert_eq!(after, balances);
    assert_eq!(l.supply(), supply);
    let a = l.allowance(acc("alice"), acc("shop"));
    assert_eq!(
        (a.allowance, a.expires_at),
        (n(50_000 - 100 - FEE), Some(now + HOUR))
    );
    assert_eq!(
        l.transfer("alice", deduped.clone()),
        Err(TransferError::TemporarilyUnavailable),
        "maintenance kept"
    );
    l.set_maintenance(controller, false).unwrap();
    assert_eq!(
        l.transfer("alice", deduped),
        Err(TransferError::Duplicate { duplicate_of: n(3) })
    );
    assert_eq!(l.query::<_, String>("icrc1_symbol", ()), "TST");
    assert_eq!(l.transfer("alice", transfer_arg(acc("carol"), 1)), Ok(n(5)));
}

#[test]
fn undecodable_arguments_get_typed_errors_or_rejects_never_traps() {
    let mut l = Ledger::install();
    let garbage = b"DIDL\x00\x01\x71\x03abc".to_vec(); // a text where a record is expected
                                                       // A vector claiming 2^31 elements: cut off by the decoding quota.
    let bomb = b"DIDL\x01\x6d\x7f\x01\x00\x80\x80\x80\x80\x08".to_vec();
    for arg in [garbage, bomb, b"not candid".to_vec()] {
        let reply = l
            .update_raw(principal("alice"), "icrc1_transfer", arg.clone())
            .unwrap();
        let reply: Result<Nat, TransferError> = candid::decode_one(&reply).unwrap();
        assert!(
            matches!(&reply, Err(TransferError::GenericError { error_code, .. }) if *error_code == n(1)),
            "{reply:?}"
        );
        let reply = l
            .update_raw(principal("alice"), "icrc2_approve", arg.clone())
            .unwrap();
        let reply: Result<Nat, ApproveError> = candid::decode_one(&reply).unwrap();
        assert!(matches!(reply, Err(ApproveError::GenericError { .. })));
        let reply = l
            .update_raw(principal("alice"), "icrc2_transfer_from", arg.clone())
            .unwrap();
        let reply: Result<Nat, TransferFromError> = candid::decode_one(&reply).unwrap();
        assert!(matches!(reply, Err(TransferFromError::GenericError { .. })));
        let reply = l
            .host
            .query(principal("alice"), "get_blocks", &arg)
            .unwrap();
        let reply: Result<BlockPage, GetBlocksError> = candid::decode_one(&reply).unwrap();
        assert!(matches!(reply, Err(GetBlocksError::InvalidArgument { .. })));
        let controller = l.controller();
        let reply = l
            .update_raw(controller, "set_maintenance", arg.clone())
            .unwrap();
        let reply: Result<(), AdminError> = candid::decode_one(&reply).unwrap();
        assert!(matches!(reply, Err(AdminError::InvalidArgument { .. })));
        for method in ["icrc1_balance_of", "icrc2_allowance"] {
            let reject = l.host.query(principal("alice"), method, &arg).unwrap_err();
            assert_eq!(
                reject.code,
                RejectCode::CanisterReject,
                "{method}: {reject:?}"
            );
        }
    }
    // A subaccount that is not 32 bytes does not decode.
    #[derive(candid::CandidType)]
    struct BadAccount {
        owner: candid::Principal,
        subaccount: Option<serde_bytes::ByteBuf>,
    }
    let bad = BadAccount {
        owner: principal("alice"),
        subaccount: Some(serde_bytes::ByteBuf::from(vec![0; 31])),
    };
    let reject = l
        .host
        .query(
            principal("alice"),
            "icrc1_balance_of",
            &candid::encode_one(bad).unwrap(),
        )
        .unwrap_err();
    assert_eq!(reject.code, RejectCode::CanisterReject);
    assert_eq!(l.blocks(0, 10).log_length, 2, "nothing recorded");
}

#[test]
fn an_invalid_init_argument_fails_the_install() {
    let mut init = init_arg();
    init.initial_balances.push((minter(), n(1)));
    let mut host = ic0_host::Host::new();
    assert!(host
        .install(&wasm(), &candid::encode_one(init).unwrap())
        .is_err());
}

#[test]
fn the_wasm_embeds_the_did_as_public_candid_service_metadata() {
    let wasm = ic0_host::unpack_wasm(&wasm()).expect("the built module unpacks");
    let mut embedded = None;
    let mut args = None;
    for payload in wasmparser::Parser::new(0).parse_all(&wasm) {
        if let wasmparser::Payload::CustomSection(section) = payload.expect("valid wasm") {
            let text = || Some(String::from_utf8(section.data().to_vec()).expect("utf-8"));
            match section.name() {
                "icp:public candid:service" => embedded = text(),
                "icp:public candid:args" => args = text(),
                _ => {}
            }
        }
    }
    assert_eq!(args.as_deref(), Some("(InitArg)"));
    let embedded = embedded.expect("the wasm has public candid:service metadata");
    assert_eq!(embedded, std::fs::read_to_string(DID).unwrap());
    service_equal(
        CandidSource::Text(&embedded),
        CandidSource::File(DID.as_ref()),
    )
    .unwrap();
}

#[test]
fn an_upgrade_costs_the_same_whatever_the_state_holds() {
    let mut init = init_arg();
    init.transfer_fee = n(1);
    let mut l = Ledger::install_with(init);
    l.transfer("alice", transfer_arg(acc("carol"), 1)).unwrap();
    l.upgrade();
    let small = l.host.last_instructions();
    for i in 0..200u64 {
        let mut arg = transfer_arg(acc(&format!("user{i}")), 1);
        arg.created_at_time = Some(l.now());
        l.transfer("alice", arg).unwrap();
        l.approve("alice", approve_arg(acc(&format!("spender{i}")), i + 1))
            .unwrap();
    }
    l.upgrade();
    let large = l.host.last_instructions();
    assert!(small > 0, "the host counts upgrade instructions");
    assert!(
        large <= small + small / 10,
        "upgrade instructions: {small} with 3 blocks, {large} with 403"
    );
    assert_eq!(l.blocks(0, 1).log_length, 403);
}
