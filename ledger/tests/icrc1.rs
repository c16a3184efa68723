//! ICRC-1 through the built wasm: metadata, transfers, mints, burns, accounts, memos.

mod common;

use common::*;
use ic0_host::RejectCode;
use icrc_ledger_types::icrc::generic_metadata_value::MetadataValue;
use icrc_ledger_types::icrc1::account::Account;
use icrc_ledger_types::icrc1::transfer::{Memo, TransferError};

#[test]
fn metadata_methods_answer_the_init_argument() {
    let mut l = Ledger::install();
    assert_eq!(l.query::<_, String>("icrc1_name", ()), "Test Token");
    assert_eq!(l.query::<_, String>("icrc1_symbol", ()), "TST");
    assert_eq!(l.query::<_, u8>("icrc1_decimals", ()), 8);
    assert_eq!(l.query::<_, candid::Nat>("icrc1_fee", ()), n(FEE));
    assert_eq!(l.supply(), n(1_050_000));
    assert_eq!(
        l.query::<_, Option<Account>>("icrc1_minting_account", ()),
        Some(minter())
    );
    let metadata: Vec<(String, MetadataValue)> = l.query("icrc1_metadata", ());
    assert!(metadata.contains(&(
        "icrc1:name".into(),
        MetadataValue::Text("Test Token".into())
    )));
    assert!(metadata.contains(&("icrc1:symbol".into(), MetadataValue::Text("TST".into()))));
    assert!(metadata.contains(&("icrc1:decimals".into(), MetadataValue::Nat(n(8)))));
    assert!(metadata.contains(&("icrc1:fee".into(), MetadataValue::Nat(n(FEE)))));
    let standards: Vec<StandardRecord> = l.query("icrc1_supported_standards", ());
    let names: Vec<_> = standards.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["ICRC-1", "ICRC-2"]);
    // The initial balances are mints, blocks 0 and 1.
    let page = l.blocks(0, 10);
    assert_eq!(page.log_length, 2);
    assert_eq!(
        page.blocks[0].operation,
        Operation::Mint {
            to: acc("alice"),
            amount: n(1_000_000)
        }
    );
}

#[test]
fn a_transfer_moves_the_amount_burns_the_fee_and_is_recorded() {
    let mut l = Ledger::install();
    let mut arg = transfer_arg(acc("carol"), 1_000);
    arg.memo = Some(Memo::from(vec![42; 32]));
    arg.created_at_time = Some(l.now());
    assert_eq!(l.transfer("alice", arg.clone()), Ok(n(2)));
    assert_eq!(l.balance(acc("alice")), n(1_000_000 - 1_000 - FEE));
    assert_eq!(l.balance(acc("carol")), n(1_000));
    assert_eq!(l.supply(), n(1_050_000 - FEE));
    l.assert_supply_is(&["alice", "bob", "carol"]);
    let block = l.block(2);
    assert_eq!(block.index, 2);
    assert_eq!(block.timestamp, l.now());
    assert_eq!(block.memo, arg.memo);
    assert_eq!(block.created_at_time, arg.created_at_time);
    assert_eq!(block.effective_fee, n(FEE));
    assert_eq!(
        block.operation,
        Operation::Transfer {
            from: acc("alice"),
            to: acc("carol"),
            spender: None,
            amount: n(1_000),
            fee: None
        }
    );
}

#[test]
fn a_wrong_fee_is_refused_with_the_expected_one() {
    let mut l = Ledger::install();
    let mut arg = transfer_arg(acc("carol"), 1);
    arg.fee = Some(n(FEE - 1));
    assert_eq!(
        l.transfer("alice", arg.clone()),
        Err(TransferError::BadFee {
            expected_fee: n(FEE)
        })
    );
    arg.fee = Some(n(FEE));
    assert_eq!(l.transfer("alice", arg), Ok(n(2)));
    assert_eq!(
        l.block(2).operation,
        Operation::Transfer {
            from: acc("alice"),
            to: acc("carol"),
            spender: None,
            amount: n(1),
            fee: Some(n(FEE)),
        }
    );
}

#[test]
fn insufficient_funds_reports_the_balance() {
    let mut l = Ledger::install();
    assert_eq!(
        l.transfer("bob", transfer_arg(acc("carol"), 50_000 - FEE + 1)),
        Err(TransferError::InsufficientFunds { balance: n(50_000) })
    );
    assert_eq!(
        l.transfer("bob", transfer_arg(acc("carol"), 50_000 - FEE)),
        Ok(n(2))
    );
    assert_eq!(l.balance(acc("bob")), n(0));
}

#[test]
fn the_minting_account_mints_and_receives_burns_without_fee() {
    let mut l = Ledger::install();
    assert_eq!(
        l.transfer("minter", transfer_arg(acc("carol"), 5)),
        Ok(n(2))
    );
    assert_eq!(l.supply(), n(1_050_005));
    let mut with_fee = transfer_arg(acc("carol"), 5);
    with_fee.fee = Some(n(FEE));
    assert_eq!(
        l.transfer("minter", with_fee),
        Err(TransferError::BadFee { expected_fee: n(0) })
    );
    // Burns: at least the fee (or the whole balance when it is smaller), never zero, no fee.
    assert_eq!(
        l.transfer("alice", transfer_arg(minter(), FEE - 1)),
        Err(TransferError::BadBurn {
            min_burn_amount: n(FEE)
        })
    );
    let mut burn_fee = transfer_arg(minter(), FEE);
    burn_fee.fee = Some(n(FEE));
    assert_eq!(
        l.transfer("alice", burn_fee),
        Err(TransferError::BadFee { expected_fee: n(0) })
    );
    assert_eq!(l.transfer("alice", transfer_arg(minter(), FEE)), Ok(n(3)));
    assert_eq!(l.balance(acc("alice")), n(1_000_000 - FEE));
    assert_eq!(
        l.transfer("carol", transfer_arg(minter(), 4)),
        Err(TransferError::BadBurn {
            min_burn_amount: n(5)
        })
    );
    assert_eq!(l.transfer("carol", transfer_arg(minter(), 5)), Ok(n(4)));
    assert_eq!(
        l.transfer("dave", transfer_arg(minter(), 0)),
        Err(TransferError::BadBurn {
            min_burn_amount: n(FEE)
        })
    );
    assert_eq!(l.supply(), n(1_050_005 - FEE - 5));
    l.assert_supply_is(&["alice", "bob", "carol"]);
    assert!(matches!(
        l.block(3).operation,
        Operation::Burn { spender: None, .. }
    ));
    assert_eq!(l.block(3).effective_fee, n(0));
}

#[test]
fn the_default_subaccount_is_the_null_subaccount() {
    let mut l = Ledger::install();
    let zero = Account {
        owner: principal("carol"),
        subaccount: Some([0; 32]),
    };
    l.transfer("alice", transfer_arg(zero, 100 + FEE)).unwrap();
    assert_eq!(l.balance(acc("carol")), n(100 + FEE));
    assert_eq!(l.balance(zero), n(100 + FEE));
    let mut from_zero = transfer_arg(acc("dave"), 50);
    from_zero.from_subaccount = Some([0; 32]);
    l.transfer("carol", from_zero).unwrap();
    assert_eq!(l.balance(acc("carol")), n(50));
    let other = Account {
        owner: principal("carol"),
        subaccount: Some([1; 32]),
    };
    assert_eq!(l.balance(other), n(0));
}

#[test]
fn an_overlong_memo_traps_as_in_the_reference_ledger_and_changes_nothing() {
    let mut l = Ledger::install();
    let mut arg = transfer_arg(acc("carol"), 1);
    arg.memo = Some(Memo::from(vec![0; 33]));
    let reject = l
        .update_raw(
            principal("alice"),
            "icrc1_transfer",
            candid::encode_one(&arg).unwrap(),
        )
        .unwrap_err();
    assert_eq!(reject.code, RejectCode::CanisterError);
    assert!(
        reject.message.contains("memo field size of 33 bytes"),
        "{}",
        reject.message
    );
    assert_eq!(l.blocks(0, 10).log_length, 2);
    assert_eq!(l.balance(acc("alice")), n(1_000_000));
}

#[test]
fn the_anonymous_principal_is_an_ordinary_owner_as_in_the_reference_ledger() {
    let mut l = Ledger::install();
    let anonymous = Account {
        owner: candid::Principal::anonymous(),
        subaccount: None,
    };
    let none: Result<candid::Nat, TransferError> = l.update(
        candid::Principal::anonymous(),
        "icrc1_transfer",
        (transfer_arg(acc("carol"), 1),),
    );
    assert_eq!(
        none,
        Err(TransferError::InsufficientFunds { balance: n(0) })
    );
    l.transfer("alice", transfer_arg(anonymous, 100 + FEE))
        .unwrap();
    let sent: Result<candid::Nat, TransferError> = l.update(
        candid::Principal::anonymous(),
        "icrc1_transfer",
        (transfer_arg(acc("carol"), 100),),
    );
    assert!(sent.is_ok());
    assert_eq!(l.balance(acc("carol")), n(100));
}

#[test]
fn get_blocks_pages_at_most_a_hundred() {
    let mut init = init_arg();
    init.transfer_fee = n(1);
    let mut l = Ledger::install_with(init);
    for _ in 0..120 {
        l.transfer("alice", transfer_arg(acc("carol"), 1)).unwrap();
    }
    let page = l.blocks(0, 1_000);
    assert_eq!((page.log_length, page.blocks.len()), (122, 100));
    assert_eq!(page.blocks[99].index, 99);
    let tail = l.blocks(100, 100);
    assert_eq!(tail.blocks.len(), 22);
    assert_eq!(tail.blocks[21].index, 121);
    assert!(l.blocks(500, 10).blocks.is_empty());
    assert!(l.blocks(u64::MAX, u64::MAX).blocks.is_empty());
}
