//! The client of the market's ICRC-1/ICRC-2 ledger: each call over [`Runtime::call`] (an
//! unbounded-wait call, so its outcome is always known), its reply decoded under the same quota
//! as the canister's own arguments. Knows nothing of the market.

use crate::candid_io::decode_arg;
use crate::runtime::{OutcallError, Runtime};
use candid::{CandidType, Nat, Principal};
use icrc_ledger_types::icrc::generic_metadata_value::MetadataValue;
use icrc_ledger_types::icrc1::transfer::{TransferArg, TransferError};
use icrc_ledger_types::icrc2::allowance::{Allowance, AllowanceArgs};
use icrc_ledger_types::icrc2::transfer_from::{TransferFromArgs, TransferFromError};
use serde::de::DeserializeOwned;

pub use icrc_ledger_types::icrc1::account::{Account, Subaccount};
pub use icrc_ledger_types::icrc1::transfer::Memo;

/// The IC's reject code for an error in the caller's own canister.
const CANISTER_ERROR: u32 = 5;

/// Why a call got no usable answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallFailure {
    /// The call was rejected (never delivered, or the ledger trapped and rolled back): the
    /// ledger did nothing.
    Rejected(OutcallError),
    /// The ledger answered but its reply does not decode: what it did is unknown, so whoever
    /// moves money must find out.
    Unreadable(String),
}

impl std::fmt::Display for CallFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rejected(reject) => write!(f, "the ledger rejected the call: {}", reject.message),
            Self::Unreadable(why) => write!(f, "the ledger's answer could not be read: {why}"),
        }
    }
}

/// What a transfer gets: the ledger's block index, or the ledger's own refusal.
pub type Transferred<E> = Result<Result<u64, E>, CallFailure>;

/// `icrc2_transfer_from`: moves `arg.amount` from `arg.from` (which approved this canister)
/// to `arg.to`; the payer pays the fee.
pub async fn transfer_from(
    rt: &impl Runtime,
    ledger: Principal,
    arg: &TransferFromArgs,
) -> Transferred<TransferFromError> {
    let reply: Result<Nat, TransferFromError> =
        call(rt, ledger, "icrc2_transfer_from", encode(arg)?).await?;
    Ok(reply.map(|n| saturating_u64(&n)))
}

/// `icrc1_transfer` from one of this canister's subaccounts.
pub async fn transfer(
    rt: &impl Runtime,
    ledger: Principal,
    arg: &TransferArg,
) -> Transferred<TransferError> {
    let reply: Result<Nat, TransferError> =
        call(rt, ledger, "icrc1_transfer", encode(arg)?).await?;
    Ok(reply.map(|n| saturating_u64(&n)))
}

/// `icrc1_balance_of`.
pub async fn balance_of(
    rt: &impl Runtime,
    ledger: Principal,
    account: &Account,
) -> Result<u128, CallFailure> {
    let balance: Nat = call(rt, ledger, "icrc1_balance_of", encode(account)?).await?;
    amount(&balance).ok_or_else(|| undecodable("a balance above 2^128"))
}

/// `icrc2_allowance`: what `account` lets `spender` take now (0 once expired).
pub async fn allowance(
    rt: &impl Runtime,
    ledger: Principal,
    account: Account,
    spender: Account,
) -> Result<u128, CallFailure> {
    let arg = AllowanceArgs { account, spender };
    let allowance: Allowance = call(rt, ledger, "icrc2_allowance", encode(&arg)?).await?;
    amount(&allowance.allowance).ok_or_else(|| undecodable("an allowance above 2^128"))
}

/// `icrc1_fee`: what the ledger charges a transfer now.
pub async fn fee(rt: &impl Runtime, ledger: Principal) -> Result<u128, CallFailure> {
    let fee: Nat = call(rt, ledger, "icrc1_fee", no_args()).await?;
    amount(&fee).ok_or_else(|| undecodable("a fee above 2^128"))
}

/// `icrc1_metadata`: the ledger's symbol, decimals, fee and the rest.
pub async fn metadata(
    rt: &impl Runtime,
    ledger: Principal,
) -> Result<Vec<(String, MetadataValue)>, CallFailure> {
    call(rt, ledger, "icrc1_metadata", no_args()).await
}

/// A token amount that fits in 128 bits.
pub fn amount(n: &Nat) -> Option<u128> {
    u128::try_from(&n.0).ok()
}

/// Block indices past 2^64 do not occur (a ledger would need 2^64 blocks); they read as the
/// largest index rather than trap.
/// `n` as a u64, `u64::MAX` past it (amounts and blocks the market records).
pub fn saturating_u64(n: &Nat) -> u64 {
    u64::try_from(&n.0).unwrap_or(u64::MAX)
}

async fn call<R: CandidType + DeserializeOwned>(
    rt: &impl Runtime,
    ledger: Principal,
    method: &str,
    arg: Vec<u8>,
) -> Result<R, CallFailure> {
    let reply = rt
        .call(ledger, method, arg)
        .await
        .map_err(CallFailure::Rejected)?;
    decode_arg(&reply).map_err(|e| undecodable(&format!("{method}'s reply: {e}")))
}

/// An argument that does not encode is never sent: the ledger did nothing.
fn encode<A: CandidType>(arg: &A) -> Result<Vec<u8>, CallFailure> {
    candid::encode_one(arg).map_err(|e| {
        CallFailure::Rejected(OutcallError {
            code: CANISTER_ERROR,
            message: format!("the argument does not encode: {e}"),
        })
    })
}

fn no_args() -> Vec<u8> {
    // The empty argument list.
    b"DIDL\x00\x00".to_vec()
}

fn undecodable(what: &str) -> CallFailure {
    CallFailure::Unreadable(what.to_string())
}
