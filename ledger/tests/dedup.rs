//! The deduplication window through the built wasm: Duplicate, TooOld, CreatedInFuture.

mod common;

use common::*;
use icrc_ledger_types::icrc1::transfer::{Memo, TransferError};
use icrc_ledger_types::icrc2::approve::ApproveError;
use icrc_ledger_types::icrc2::transfer_from::TransferFromError;

const WINDOW: u64 = 24 * HOUR;
const DRIFT: u64 = 2 * MINUTE;

#[test]
fn an_identical_transaction_in_the_window_is_a_duplicate_of_the_first() {
    let mut l = Ledger::install();
    let mut arg = transfer_arg(acc("carol"), 100);
    arg.created_at_time = Some(l.now());
    arg.memo = Some(Memo::from(7u64));
    assert_eq!(l.transfer("alice", arg.clone()), Ok(n(2)));
    l.transfer("alice", transfer_arg(acc("carol"), 1)).unwrap();
    l.advance(HOUR);
    assert_eq!(
        l.transfer("alice", arg.clone()),
        Err(TransferError::Duplicate { duplicate_of: n(2) })
    );
    assert_eq!(l.balance(acc("carol")), n(101), "charged once");
    // Any field differing (memo, amount, fee given, caller) makes another transaction.
    let mut other = arg.clone();
    other.memo = Some(Memo::from(8u64));
    assert_eq!(l.transfer("alice", other), Ok(n(4)));
    let mut other = arg.clone();
    other.fee = Some(n(FEE));
    assert_eq!(l.transfer("alice", other), Ok(n(5)));
    assert_eq!(l.transfer("bob", arg.clone()), Ok(n(6)));
    // The null and the zero subaccount are the same account, so the same transaction.
    let mut same = arg.clone();
    same.from_subaccount = Some([0; 32]);
    assert_eq!(
        l.transfer("alice", same),
        Err(TransferError::Duplicate { duplicate_of: n(2) })
    );
}

#[test]
fn transactions_without_created_at_time_are_never_deduplicated() {
    let mut l = Ledger::install();
    let arg = transfer_arg(acc("carol"), 100);
    assert_eq!(l.transfer("alice", arg.clone()), Ok(n(2)));
    assert_eq!(l.transfer("alice", arg), Ok(n(3)));
    assert_eq!(l.balance(acc("carol")), n(200));
}

#[test]
fn too_old_past_the_window_plus_drift() {
    let mut l = Ledger::install();
    let now = l.now();
    let mut arg = transfer_arg(acc("carol"), 100);
    arg.created_at_time = Some(now - WINDOW - DRIFT);
    assert_eq!(l.transfer("alice", arg.clone()), Ok(n(2)), "just inside");
    arg.created_at_time = Some(now - WINDOW - DRIFT - 1);
    assert_eq!(l.transfer("alice", arg), Err(TransferError::TooOld));
    // A recorded transaction becomes TooOld (not Duplicate) once the window passed.
    let mut recent = transfer_arg(acc("carol"), 5);
    recent.created_at_time = Some(now);
    assert_eq!(l.transfer("alice", recent.clone()), Ok(n(3)));
    l.advance(WINDOW + DRIFT);
    assert_eq!(
        l.transfer("alice", recent.clone()),
        Err(TransferError::Duplicate { duplicate_of: n(3) })
    );
    l.advance(1);
    assert_eq!(l.transfer("alice", recent), Err(TransferError::TooOld));
}

#[test]
fn created_in_future_past_the_drift() {
    let mut l = Ledger::install();
    let now = l.now();
    let mut arg = transfer_arg(acc("carol"), 100);
    arg.created_at_time = Some(now + DRIFT + 1);
    assert_eq!(
        l.transfer("alice", arg.clone()),
        Err(TransferError::CreatedInFuture { ledger_time: now })
    );
    arg.created_at_time = Some(now + DRIFT);
    assert_eq!(l.transfer("alice", arg), Ok(n(2)));
}

#[test]
fn the_window_and_drift_come_from_the_init_argument() {
    let mut init = init_arg();
    init.transaction_window_nanos = Some(MINUTE);
    init.permitted_drift_nanos = Some(1_000);
    let mut l = Ledger::install_with(init);
    let now = l.now();
    let mut arg = transfer_arg(acc("carol"), 100);
    arg.created_at_time = Some(now + 1_001);
    assert_eq!(
        l.transfer("alice", arg.clone()),
        Err(TransferError::CreatedInFuture { ledger_time: now })
    );
    arg.created_at_time = Some(now);
    assert_eq!(l.transfer("alice", arg.clone()), Ok(n(2)));
    l.advance(MINUTE + 1_000);
    assert_eq!(
        l.transfer("alice", arg.clone()),
        Err(TransferError::Duplicate { duplicate_of: n(2) })
    );
    l.advance(1);
    assert_eq!(l.transfer("alice", arg), Err(TransferError::TooOld));
}

#[test]
fn approvals_and_transfers_from_are_deduplicated() {
    let mut l = Ledger::install();
    let now = l.now();
    let mut approve = approve_arg(acc("shop"), 100_000);
    approve.created_at_time = Some(now);
    assert_eq!(l.approve("alice", approve.clone()), Ok(n(2)));
    assert_eq!(
        l.approve("alice", approve.clone()),
        Err(ApproveError::Duplicate { duplicate_of: n(2) })
    );
    approve.created_at_time = Some(now - WINDOW - DRIFT - 1);
    assert_eq!(
        l.approve("alice", approve.clone()),
        Err(ApproveError::TooOld)
    );
    approve.created_at_time = Some(now + DRIFT + 1);
    assert_eq!(
        l.approve("alice", approve),
        Err(ApproveError::CreatedInFuture { ledger_time: now })
    );

    let mut pull = transfer_from_arg(acc("alice"), acc("shop"), 100);
    pull.created_at_time = Some(now);
    assert_eq!(l.transfer_from("shop", pull.clone()), Ok(n(3)));
    assert_eq!(
        l.transfer_from("shop", pull.clone()),
        Err(TransferFromError::Duplicate { duplicate_of: n(3) })
    );
    pull.created_at_time = Some(now - WINDOW - DRIFT - 1);
    assert_eq!(
        l.transfer_from("shop", pull.clone()),
        Err(TransferFromError::TooOld)
    );
    pull.created_at_time = Some(now + DRIFT + 1);
    assert_eq!(
        l.transfer_from("shop", pull),
        Err(TransferFromError::CreatedInFuture { ledger_time: now })
    );
}
