//! The ledger's reads: metadata, balances, allowances and the block log.

use crate::state::Ledger;
use crate::types::{BlockPage, GetBlocksArg, StandardRecord, MAX_BLOCKS_PER_PAGE, MAX_MEMO_LENGTH};
use candid::Nat;
use icrc_ledger_types::icrc::generic_metadata_value::MetadataValue;
use icrc_ledger_types::icrc1::account::Account;
use icrc_ledger_types::icrc2::allowance::{Allowance, AllowanceArgs};

pub fn metadata(ledger: &Ledger) -> Vec<(String, MetadataValue)> {
    let cfg = ledger.cfg();
    vec![
        (
            "icrc1:name".into(),
            MetadataValue::Text(cfg.token_name.clone()),
        ),
        (
            "icrc1:symbol".into(),
            MetadataValue::Text(cfg.token_symbol.clone()),
        ),
        (
            "icrc1:decimals".into(),
            MetadataValue::Nat(cfg.decimals.into()),
        ),
        (
            "icrc1:fee".into(),
            MetadataValue::Nat(cfg.transfer_fee.into()),
        ),
        (
            "icrc1:max_memo_length".into(),
            MetadataValue::Nat(MAX_MEMO_LENGTH.into()),
        ),
    ]
}

pub fn supported_standards() -> Vec<StandardRecord> {
    vec![
        StandardRecord {
            name: "ICRC-1".into(),
            url: "https://github.com/dfinity/ICRC-1/tree/main/standards/ICRC-1".into(),
        },
        StandardRecord {
            name: "ICRC-2".into(),
            url: "https://github.com/dfinity/ICRC-1/tree/main/standards/ICRC-2".into(),
        },
    ]
}

pub fn balance_of(ledger: &Ledger, account: &Account) -> Nat {
    ledger.balance(account).into()
}

/// The allowance at `now`: `{ allowance = 0; expires_at = null }` when there is none or it
/// expired, as ICRC-2 says.
pub fn allowance(ledger: &Ledger, now: u64, arg: &AllowanceArgs) -> Allowance {
    match ledger.allowance(&arg.account, &arg.spender, now) {
        Some(a) => Allowance {
            allowance: a.amount.into(),
            expires_at: a.expires_at,
        },
        None => Allowance {
            allowance: 0u8.into(),
            expires_at: None,
        },
    }
}

/// Blocks `start ..` (at most `length`, at most [`MAX_BLOCKS_PER_PAGE`]); none past the end.
pub fn get_blocks(ledger: &Ledger, arg: &GetBlocksArg) -> BlockPage {
    let log_length = ledger.log_length();
    let end = arg
        .start
        .saturating_add(arg.length.min(MAX_BLOCKS_PER_PAGE))
        .min(log_length);
    let blocks = (arg.start..end).filter_map(|i| ledger.block(i)).collect();
    BlockPage { log_length, blocks }
}
