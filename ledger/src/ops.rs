//! The three state-changing operations of ICRC-1 and ICRC-2, as plain functions of the state,
//! the time, the caller and the argument.
//!
//! Order of the checks, as in the reference ledger (dfinity/ic `rs/ledger_suite/icrc1`):
//! maintenance; the argument's own checks (memo length, which trap there and here; amounts;
//! fee); then the deduplication window (`TooOld`, `CreatedInFuture`, `Duplicate`); then the
//! balances and allowances. A transaction with `created_at_time` is indexed for deduplication;
//! one without never is.

use crate::errors::{
    error_code, into_approve_error, into_transfer_error, into_transfer_from_error, CoreError,
    Failure,
};
use crate::state::Ledger;
use crate::storable::AllowanceValue;
use crate::types::{Block, Operation, MAX_MEMO_LENGTH};
use candid::{Nat, Principal};
use icrc_ledger_types::icrc1::account::Account;
use icrc_ledger_types::icrc1::transfer::{Memo, TransferArg, TransferError};
use icrc_ledger_types::icrc2::approve::{ApproveArgs, ApproveError};
use icrc_ledger_types::icrc2::transfer_from::{TransferFromArgs, TransferFromError};
use sha2::{Digest, Sha256};

/// What a transaction does, in the ledger's units.
#[derive(Clone, Debug)]
enum Effect {
    Mint {
        to: Account,
        amount: u128,
    },
    Burn {
        from: Account,
        spender: Option<Account>,
        amount: u128,
    },
    Transfer {
        from: Account,
        to: Account,
        spender: Option<Account>,
        amount: u128,
        fee: u128,
    },
    Approve {
        from: Account,
        spender: Account,
        amount: u128,
        expected_allowance: Option<u128>,
        expires_at: Option<u64>,
        fee: u128,
    },
}

/// A transaction as submitted: its effect and the fields recorded with it.
struct Tx {
    effect: Effect,
    /// The fee the caller gave (recorded, and part of the transaction's identity).
    given_fee: Option<Nat>,
    memo: Option<Memo>,
    created_at_time: Option<u64>,
}

pub fn transfer(
    ledger: &mut Ledger,
    now: u64,
    caller: Principal,
    arg: TransferArg,
) -> Result<u64, Failure<TransferError>> {
    let from = Account {
        owner: caller,
        subaccount: arg.from_subaccount,
    };
    let tx = plan_transfer(
        ledger,
        from,
        arg.to,
        None,
        arg.amount,
        arg.fee,
        arg.memo,
        arg.created_at_time,
    );
    tx.and_then(|tx| execute(ledger, now, tx))
        .map_err(into_transfer_error)
}

pub fn transfer_from(
    ledger: &mut Ledger,
    now: u64,
    caller: Principal,
    arg: TransferFromArgs,
) -> Result<u64, Failure<TransferFromError>> {
    let spender = Account {
        owner: caller,
        subaccount: arg.spender_subaccount,
    };
    let tx = plan_transfer(
        ledger,
        arg.from,
        arg.to,
        Some(spender),
        arg.amount,
        arg.fee,
        arg.memo,
        arg.created_at_time,
    );
    tx.and_then(|tx| execute(ledger, now, tx))
        .map_err(into_transfer_from_error)
}

pub fn approve(
    ledger: &mut Ledger,
    now: u64,
    caller: Principal,
    arg: ApproveArgs,
) -> Result<u64, Failure<ApproveError>> {
    let planned = (|| {
        let cfg = ledger.cfg();
        if cfg.maintenance {
            return Err(CoreError::TemporarilyUnavailable);
        }
        let from = Account {
            owner: caller,
            subaccount: arg.from_subaccount,
        };
        if from.owner == arg.spender.owner {
            return Err(CoreError::Trap("self approval is not allowed".into()));
        }
        if from == cfg.minting_account {
            return Err(CoreError::Trap(
                "the minting account cannot delegate mints".into(),
            ));
        }
        if arg
            .memo
            .as_ref()
            .is_some_and(|m| m.0.len() > MAX_MEMO_LENGTH)
        {
            return Err(CoreError::Trap("the memo field is too large".into()));
        }
        // An allowance above what the ledger can count is capped (the standard allows it).
        let amount = tokens(&arg.amount).unwrap_or(u128::MAX);
        let expected_allowance = match &arg.expected_allowance {
            None => None,
            Some(n) => match tokens(n) {
                Some(n) => Some(n),
                None => {
                    let current = ledger.allowance(&from, &arg.spender, now);
                    return Err(CoreError::AllowanceChanged {
                        current_allowance: current.map_or(0, |a| a.amount),
                    });
                }
            },
        };
        let fee = cfg.transfer_fee;
        check_fee(&arg.fee, fee)?;
        Ok(Tx {
            effect: Effect::Approve {
                from,
                spender: arg.spender,
                amount,
                expected_allowance,
                expires_at: arg.expires_at,
                fee,
            },
            given_fee: arg.fee,
            memo: arg.memo,
            created_at_time: arg.created_at_time,
        })
    })();
    planned
        .and_then(|tx| execute(ledger, now, tx))
        .map_err(into_approve_error)
}

/// Mints at install (no checks beyond the supply's bound; no deduplication).
pub fn mint_initial(
    ledger: &mut Ledger,
    now: u64,
    to: Account,
    amount: u128,
) -> Result<u64, String> {
    let tx = Tx {
        effect: Effect::Mint { to, amount },
        given_fee: None,
        memo: None,
        created_at_time: None,
    };
    execute(ledger, now, tx).map_err(|e| format!("{e:?}"))
}

/// The checks of `icrc1_transfer` and `icrc2_transfer_from` that need no balance: what kind
/// of transfer it is (mint, burn, transfer) and whether the fee is the right one.
#[allow(clippy::too_many_arguments)]
fn plan_transfer(
    ledger: &Ledger,
    from: Account,
    to: Account,
    spender: Option<Account>,
    amount: Nat,
    given_fee: Option<Nat>,
    memo: Option<Memo>,
    created_at_time: Option<u64>,
) -> Result<Tx, CoreError> {
    let cfg = ledger.cfg();
    if cfg.maintenance {
        return Err(CoreError::TemporarilyUnavailable);
    }
    if let Some(memo) = &memo {
        if memo.0.len() > MAX_MEMO_LENGTH {
            return Err(CoreError::Trap(format!(
                "the memo field size of {} bytes is above the allowed limit of {MAX_MEMO_LENGTH} bytes",
                memo.0.len()
            )));
        }
    }
    // No account can hold more than 2^128 - 1 tokens.
    let Some(amount) = tokens(&amount) else {
        return Err(CoreError::InsufficientFunds {
            balance: ledger.balance(&from),
        });
    };
    let minting = cfg.minting_account;
    let effect = if to == minting {
        check_fee(&given_fee, 0)?;
        let balance = ledger.balance(&from);
        let min_burn_amount = cfg.transfer_fee.min(balance);
        if amount < min_burn_amount {
            return Err(CoreError::BadBurn { min_burn_amount });
        }
        if amount == 0 {
            return Err(CoreError::BadBurn {
                min_burn_amount: cfg.transfer_fee,
            });
        }
        Effect::Burn {
            from,
            spender,
            amount,
        }
    } else if from == minting {
        if spender.is_some() {
            return Err(CoreError::Trap(
                "the minter account cannot delegate mints".into(),
            ));
        }
        check_fee(&given_fee, 0)?;
        Effect::Mint { to, amount }
    } else {
        check_fee(&given_fee, cfg.transfer_fee)?;
        Effect::Transfer {
            from,
            to,
            spender,
            amount,
            fee: cfg.transfer_fee,
        }
    };
    Ok(Tx {
        effect,
        given_fee,
        memo,
        created_at_time,
    })
}

/// A fee given must be the expected one; none given means "whatever the fee is".
fn check_fee(given: &Option<Nat>, expected_fee: u128) -> Result<(), CoreError> {
    match given {
        Some(fee) if tokens(fee) != Some(expected_fee) => Err(CoreError::BadFee { expected_fee }),
        _ => Ok(()),
    }
}

/// A token amount in the ledger's units, if it fits.
pub fn tokens(n: &Nat) -> Option<u128> {
    u128::try_from(&n.0).ok()
}

/// The deduplication window, then the effect on balances and allowances, then the block.
fn execute(ledger: &mut Ledger, now: u64, tx: Tx) -> Result<u64, CoreError> {
    let cfg = ledger.cfg();
    let window = u128::from(cfg.transaction_window_nanos) + u128::from(cfg.permitted_drift_nanos);
    let drift = cfg.permitted_drift_nanos;
    // Entries whose transaction would now be TooOld can go: a bounded number per call.
    let oldest_allowed = u64::try_from(u128::from(now).saturating_sub(window)).unwrap_or(0);
    ledger.prune_dedup(oldest_allowed);

    let operation = operation(&tx);
    let dedup = match tx.created_at_time {
        None => None,
        Some(created) => {
            if u128::from(created) + window < u128::from(now) {
                return Err(CoreError::TooOld);
            }
            if u128::from(created) > u128::from(now) + u128::from(drift) {
                return Err(CoreError::CreatedInFuture { ledger_time: now });
            }
            let hash = tx_hash(&operation, &tx.memo, created);
            if let Some(duplicate_of) = ledger.duplicate_of(&hash) {
                return Err(CoreError::Duplicate { duplicate_of });
            }
            Some((hash, created))
        }
    };

    let effective_fee = apply(ledger, now, &tx.effect)?;

    let index = ledger.log_length();
    let block = Block {
        index,
        timestamp: now,
        operation,
        memo: tx.memo,
        created_at_time: tx.created_at_time,
        effective_fee: Nat::from(effective_fee),
    };
    ledger
        .append_block(&block)
        .map_err(|message| CoreError::Generic {
            error_code: error_code::STORAGE_FULL,
            message,
        })?;
    if let Some((hash, created)) = dedup {
        ledger.index_for_dedup(hash, created, index);
    }
    Ok(index)
}

/// Checks and applies an effect on balances, allowances and the supply; returns the fee
/// charged. Changes nothing when it fails.
fn apply(ledger: &mut Ledger, now: u64, effect: &Effect) -> Result<u128, CoreError> {
    let supply = ledger.total_supply();
    match effect {
        Effect::Mint { to, amount } => {
            let Some(new_supply) = supply.checked_add(*amount) else {
                return Err(CoreError::Generic {
                    error_code: error_code::SUPPLY_OVERFLOW,
                    message: "the total supply would exceed 2^128 - 1".into(),
                });
            };
            let balance = ledger.balance(to);
            ledger.set_balance(to, balance + amount);
            ledger.set_total_supply(new_supply);
            Ok(0)
        }
        Effect::Burn {
            from,
            spender,
            amount,
        } => {
            let allowance = use_allowance(ledger, now, from, spender.as_ref(), *amount)?;
            let balance = debit(ledger, from, *amount)?;
            commit_allowance(ledger, from, spender.as_ref(), allowance);
            ledger.set_balance(from, balance);
            ledger.set_total_supply(supply - amount);
            Ok(0)
        }
        Effect::Transfer {
            from,
            to,
            spender,
            amount,
            fee,
        } => {
            let Some(total) = amount.checked_add(*fee) else {
                return Err(CoreError::InsufficientFunds {
                    balance: ledger.balance(from),
                });
            };
            let allowance = use_allowance(ledger, now, from, spender.as_ref(), total)?;
            let balance = debit(ledger, from, total)?;
            commit_allowance(ledger, from, spender.as_ref(), allowance);
            ledger.set_balance(from, balance);
            let to_balance = ledger.balance(to);
            ledger.set_balance(to, to_balance + amount);
            ledger.set_total_supply(supply - fee);
            Ok(*fee)
        }
        Effect::Approve {
            from,
            spender,
            amount,
            expected_allowance,
            expires_at,
            fee,
        } => {
            if expires_at.is_some_and(|t| t <= now) {
                return Err(CoreError::Expired { ledger_time: now });
            }
            let balance = debit(ledger, from, *fee)?;
            let current = ledger.allowance(from, spender, now).map_or(0, |a| a.amount);
            if expected_allowance.is_some_and(|expected| expected != current) {
                return Err(CoreError::AllowanceChanged {
                    current_allowance: current,
                });
            }
            let value = AllowanceValue {
                amount: *amount,
                expires_at: *expires_at,
            };
            ledger.set_allowance(from, spender, value);
            ledger.set_balance(from, balance);
            ledger.set_total_supply(supply - fee);
            Ok(*fee)
        }
    }
}

/// `from`'s balance after taking `total`, or `InsufficientFunds`.
fn debit(ledger: &Ledger, from: &Account, total: u128) -> Result<u128, CoreError> {
    let balance = ledger.balance(from);
    balance
        .checked_sub(total)
        .ok_or(CoreError::InsufficientFunds { balance })
}

/// The spender's allowance after taking `total`, or `InsufficientAllowance`; `None` when no
/// allowance is involved (no spender, or the spender is the `from` account itself).
fn use_allowance(
    ledger: &Ledger,
    now: u64,
    from: &Account,
    spender: Option<&Account>,
    total: u128,
) -> Result<Option<AllowanceValue>, CoreError> {
    let Some(spender) = spender.filter(|s| *s != from) else {
        return Ok(None);
    };
    let allowance = ledger.allowance(from, spender, now);
    let available = allowance.map_or(0, |a| a.amount);
    if available < total {
        return Err(CoreError::InsufficientAllowance {
            allowance: available,
        });
    }
    Ok(Some(AllowanceValue {
        amount: available - total,
        expires_at: allowance.and_then(|a| a.expires_at),
    }))
}

fn commit_allowance(
    ledger: &mut Ledger,
    from: &Account,
    spender: Option<&Account>,
    allowance: Option<AllowanceValue>,
) {
    if let (Some(spender), Some(allowance)) = (spender, allowance) {
        ledger.set_allowance(from, spender, allowance);
    }
}

/// The operation as recorded in the block.
fn operation(tx: &Tx) -> Operation {
    match &tx.effect {
        Effect::Mint { to, amount } => Operation::Mint {
            to: *to,
            amount: Nat::from(*amount),
        },
        Effect::Burn {
            from,
            spender,
            amount,
        } => Operation::Burn {
            from: *from,
            spender: *spender,
            amount: Nat::from(*amount),
        },
        Effect::Transfer {
            from,
            to,
            spender,
            amount,
            ..
        } => Operation::Transfer {
            from: *from,
            to: *to,
            spender: *spender,
            amount: Nat::from(*amount),
            fee: tx.given_fee.clone(),
        },
        Effect::Approve {
            from,
            spender,
            amount,
            expected_allowance,
            expires_at,
            ..
        } => Operation::Approve {
            from: *from,
            spender: *spender,
            amount: Nat::from(*amount),
            expected_allowance: expected_allowance.map(Nat::from),
            expires_at: *expires_at,
            fee: tx.given_fee.clone(),
        },
    }
}

/// A transaction's identity for deduplication: everything the caller chose, with the caller
/// itself in the `from` (or spender) account. Accounts are compared by their effective
/// subaccount, as the standard makes `null` and 32 zero bytes the same account. The hash is
/// SHA-256 of the Candid encoding of `(Operation, opt Memo, nat64)`: changing [`Operation`]'s
/// type changes the hashes, so an upgrade that does so loses deduplication of the transactions
/// recorded before it (for at most one window).
fn tx_hash(operation: &Operation, memo: &Option<Memo>, created_at_time: u64) -> [u8; 32] {
    let norm = |a: &Account| Account {
        owner: a.owner,
        subaccount: Some(*a.effective_subaccount()),
    };
    let normalized = match operation.clone() {
        Operation::Mint { to, amount } => Operation::Mint {
            to: norm(&to),
            amount,
        },
        Operation::Burn {
            from,
            spender,
            amount,
        } => Operation::Burn {
            from: norm(&from),
            spender: spender.as_ref().map(norm),
            amount,
        },
        Operation::Transfer {
            from,
            to,
            spender,
            amount,
            fee,
        } => Operation::Transfer {
            from: norm(&from),
            to: norm(&to),
            spender: spender.as_ref().map(norm),
            amount,
            fee,
        },
        Operation::Approve {
            from,
            spender,
            amount,
            expected_allowance,
            expires_at,
            fee,
        } => Operation::Approve {
            from: norm(&from),
            spender: norm(&spender),
            amount,
            expected_allowance,
            expires_at,
            fee,
        },
    };
    let bytes =
        candid::encode_args((normalized, memo, created_at_time)).expect("a transaction encodes");
    Sha256::digest(bytes).into()
}
