//! The stable encodings and the state's primitives.

use crate::state::Ledger;
use crate::storable::{AccountKey, AllowanceValue};
use crate::types::PRUNE_PER_CALL;
use candid::Principal;
use ic_stable_structures::{DefaultMemoryImpl, Storable};
use icrc_ledger_types::icrc1::account::Account;

fn account(seed: &[u8], sub: Option<[u8; 32]>) -> Account {
    Account {
        owner: Principal::self_authenticating(seed),
        subaccount: sub,
    }
}

#[test]
fn account_keys_treat_null_and_zero_subaccounts_alike_and_round_trip() {
    let none = account(b"a", None);
    let zero = account(b"a", Some([0; 32]));
    assert_eq!(AccountKey::of(&none), AccountKey::of(&zero));
    let mut sub = [0; 32];
    sub[31] = 7;
    let other = account(b"a", Some(sub));
    assert_ne!(AccountKey::of(&none), AccountKey::of(&other));
    assert_eq!(AccountKey::of(&other).account(), other);
    let anonymous = account(b"", None);
    let anonymous = Account {
        owner: Principal::anonymous(),
        ..anonymous
    };
    assert_eq!(AccountKey::of(&anonymous).account(), anonymous);
    let key = AccountKey::of(&other);
    assert_eq!(AccountKey::from_bytes(key.to_bytes()), key);
}

#[test]
fn allowance_values_round_trip() {
    for value in [
        AllowanceValue {
            amount: u128::MAX,
            expires_at: None,
        },
        AllowanceValue {
            amount: 1,
            expires_at: Some(0),
        },
        AllowanceValue {
            amount: 5,
            expires_at: Some(u64::MAX),
        },
    ] {
        assert_eq!(AllowanceValue::from_bytes(value.to_bytes()), value);
    }
}

#[test]
fn zero_balances_and_allowances_are_not_stored() {
    let mut ledger = Ledger::open(DefaultMemoryImpl::default());
    let a = account(b"a", None);
    let b = account(b"b", None);
    ledger.set_balance(&a, 10);
    assert_eq!(ledger.balances_for_checks().len(), 1);
    ledger.set_balance(&a, 0);
    assert!(ledger.balances_for_checks().is_empty());
    let value = AllowanceValue {
        amount: 3,
        expires_at: Some(100),
    };
    ledger.set_allowance(&a, &b, value);
    assert_eq!(ledger.allowance(&a, &b, 99), Some(value));
    assert_eq!(ledger.allowance(&a, &b, 100), None, "expired at expires_at");
    ledger.set_allowance(&a, &b, AllowanceValue { amount: 0, ..value });
    assert_eq!(ledger.allowance(&a, &b, 0), None);
}

#[test]
fn pruning_removes_only_old_entries_a_bounded_number_at_a_time() {
    let mut ledger = Ledger::open(DefaultMemoryImpl::default());
    let n = PRUNE_PER_CALL as u64 + 5;
    for i in 0..n {
        let mut hash = [0u8; 32];
        hash[..8].copy_from_slice(&i.to_le_bytes());
        ledger.index_for_dedup(hash, 1_000 + i, i);
    }
    ledger.index_for_dedup([9; 32], 1_000_000, n);
    assert_eq!(ledger.prune_dedup(1_000), 0, "nothing older than the bound");
    assert_eq!(ledger.prune_dedup(u64::MAX), PRUNE_PER_CALL);
    assert_eq!(ledger.prune_dedup(u64::MAX), 6);
    assert_eq!(ledger.dedup_len(), 0);
    assert_eq!(ledger.dedup_by_time_len(), 0);
}

#[test]
fn reopening_the_same_memory_keeps_everything() {
    let memory = DefaultMemoryImpl::default();
    let a = account(b"a", None);
    {
        let mut ledger = Ledger::open(memory.clone());
        ledger.set_balance(&a, 42);
        ledger.set_total_supply(42);
        ledger.index_for_dedup([1; 32], 5, 0);
    }
    let ledger = Ledger::open(memory);
    assert_eq!(ledger.balance(&a), 42);
    assert_eq!(ledger.total_supply(), 42);
    assert_eq!(ledger.duplicate_of(&[1; 32]), Some(0));
}
