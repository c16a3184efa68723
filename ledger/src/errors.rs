//! The operations' errors: one internal type, converted to each method's standard error.

use icrc_ledger_types::icrc1::transfer::TransferError;
use icrc_ledger_types::icrc2::approve::ApproveError;
use icrc_ledger_types::icrc2::transfer_from::TransferFromError;

/// Why an operation did not happen: a standard error, or a trap where the reference ledger
/// traps (an overlong memo, a self-approval, the minting account delegating).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure<E> {
    Err(E),
    Trap(String),
}

/// `GenericError` codes of this ledger.
pub mod error_code {
    /// The argument could not be decoded (not Candid of the method's type, or over the quota).
    pub const INVALID_ARGUMENT: u64 = 1;
    /// The total supply would pass 2^128 - 1.
    pub const SUPPLY_OVERFLOW: u64 = 2;
    /// Stable memory is full.
    pub const STORAGE_FULL: u64 = 3;
}

/// The errors of all three operations; each converts to its method's error type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoreError {
    BadFee { expected_fee: u128 },
    BadBurn { min_burn_amount: u128 },
    InsufficientFunds { balance: u128 },
    InsufficientAllowance { allowance: u128 },
    AllowanceChanged { current_allowance: u128 },
    Expired { ledger_time: u64 },
    TooOld,
    CreatedInFuture { ledger_time: u64 },
    Duplicate { duplicate_of: u64 },
    TemporarilyUnavailable,
    Generic { error_code: u64, message: String },
    Trap(String),
}

pub fn into_transfer_error(e: CoreError) -> Failure<TransferError> {
    Failure::Err(match e {
        CoreError::BadFee { expected_fee } => TransferError::BadFee {
            expected_fee: expected_fee.into(),
        },
        CoreError::BadBurn { min_burn_amount } => TransferError::BadBurn {
            min_burn_amount: min_burn_amount.into(),
        },
        CoreError::InsufficientFunds { balance } => TransferError::InsufficientFunds {
            balance: balance.into(),
        },
        CoreError::TooOld => TransferError::TooOld,
        CoreError::CreatedInFuture { ledger_time } => {
            TransferError::CreatedInFuture { ledger_time }
        }
        CoreError::Duplicate { duplicate_of } => TransferError::Duplicate {
            duplicate_of: duplicate_of.into(),
        },
        CoreError::TemporarilyUnavailable => TransferError::TemporarilyUnavailable,
        CoreError::Generic {
            error_code,
            message,
        } => TransferError::GenericError {
            error_code: error_code.into(),
            message,
        },
        other => return unexpected(other),
    })
}

pub fn into_transfer_from_error(e: CoreError) -> Failure<TransferFromError> {
    Failure::Err(match e {
        CoreError::BadFee { expected_fee } => TransferFromError::BadFee {
            expected_fee: expected_fee.into(),
        },
        CoreError::BadBurn { min_burn_amount } => TransferFromError::BadBurn {
            min_burn_amount: min_burn_amount.into(),
        },
        CoreError::InsufficientFunds { balance } => TransferFromError::InsufficientFunds {
            balance: balance.into(),
        },
        CoreError::InsufficientAllowance { allowance } => {
            TransferFromError::InsufficientAllowance {
                allowance: allowance.into(),
            }
        }
        CoreError::TooOld => TransferFromError::TooOld,
        CoreError::CreatedInFuture { ledger_time } => {
            TransferFromError::CreatedInFuture { ledger_time }
        }
        CoreError::Duplicate { duplicate_of } => TransferFromError::Duplicate {
            duplicate_of: duplicate_of.into(),
        },
        CoreError::TemporarilyUnavailable => TransferFromError::TemporarilyUnavailable,
        CoreError::Generic {
            error_code,
            message,
        } => TransferFromError::GenericError {
            error_code: error_code.into(),
            message,
        },
        other => return unexpected(other),
    })
}

pub fn into_approve_error(e: CoreError) -> Failure<ApproveError> {
    Failure::Err(match e {
        CoreError::BadFee { expected_fee } => ApproveError::BadFee {
            expected_fee: expected_fee.into(),
        },
        CoreError::InsufficientFunds { balance } => ApproveError::InsufficientFunds {
            balance: balance.into(),
        },
        CoreError::AllowanceChanged { current_allowance } => ApproveError::AllowanceChanged {
            current_allowance: current_allowance.into(),
        },
        CoreError::Expired { ledger_time } => ApproveError::Expired { ledger_time },
        CoreError::TooOld => ApproveError::TooOld,
        CoreError::CreatedInFuture { ledger_time } => ApproveError::CreatedInFuture { ledger_time },
        CoreError::Duplicate { duplicate_of } => ApproveError::Duplicate {
            duplicate_of: duplicate_of.into(),
        },
        CoreError::TemporarilyUnavailable => ApproveError::TemporarilyUnavailable,
        CoreError::Generic {
            error_code,
            message,
        } => ApproveError::GenericError {
            error_code: error_code.into(),
            message,
        },
        other => return unexpected(other),
    })
}

/// A trap the reference ledger makes, or an error the method cannot have (a bug: trap).
fn unexpected<E>(e: CoreError) -> Failure<E> {
    match e {
        CoreError::Trap(message) => Failure::Trap(message),
        other => Failure::Trap(format!("internal error: {other:?} in the wrong method")),
    }
}
