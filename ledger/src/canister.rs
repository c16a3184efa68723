//! The ledger's endpoints, one each: decode (with a quota), call the logic, encode.

use crate::candid_io::{decode, reply, Checked};
use crate::errors::{error_code, Failure};
use crate::state::Ledger;
use crate::{lifecycle, ops, queries, types};
use candid::{Nat, Principal};
use ic_stable_structures::DefaultMemoryImpl;
use icrc_ledger_types::icrc::generic_metadata_value::MetadataValue;
use icrc_ledger_types::icrc1::account::Account;
use icrc_ledger_types::icrc1::transfer::{TransferArg, TransferError};
use icrc_ledger_types::icrc2::allowance::{Allowance, AllowanceArgs};
use icrc_ledger_types::icrc2::approve::{ApproveArgs, ApproveError};
use icrc_ledger_types::icrc2::transfer_from::{TransferFromArgs, TransferFromError};
use std::cell::RefCell;
use types::{AdminError, BlockPage, GetBlocksArg, GetBlocksError, InitArg, StandardRecord};

thread_local! {
    /// The state, opened over stable memory on first use in each wasm instance.
    static LEDGER: RefCell<Ledger> = RefCell::new(Ledger::open(DefaultMemoryImpl::default()));
}

fn read<R>(f: impl FnOnce(&Ledger) -> R) -> R {
    LEDGER.with_borrow(f)
}

fn write<R>(f: impl FnOnce(&mut Ledger) -> R) -> R {
    LEDGER.with_borrow_mut(f)
}

fn now() -> u64 {
    ic_cdk::api::time()
}

fn caller() -> Principal {
    ic_cdk::api::msg_caller()
}

/// A result of the logic as the endpoint answers it: the reference ledger's traps stay traps.
fn answer<E>(result: Result<u64, Failure<E>>) -> Result<Nat, E> {
    match result {
        Ok(index) => Ok(Nat::from(index)),
        Err(Failure::Err(e)) => Err(e),
        Err(Failure::Trap(message)) => ic_cdk::trap(message),
    }
}

fn undecodable(message: String) -> (Nat, String) {
    (Nat::from(error_code::INVALID_ARGUMENT), message)
}

/// An invalid argument fails the install.
#[ic_cdk::init(decode_with = "decode", hidden = true)]
#[candid::candid_method(init)]
fn init(arg: Checked<InitArg>) {
    let arg = arg.0.unwrap_or_else(|e| ic_cdk::trap(e));
    write(|l| lifecycle::init(l, now(), arg)).unwrap_or_else(|e| ic_cdk::trap(e));
}

/// Nothing to do: every record is in stable memory, opened on first use.
#[ic_cdk::post_upgrade]
fn post_upgrade() {}

#[ic_cdk::query]
fn icrc1_name() -> String {
    read(|l| l.cfg().token_name.clone())
}

#[ic_cdk::query]
fn icrc1_symbol() -> String {
    read(|l| l.cfg().token_symbol.clone())
}

#[ic_cdk::query]
fn icrc1_decimals() -> u8 {
    read(|l| l.cfg().decimals)
}

#[ic_cdk::query]
fn icrc1_fee() -> Nat {
    read(|l| l.cfg().transfer_fee.into())
}

#[ic_cdk::query]
fn icrc1_metadata() -> Vec<(String, MetadataValue)> {
    read(queries::metadata)
}

#[ic_cdk::query]
fn icrc1_total_supply() -> Nat {
    read(|l| l.total_supply().into())
}

#[ic_cdk::query]
fn icrc1_minting_account() -> Option<Account> {
    read(|l| Some(l.cfg().minting_account))
}

#[ic_cdk::query]
fn icrc1_supported_standards() -> Vec<StandardRecord> {
    queries::supported_standards()
}

/// An undecodable account is rejected (the standard's answer has no error case).
#[ic_cdk::query(decode_with = "decode", manual_reply = true, hidden = true)]
#[candid::candid_method(query)]
fn icrc1_balance_of(arg: Checked<Account>) -> Nat {
    match arg.0 {
        Ok(account) => reply(read(|l| queries::balance_of(l, &account))),
        Err(message) => {
            ic_cdk::api::msg_reject(message);
            Nat::from(0u8)
        }
    }
}

#[ic_cdk::update(decode_with = "decode", hidden = true)]
#[candid::candid_method(update)]
fn icrc1_transfer(arg: Checked<TransferArg>) -> Result<Nat, TransferError> {
    let arg = arg.0.map_err(|e| {
        let (error_code, message) = undecodable(e);
        TransferError::GenericError {
            error_code,
            message,
        }
    })?;
    answer(write(|l| ops::transfer(l, now(), caller(), arg)))
}

#[ic_cdk::update(decode_with = "decode", hidden = true)]
#[candid::candid_method(update)]
fn icrc2_approve(arg: Checked<ApproveArgs>) -> Result<Nat, ApproveError> {
    let arg = arg.0.map_err(|e| {
        let (error_code, message) = undecodable(e);
        ApproveError::GenericError {
            error_code,
            message,
        }
    })?;
    answer(write(|l| ops::approve(l, now(), caller(), arg)))
}

#[ic_cdk::update(decode_with = "decode", hidden = true)]
#[candid::candid_method(update)]
fn icrc2_transfer_from(arg: Checked<TransferFromArgs>) -> Result<Nat, TransferFromError> {
    let arg = arg.0.map_err(|e| {
        let (error_code, message) = undecodable(e);
        TransferFromError::GenericError {
            error_code,
            message,
        }
    })?;
    answer(write(|l| ops::transfer_from(l, now(), caller(), arg)))
}

/// An undecodable argument is rejected (the standard's answer has no error case).
#[ic_cdk::query(decode_with = "decode", manual_reply = true, hidden = true)]
#[candid::candid_method(query)]
fn icrc2_allowance(arg: Checked<AllowanceArgs>) -> Allowance {
    match arg.0 {
        Ok(arg) => reply(read(|l| queries::allowance(l, now(), &arg))),
        Err(message) => {
            ic_cdk::api::msg_reject(message);
            Allowance {
                allowance: Nat::from(0u8),
                expires_at: None,
            }
        }
    }
}

/// Recorded transactions `start ..`, at most 100 a call, for tests to audit.
#[ic_cdk::query(decode_with = "decode", hidden = true)]
#[candid::candid_method(query)]
fn get_blocks(arg: Checked<GetBlocksArg>) -> Result<BlockPage, GetBlocksError> {
    let arg = arg
        .0
        .map_err(|message| GetBlocksError::InvalidArgument { message })?;
    Ok(read(|l| queries::get_blocks(l, &arg)))
}

/// Controllers only: while on, transfers, approvals and transfers-from answer
/// `TemporarilyUnavailable` (queries still answer).
#[ic_cdk::update(decode_with = "decode", hidden = true)]
#[candid::candid_method(update)]
fn set_maintenance(arg: Checked<bool>) -> Result<(), AdminError> {
    if !ic_cdk::api::is_controller(&caller()) {
        return Err(AdminError::NotAuthorized);
    }
    let on = arg
        .0
        .map_err(|message| AdminError::InvalidArgument { message })?;
    write(|l| lifecycle::set_maintenance(l, on));
    Ok(())
}

ic_cdk::export_candid!();

#[cfg(test)]
mod interface_tests;
