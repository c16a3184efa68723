//! The standards' rules, natively, on the plain functions.

use crate::errors::Failure;
use crate::lifecycle;
use crate::ops;
use crate::queries;
use crate::state::Ledger;
use crate::types::{GetBlocksArg, InitArg, Operation};
use candid::{Nat, Principal};
use ic_stable_structures::DefaultMemoryImpl;
use icrc_ledger_types::icrc1::account::Account;
use icrc_ledger_types::icrc1::transfer::{Memo, TransferArg, TransferError};
use icrc_ledger_types::icrc2::allowance::AllowanceArgs;
use icrc_ledger_types::icrc2::approve::{ApproveArgs, ApproveError};
use icrc_ledger_types::icrc2::transfer_from::{TransferFromArgs, TransferFromError};

const FEE: u128 = 10;
const T0: u64 = 1_767_225_600_000_000_000;
const HOUR: u64 = 3_600_000_000_000;
const MINUTE: u64 = 60_000_000_000;

fn principal(name: &str) -> Principal {
    Principal::self_authenticating(name.as_bytes())
}

fn acc(name: &str) -> Account {
    Account {
        owner: principal(name),
        subaccount: None,
    }
}

fn minter() -> Account {
    acc("minter")
}

/// A ledger where alice holds 1000 and bob 500.
fn ledger() -> Ledger {
    let mut ledger = Ledger::open(DefaultMemoryImpl::default());
    lifecycle::init(
        &mut ledger,
        T0,
        InitArg {
            token_name: "Test".into(),
            token_symbol: "TST".into(),
            decimals: None,
            transfer_fee: FEE.into(),
            minting_account: minter(),
            initial_balances: vec![(acc("alice"), 1000u32.into()), (acc("bob"), 500u32.into())],
            transaction_window_nanos: None,
            permitted_drift_nanos: None,
        },
    )
    .unwrap();
    check(&ledger);
    ledger
}

/// The sum of the balances is the total supply.
fn check(ledger: &Ledger) {
    let sum: u128 = ledger.balances_for_checks().iter().map(|(_, b)| b).sum();
    assert_eq!(sum, ledger.total_supply(), "balances add up to the supply");
}

fn bal(ledger: &Ledger, name: &str) -> u128 {
    ledger.balance(&acc(name))
}

fn xfer(to: &str, amount: u128) -> TransferArg {
    TransferArg {
        from_subaccount: None,
        to: acc(to),
        fee: None,
        created_at_time: None,
        memo: None,
        amount: amount.into(),
    }
}

fn transfer(
    l: &mut Ledger,
    now: u64,
    from: &str,
    arg: TransferArg,
) -> Result<u64, Failure<TransferError>> {
    let r = ops::transfer(l, now, principal(from), arg);
    check(l);
    r
}

fn err<E>(e: E) -> Result<u64, Failure<E>> {
    Err(Failure::Err(e))
}

fn approve_arg(spender: &str, amount: u128) -> ApproveArgs {
    ApproveArgs {
        from_subaccount: None,
        spender: acc(spender),
        amount: amount.into(),
        expected_allowance: None,
        expires_at: None,
        fee: None,
        memo: None,
        created_at_time: None,
    }
}

fn from_arg(from: &str, to: &str, amount: u128) -> TransferFromArgs {
    TransferFromArgs {
        spender_subaccount: None,
        from: acc(from),
        to: acc(to),
        amount: amount.into(),
        fee: None,
        memo: None,
        created_at_time: None,
    }
}

#[test]
fn init_mints_the_initial_balances_as_blocks() {
    let l = ledger();
    assert_eq!(l.total_supply(), 1500);
    assert_eq!(l.cfg().decimals, 8);
    let page = queries::get_blocks(
        &l,
        &GetBlocksArg {
            start: 0,
            length: 10,
        },
    );
    assert_eq!(page.log_length, 2);
    assert_eq!(
        page.blocks[1].operation,
        Operation::Mint {
            to: acc("bob"),
            amount: 500u32.into()
        }
    );
}

#[test]
fn a_transfer_moves_the_amount_and_burns_the_fee() {
    let mut l = ledger();
    assert_eq!(transfer(&mut l, T0, "alice", xfer("carol", 100)), Ok(2));
    assert_eq!((bal(&l, "alice"), bal(&l, "carol")), (890, 100));
    assert_eq!(l.total_supply(), 1490);
    let block = l.block(2).unwrap();
    assert_eq!(block.effective_fee, Nat::from(10u8));
    assert_eq!(block.timestamp, T0);
    // The exact fee is accepted, another one refused.
    let mut arg = xfer("carol", 1);
    arg.fee = Some(FEE.into());
    assert_eq!(transfer(&mut l, T0, "alice", arg.clone()), Ok(3));
    arg.fee = Some(0u8.into());
    assert_eq!(
        transfer(&mut l, T0, "alice", arg),
        err(TransferError::BadFee {
            expected_fee: FEE.into()
        })
    );
}

#[test]
fn insufficient_funds_reports_the_balance() {
    let mut l = ledger();
    assert_eq!(
        transfer(&mut l, T0, "bob", xfer("carol", 491)),
        err(TransferError::InsufficientFunds {
            balance: 500u32.into()
        })
    );
    assert_eq!(transfer(&mut l, T0, "bob", xfer("carol", 490)), Ok(2));
    assert_eq!(bal(&l, "bob"), 0);
    // More than any account can hold.
    let mut arg = xfer("carol", 0);
    arg.amount = Nat::from(u128::MAX) + Nat::from(1u8);
    assert_eq!(
        transfer(&mut l, T0, "alice", arg),
        err(TransferError::InsufficientFunds {
            balance: 1000u32.into()
        })
    );
}

#[test]
fn the_minting_account_mints_without_fee() {
    let mut l = ledger();
    assert_eq!(transfer(&mut l, T0, "minter", xfer("carol", 7)), Ok(2));
    assert_eq!((bal(&l, "carol"), l.total_supply()), (7, 1507));
    let mut arg = xfer("carol", 7);
    arg.fee = Some(FEE.into());
    assert_eq!(
        transfer(&mut l, T0, "minter", arg),
        err(TransferError::BadFee {
            expected_fee: 0u8.into()
        })
    );
    assert_eq!(l.block(2).unwrap().effective_fee, Nat::from(0u8));
}

#[test]
fn burns_have_no_fee_and_a_minimum() {
    let mut l = ledger();
    assert_eq!(
        transfer(&mut l, T0, "alice", xfer("minter", 9)),
        err(TransferError::BadBurn {
            min_burn_amount: FEE.into()
        })
    );
    let mut arg = xfer("minter", 20);
    arg.fee = Some(FEE.into());
    assert_eq!(
        transfer(&mut l, T0, "alice", arg),
        err(TransferError::BadFee {
            expected_fee: 0u8.into()
        })
    );
    assert_eq!(transfer(&mut l, T0, "alice", xfer("minter", 10)), Ok(2));
    assert_eq!((bal(&l, "alice"), l.total_supply()), (990, 1490));
    // Below the fee, the whole balance may be burnt, but never zero.
    assert_eq!(
        transfer(&mut l, T0, "dave", xfer("minter", 0)),
        err(TransferError::BadBurn {
            min_burn_amount: FEE.into()
        })
    );
    transfer(&mut l, T0, "minter", xfer("dave", 3)).unwrap();
    assert_eq!(
        transfer(&mut l, T0, "dave", xfer("minter", 2)),
        err(TransferError::BadBurn {
            min_burn_amount: 3u8.into()
        })
    );
    assert!(transfer(&mut l, T0, "dave", xfer("minter", 3)).is_ok());
    assert_eq!(bal(&l, "dave"), 0);
}

#[test]
fn the_default_subaccount_is_the_null_subaccount() {
    let mut l = ledger();
    let mut arg = xfer("carol", 5);
    arg.to.subaccount = Some([0; 32]);
    arg.from_subaccount = Some([0; 32]);
    transfer(&mut l, T0, "alice", arg).unwrap();
    assert_eq!(bal(&l, "carol"), 5);
    assert_eq!(bal(&l, "alice"), 985);
    let mut sub = [0; 32];
    sub[0] = 1;
    let mut arg = xfer("carol", 5);
    arg.to.subaccount = Some(sub);
    transfer(&mut l, T0, "alice", arg).unwrap();
    assert_eq!(bal(&l, "carol"), 5, "another subaccount is another account");
}

#[test]
fn an_overlong_memo_traps_as_in_the_reference_ledger() {
    let mut l = ledger();
    let mut arg = xfer("carol", 5);
    arg.memo = Some(Memo::from(vec![1; 32]));
    assert!(transfer(&mut l, T0, "alice", arg.clone()).is_ok());
    arg.memo = Some(Memo::from(vec![1; 33]));
    assert!(matches!(
        transfer(&mut l, T0, "alice", arg),
        Err(Failure::Trap(m)) if m.contains("above the allowed limit of 32 bytes")
    ));
    let mut a = approve_arg("bob", 5);
    a.memo = Some(Memo::from(vec![1; 33]));
    assert!(matches!(
        ops::approve(&mut l, T0, principal("alice"), a),
        Err(Failure::Trap(_))
    ));
}

#[test]
fn deduplication_follows_the_window() {
    let mut l = ledger();
    let mut arg = xfer("carol", 5);
    arg.created_at_time = Some(T0);
    arg.memo = Some(Memo::from(vec![7]));
    assert_eq!(transfer(&mut l, T0, "alice", arg.clone()), Ok(2));
    assert_eq!(
        transfer(&mut l, T0 + HOUR, "alice", arg.clone()),
        err(TransferError::Duplicate {
            duplicate_of: 2u8.into()
        })
    );
    // Another caller, memo, or an equivalent-but-spelt-differently account?
    assert_eq!(transfer(&mut l, T0, "bob", arg.clone()), Ok(3));
    let mut other_memo = arg.clone();
    other_memo.memo = Some(Memo::from(vec![8]));
    assert_eq!(transfer(&mut l, T0, "alice", other_memo), Ok(4));
    let mut same_account = arg.clone();
    same_account.from_subaccount = Some([0; 32]);
    assert_eq!(
        transfer(&mut l, T0, "alice", same_account),
        err(TransferError::Duplicate {
            duplicate_of: 2u8.into()
        })
    );
    // Without created_at_time: never deduplicated.
    assert_eq!(transfer(&mut l, T0, "alice", xfer("carol", 5)), Ok(5));
    assert_eq!(transfer(&mut l, T0, "alice", xfer("carol", 5)), Ok(6));
    // TooOld once created_at_time + window + drift < now; the entry is then pruned.
    let edge = T0 + 24 * HOUR + 2 * MINUTE;
    assert_eq!(
        transfer(&mut l, edge, "alice", arg.clone()),
        err(TransferError::Duplicate {
            duplicate_of: 2u8.into()
        })
    );
    assert_eq!(
        transfer(&mut l, edge + 1, "alice", arg),
        err(TransferError::TooOld)
    );
    assert_eq!(l.dedup_len(), 0, "the stale entries were pruned");
}

#[test]
fn created_in_future_past_the_drift() {
    let mut l = ledger();
    let mut arg = xfer("carol", 5);
    arg.created_at_time = Some(T0 + 2 * MINUTE + 1);
    assert_eq!(
        transfer(&mut l, T0, "alice", arg.clone()),
        err(TransferError::CreatedInFuture { ledger_time: T0 })
    );
    arg.created_at_time = Some(T0 + 2 * MINUTE);
    assert_eq!(transfer(&mut l, T0, "alice", arg), Ok(2));
}

#[test]
fn maintenance_makes_changes_temporarily_unavailable() {
    let mut l = ledger();
    lifecycle::set_maintenance(&mut l, true);
    assert_eq!(
        transfer(&mut l, T0, "alice", xfer("carol", 5)),
        err(TransferError::TemporarilyUnavailable)
    );
    assert_eq!(
        ops::approve(&mut l, T0, principal("alice"), approve_arg("bob", 5)),
        err(ApproveError::TemporarilyUnavailable)
    );
    assert_eq!(
        ops::transfer_from(&mut l, T0, principal("bob"), from_arg("alice", "bob", 5)),
        err(TransferFromError::TemporarilyUnavailable)
    );
    lifecycle::set_maintenance(&mut l, false);
    assert!(transfer(&mut l, T0, "alice", xfer("carol", 5)).is_ok());
}

#[test]
fn approve_charges_the_fee_and_sets_the_allowance() {
    let mut l = ledger();
    let alice = principal("alice");
    assert_eq!(
        ops::approve(&mut l, T0, alice, approve_arg("bob", 300)),
        Ok(2)
    );
    assert_eq!(bal(&l, "alice"), 990);
    check(&l);
    let args = AllowanceArgs {
        account: acc("alice"),
        spender: acc("bob"),
    };
    assert_eq!(
        queries::allowance(&l, T0, &args).allowance,
        Nat::from(300u32)
    );
    // A new approval replaces the old one; zero removes it.
    ops::approve(&mut l, T0, alice, approve_arg("bob", 50)).unwrap();
    assert_eq!(
        queries::allowance(&l, T0, &args).allowance,
        Nat::from(50u32)
    );
    ops::approve(&mut l, T0, alice, approve_arg("bob", 0)).unwrap();
    assert_eq!(queries::allowance(&l, T0, &args).allowance, Nat::from(0u32));
    let mut bad_fee = approve_arg("bob", 1);
    bad_fee.fee = Some(1u8.into());
    assert_eq!(
        ops::approve(&mut l, T0, alice, bad_fee),
        err(ApproveError::BadFee {
            expected_fee: FEE.into()
        })
    );
    // Enough for the fee is all the approver needs.
    transfer(&mut l, T0, "minter", xfer("erin", 9)).unwrap();
    assert_eq!(
        ops::approve(&mut l, T0, principal("erin"), approve_arg("bob", 1000)),
        err(ApproveError::InsufficientFunds {
            balance: 9u8.into()
        })
    );
    // An allowance larger than the ledger counts is capped.
    let mut huge = approve_arg("carol", 0);
    huge.amount = Nat::from(u128::MAX) * Nat::from(2u8);
    ops::approve(&mut l, T0, alice, huge).unwrap();
    let carol = AllowanceArgs {
        account: acc("alice"),
        spender: acc("carol"),
    };
    assert_eq!(
        queries::allowance(&l, T0, &carol).allowance,
        Nat::from(u128::MAX)
    );
}

#[test]
fn self_approval_and_minter_approval_trap_as_in_the_reference_ledger() {
    let mut l = ledger();
    let mut own_sub = approve_arg("alice", 5);
    own_sub.spender.subaccount = Some([1; 32]);
    assert_eq!(
        ops::approve(&mut l, T0, principal("alice"), own_sub),
        Err(Failure::Trap("self approval is not allowed".into()))
    );
    assert!(matches!(
        ops::approve(&mut l, T0, principal("minter"), approve_arg("bob", 5)),
        Err(Failure::Trap(_))
    ));
}

#[test]
fn expiry_and_expected_allowance() {
    let mut l = ledger();
    let alice = principal("alice");
    let mut arg = approve_arg("bob", 100);
    arg.expires_at = Some(T0);
    assert_eq!(
        ops::approve(&mut l, T0, alice, arg.clone()),
        err(ApproveError::Expired { ledger_time: T0 })
    );
    arg.expires_at = Some(T0 + HOUR);
    ops::approve(&mut l, T0, alice, arg).unwrap();
    let args = AllowanceArgs {
        account: acc("alice"),
        spender: acc("bob"),
    };
    let a = queries::allowance(&l, T0, &args);
    assert_eq!(
        (a.allowance, a.expires_at),
        (Nat::from(100u8), Some(T0 + HOUR))
    );
    let mut expect = approve_arg("bob", 10);
    expect.expected_allowance = Some(99u8.into());
    assert_eq!(
        ops::approve(&mut l, T0, alice, expect.clone()),
        err(ApproveError::AllowanceChanged {
            current_allowance: 100u8.into()
        })
    );
    // Once expired, the allowance is zero: spending fails, and expected_allowance 0 matches.
    let later = T0 + HOUR;
    let a = queries::allowance(&l, later, &args);
    assert_eq!((a.allowance, a.expires_at), (Nat::from(0u8), None));
    assert_eq!(
        ops::transfer_from(&mut l, later, principal("bob"), from_arg("alice", "bob", 1)),
        err(TransferFromError::InsufficientAllowance {
            allowance: 0u8.into()
        })
    );
    expect.expected_allowance = Some(0u8.into());
    assert!(ops::approve(&mut l, later, alice, expect).is_ok());
}

#[test]
fn transfer_from_spends_amount_and_fee_from_the_allowance() {
    let mut l = ledger();
    let bob = principal("bob");
    ops::approve(&mut l, T0, principal("alice"), approve_arg("bob", 120)).unwrap();
    assert_eq!(
        ops::transfer_from(&mut l, T0, bob, from_arg("alice", "carol", 111)),
        err(TransferFromError::InsufficientAllowance {
            allowance: 120u8.into()
        })
    );
    assert_eq!(
        ops::transfer_from(&mut l, T0, bob, from_arg("alice", "carol", 110)),
        Ok(3)
    );
    check(&l);
    assert_eq!((bal(&l, "alice"), bal(&l, "carol")), (870, 110));
    let args = AllowanceArgs {
        account: acc("alice"),
        spender: acc("bob"),
    };
    assert_eq!(queries::allowance(&l, T0, &args).allowance, Nat::from(0u8));
    let block = l.block(3).unwrap();
    assert!(
        matches!(block.operation, Operation::Transfer { spender: Some(s), .. } if s == acc("bob"))
    );
    // The balance is checked too.
    ops::approve(&mut l, T0, principal("alice"), approve_arg("bob", 10_000)).unwrap();
    assert_eq!(
        ops::transfer_from(&mut l, T0, bob, from_arg("alice", "carol", 900)),
        err(TransferFromError::InsufficientFunds {
            balance: 860u32.into()
        })
    );
    let mut bad_fee = from_arg("alice", "carol", 1);
    bad_fee.fee = Some(3u8.into());
    assert_eq!(
        ops::transfer_from(&mut l, T0, bob, bad_fee),
        err(TransferFromError::BadFee {
            expected_fee: FEE.into()
        })
    );
}

#[test]
fn transfer_from_burns_from_the_allowance_and_never_mints() {
    let mut l = ledger();
    let bob = principal("bob");
    ops::approve(&mut l, T0, principal("alice"), approve_arg("bob", 50)).unwrap();
    assert_eq!(
        ops::transfer_from(&mut l, T0, bob, from_arg("alice", "minter", 50)),
        Ok(3)
    );
    assert_eq!((bal(&l, "alice"), l.total_supply()), (940, 1440));
    assert!(matches!(
        ops::transfer_from(&mut l, T0, bob, from_arg("minter", "bob", 1)),
        Err(Failure::Trap(m)) if m.contains("cannot delegate mints")
    ));
}

#[test]
fn transfer_from_ones_own_account_needs_no_allowance() {
    let mut l = ledger();
    assert!(ops::transfer_from(
        &mut l,
        T0,
        principal("alice"),
        from_arg("alice", "carol", 5)
    )
    .is_ok());
    assert_eq!(bal(&l, "carol"), 5);
}

#[test]
fn approvals_and_transfers_from_are_deduplicated_too() {
    let mut l = ledger();
    let mut arg = approve_arg("bob", 100);
    arg.created_at_time = Some(T0);
    assert_eq!(
        ops::approve(&mut l, T0, principal("alice"), arg.clone()),
        Ok(2)
    );
    assert_eq!(
        ops::approve(&mut l, T0, principal("alice"), arg),
        err(ApproveError::Duplicate {
            duplicate_of: 2u8.into()
        })
    );
    let mut tf = from_arg("alice", "carol", 5);
    tf.created_at_time = Some(T0);
    assert_eq!(
        ops::transfer_from(&mut l, T0, principal("bob"), tf.clone()),
        Ok(3)
    );
    assert_eq!(
        ops::transfer_from(&mut l, T0, principal("bob"), tf.clone()),
        err(TransferFromError::Duplicate {
            duplicate_of: 3u8.into()
        })
    );
    tf.created_at_time = Some(0);
    assert_eq!(
        ops::transfer_from(&mut l, T0, principal("bob"), tf),
        err(TransferFromError::TooOld)
    );
}
