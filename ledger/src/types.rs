//! The ledger's own Candid types: the install argument, the configuration, the recorded
//! blocks and the answers of the non-standard methods. The standard's types come from
//! `icrc-ledger-types`.

use candid::{CandidType, Deserialize, Nat};
use icrc_ledger_types::icrc1::account::Account;
use icrc_ledger_types::icrc1::transfer::Memo;

/// The reference ledger's deduplication window: 24 hours.
pub const DEFAULT_TX_WINDOW_NANOS: u64 = 24 * 60 * 60 * 1_000_000_000;
/// The reference ledger's permitted clock drift: 2 minutes.
pub const DEFAULT_PERMITTED_DRIFT_NANOS: u64 = 2 * 60 * 1_000_000_000;
/// The reference ledger's default `max_memo_length`.
pub const MAX_MEMO_LENGTH: usize = 32;
/// Most blocks one `get_blocks` call returns.
pub const MAX_BLOCKS_PER_PAGE: u64 = 100;
/// Most stale deduplication entries one transaction removes.
pub const PRUNE_PER_CALL: usize = 32;

/// The install argument.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct InitArg {
    pub token_name: String,
    pub token_symbol: String,
    /// Default 8.
    pub decimals: Option<u8>,
    pub transfer_fee: Nat,
    pub minting_account: Account,
    /// Minted at install, one block each, in this order (blocks 0, 1, …).
    pub initial_balances: Vec<(Account, Nat)>,
    /// Default 24 h, the reference ledger's.
    pub transaction_window_nanos: Option<u64>,
    /// Default 2 min, the reference ledger's.
    pub permitted_drift_nanos: Option<u64>,
}

/// What `init` keeps of its argument, plus the maintenance switch.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub token_name: String,
    pub token_symbol: String,
    pub decimals: u8,
    pub transfer_fee: u128,
    pub minting_account: Account,
    pub transaction_window_nanos: u64,
    pub permitted_drift_nanos: u64,
    pub maintenance: bool,
}

/// What a block did.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum Operation {
    Mint {
        to: Account,
        amount: Nat,
    },
    Burn {
        from: Account,
        /// Set when burnt by `icrc2_transfer_from`.
        spender: Option<Account>,
        amount: Nat,
    },
    Transfer {
        from: Account,
        to: Account,
        /// Set when made by `icrc2_transfer_from`.
        spender: Option<Account>,
        amount: Nat,
        /// The fee the caller gave, if any.
        fee: Option<Nat>,
    },
    Approve {
        from: Account,
        spender: Account,
        amount: Nat,
        expected_allowance: Option<Nat>,
        expires_at: Option<u64>,
        /// The fee the caller gave, if any.
        fee: Option<Nat>,
    },
}

/// One recorded transaction.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub index: u64,
    /// Ledger time when recorded (ns since the epoch).
    pub timestamp: u64,
    pub operation: Operation,
    pub memo: Option<Memo>,
    pub created_at_time: Option<u64>,
    /// The fee charged (0 for mints and burns).
    pub effective_fee: Nat,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct GetBlocksArg {
    pub start: u64,
    /// At most [`MAX_BLOCKS_PER_PAGE`] are returned.
    pub length: u64,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct BlockPage {
    /// Blocks recorded so far: the next block's index.
    pub log_length: u64,
    pub blocks: Vec<Block>,
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum GetBlocksError {
    InvalidArgument { message: String },
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub enum AdminError {
    NotAuthorized,
    InvalidArgument { message: String },
}

#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct StandardRecord {
    pub name: String,
    pub url: String,
}
