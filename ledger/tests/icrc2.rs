//! ICRC-2 through the built wasm: approvals, allowances, transfers from.

mod common;

use common::*;
use ic0_host::RejectCode;
use icrc_ledger_types::icrc1::account::Account;
use icrc_ledger_types::icrc2::approve::ApproveError;
use icrc_ledger_types::icrc2::transfer_from::TransferFromError;

#[test]
fn approve_charges_the_approver_the_fee_and_sets_the_allowance() {
    let mut l = Ledger::install();
    assert_eq!(
        l.approve("alice", approve_arg(acc("shop"), 5_000)),
        Ok(n(2))
    );
    assert_eq!(l.balance(acc("alice")), n(1_000_000 - FEE));
    assert_eq!(l.supply(), n(1_050_000 - FEE));
    let allowance = l.allowance(acc("alice"), acc("shop"));
    assert_eq!(
        (allowance.allowance, allowance.expires_at),
        (n(5_000), None)
    );
    // No approval: zero and no expiry.
    let none = l.allowance(acc("bob"), acc("shop"));
    assert_eq!((none.allowance, none.expires_at), (n(0), None));
    let block = l.block(2);
    assert_eq!(block.effective_fee, n(FEE));
    assert!(
        matches!(block.operation, Operation::Approve { spender, .. } if spender == acc("shop"))
    );
    // Replacing, then removing with zero.
    l.approve("alice", approve_arg(acc("shop"), 7)).unwrap();
    assert_eq!(l.allowance(acc("alice"), acc("shop")).allowance, n(7));
    l.approve("alice", approve_arg(acc("shop"), 0)).unwrap();
    assert_eq!(l.allowance(acc("alice"), acc("shop")).allowance, n(0));
}

#[test]
fn approve_errors() {
    let mut l = Ledger::install();
    let mut bad_fee = approve_arg(acc("shop"), 1);
    bad_fee.fee = Some(n(1));
    assert_eq!(
        l.approve("alice", bad_fee),
        Err(ApproveError::BadFee {
            expected_fee: n(FEE)
        })
    );
    // The approver needs the fee only, not the amount.
    assert_eq!(
        l.approve("carol", approve_arg(acc("shop"), 1)),
        Err(ApproveError::InsufficientFunds { balance: n(0) })
    );
    l.transfer("minter", transfer_arg(acc("carol"), FEE))
        .unwrap();
    assert!(l
        .approve("carol", approve_arg(acc("shop"), 1_000_000))
        .is_ok());
    assert_eq!(l.balance(acc("carol")), n(0));
}

#[test]
fn self_approval_traps_as_in_the_reference_ledger() {
    let mut l = Ledger::install();
    let own = Account {
        owner: principal("alice"),
        subaccount: Some([9; 32]),
    };
    let reject = l
        .update_raw(
            principal("alice"),
            "icrc2_approve",
            candid::encode_one(approve_arg(own, 5)).unwrap(),
        )
        .unwrap_err();
    assert_eq!(reject.code, RejectCode::CanisterError);
    assert!(reject.message.contains("self approval is not allowed"));
    assert_eq!(l.balance(acc("alice")), n(1_000_000), "no fee charged");
}

#[test]
fn expiry_and_expected_allowance() {
    let mut l = Ledger::install();
    let now = l.now();
    let mut past = approve_arg(acc("shop"), 100);
    past.expires_at = Some(now);
    assert_eq!(
        l.approve("alice", past),
        Err(ApproveError::Expired { ledger_time: now })
    );
    let mut expiring = approve_arg(acc("shop"), 100);
    expiring.expires_at = Some(now + HOUR);
    l.approve("alice", expiring).unwrap();
    let a = l.allowance(acc("alice"), acc("shop"));
    assert_eq!((a.allowance, a.expires_at), (n(100), Some(now + HOUR)));

    let mut expect = approve_arg(acc("shop"), 50);
    expect.expected_allowance = Some(n(99));
    assert_eq!(
        l.approve("alice", expect.clone()),
        Err(ApproveError::AllowanceChanged {
            current_allowance: n(100)
        })
    );
    expect.expected_allowance = Some(n(100));
    assert!(l.approve("alice", expect).is_ok());
    assert_eq!(l.allowance(acc("alice"), acc("shop")).allowance, n(50));
    assert_eq!(
        l.allowance(acc("alice"), acc("shop")).expires_at,
        None,
        "an approval resets the expiry"
    );

    let mut short = approve_arg(acc("shop"), 30 + FEE);
    short.expires_at = Some(now + MINUTE);
    l.approve("alice", short).unwrap();
    l.advance(MINUTE);
    let a = l.allowance(acc("alice"), acc("shop"));
    assert_eq!((a.allowance, a.expires_at), (n(0), None), "expired");
    assert_eq!(
        l.transfer_from("shop", transfer_from_arg(acc("alice"), acc("shop"), 30)),
        Err(TransferFromError::InsufficientAllowance { allowance: n(0) })
    );
}

#[test]
fn transfer_from_spends_amount_and_fee_from_allowance_and_balance() {
    let mut l = Ledger::install();
    l.approve("alice", approve_arg(acc("shop"), 1_000 + FEE))
        .unwrap();
    assert_eq!(
        l.transfer_from("shop", transfer_from_arg(acc("alice"), acc("shop"), 1_001)),
        Err(TransferFromError::InsufficientAllowance {
            allowance: n(1_000 + FEE)
        })
    );
    assert_eq!(
        l.transfer_from("shop", transfer_from_arg(acc("alice"), acc("shop"), 1_000)),
        Ok(n(3))
    );
    assert_eq!(l.balance(acc("alice")), n(1_000_000 - FEE - 1_000 - FEE));
    assert_eq!(l.balance(acc("shop")), n(1_000));
    assert_eq!(l.allowance(acc("alice"), acc("shop")).allowance, n(0));
    l.assert_supply_is(&["alice", "bob", "shop"]);
    assert_eq!(
        l.block(3).operation,
        Operation::Transfer {
            from: acc("alice"),
            to: acc("shop"),
            spender: Some(acc("shop")),
            amount: n(1_000),
            fee: None
        }
    );
    // The balance bounds it too.
    l.approve("bob", approve_arg(acc("shop"), 1_000_000))
        .unwrap();
    assert_eq!(
        l.transfer_from("shop", transfer_from_arg(acc("bob"), acc("shop"), 40_000)),
        Err(TransferFromError::InsufficientFunds {
            balance: n(50_000 - FEE)
        })
    );
    let mut bad_fee = transfer_from_arg(acc("bob"), acc("shop"), 1);
    bad_fee.fee = Some(n(0));
    assert_eq!(
        l.transfer_from("shop", bad_fee),
        Err(TransferFromError::BadFee {
            expected_fee: n(FEE)
        })
    );
    // A spender subaccount is another spender.
    let mut other_sub = transfer_from_arg(acc("bob"), acc("shop"), 1);
    other_sub.spender_subaccount = Some([1; 32]);
    assert_eq!(
        l.transfer_from("shop", other_sub),
        Err(TransferFromError::InsufficientAllowance { allowance: n(0) })
    );
}

#[test]
fn transfer_from_burns_with_the_allowance_and_cannot_mint() {
    let mut l = Ledger::install();
    l.approve("alice", approve_arg(acc("shop"), 50_000))
        .unwrap();
    assert_eq!(
        l.transfer_from("shop", transfer_from_arg(acc("alice"), minter(), FEE - 1)),
        Err(TransferFromError::BadBurn {
            min_burn_amount: n(FEE)
        })
    );
    assert_eq!(
        l.transfer_from("shop", transfer_from_arg(acc("alice"), minter(), 40_000)),
        Ok(n(3))
    );
    assert_eq!(
        l.allowance(acc("alice"), acc("shop")).allowance,
        n(10_000),
        "no fee on burns"
    );
    assert_eq!(l.balance(acc("alice")), n(1_000_000 - FEE - 40_000));
    assert_eq!(l.supply(), n(1_050_000 - FEE - 40_000));
    assert_eq!(
        l.block(3).operation,
        Operation::Burn {
            from: acc("alice"),
            spender: Some(acc("shop")),
            amount: n(40_000)
        }
    );
    let reject = l
        .update_raw(
            principal("shop"),
            "icrc2_transfer_from",
            candid::encode_one(transfer_from_arg(minter(), acc("shop"), 1)).unwrap(),
        )
        .unwrap_err();
    assert_eq!(reject.code, RejectCode::CanisterError);
    assert!(reject.message.contains("cannot delegate mints"));
}

#[test]
fn transfer_from_ones_own_account_needs_no_allowance() {
    let mut l = Ledger::install();
    assert_eq!(
        l.transfer_from("alice", transfer_from_arg(acc("alice"), acc("carol"), 5)),
        Ok(n(2))
    );
    assert_eq!(l.balance(acc("carol")), n(5));
}
