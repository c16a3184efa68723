//! Payment types: an execution's escrow and its ledger transfers, and the market's currency.

use candid::{CandidType, Deserialize, Principal};

pub use crate::ledger::Account;

/// How an execution is paid when the market has a ledger: its money sits in an escrow
/// subaccount of the canister from accept until it settles. Every transfer it made or makes
/// is listed, with its ledger block: the consumer's and the provider's statement.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// The ledger every transfer of this execution goes through (the market's when it was
    /// first paid; a later change of the market's ledger does not move it).
    pub ledger: Principal,
    /// The canister's account holding this execution's money.
    pub escrow: Account,
    pub state: PaymentState,
    /// Pulls from the consumer into the escrow (a hold's deposit, the lease's price less it,
    /// then any extension's).
    pub pulls: Vec<LedgerTransfer>,
    /// Transfers out of the escrow: refunds, the provider's payout, the market's fee.
    pub transfers: Vec<LedgerTransfer>,
    /// The lease owes nothing: it never ran, it failed, or a controller cancelled it; every
    /// unit goes back to the consumer.
    pub waived: bool,
    /// The market's fee and where it goes, as they were when the lease was first paid.
    pub market_fee_basis_points: u32,
    pub treasury: Option<Account>,
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentState {
    /// A pull is on its way to the ledger; another accept or extend waits for its answer.
    Pulling,
    /// The escrow holds what the lease is owed.
    Funded,
    /// The last pull goes back to the consumer: what it paid for could not happen (the
    /// execution moved while the ledger answered). Then `Funded` again.
    Refunding,
    /// The transfers out are planned and being made (retried until the ledger answers).
    Settling,
    /// Every transfer is done; the escrow holds only amounts too small to pay a fee.
    Settled,
}

/// One ledger transfer of an execution. Its `created_at_time` and memo never change across
/// retries, so the ledger answers a repeat with `Duplicate` rather than moving money twice.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LedgerTransfer {
    pub purpose: Purpose,
    /// The consumer's account for a pull; the recipient's for a transfer out.
    pub account: Account,
    /// What arrives (a transfer out) or leaves the consumer without the fee (a pull).
    pub amount: u64,
    /// The ledger's fee: paid by the consumer on a pull, by the escrow on a transfer out.
    pub fee: u64,
    pub created_at_time: u64,
    /// The ledger's block, once it answered.
    pub block: Option<u64>,
    /// Whether it happened: true with a block, or once a retry after the ledger's
    /// deduplication window found the escrow's balance already without it (no block known).
    pub done: bool,
}

#[derive(CandidType, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The lease's price, at accept.
    Price,
    /// The extra price of an extension.
    Extension,
    /// Back to the consumer: unused time, or everything when the lease owes nothing.
    Refund,
    /// To the provider's payout account: the price of the time used, less the market's fee.
    Payout,
    /// The market's fee, to its treasury.
    MarketFee,
    /// A hold's refundable deposit (the policy `hold_deposit`), pulled when the offerset is
    /// made: back to the consumer when the hold ends unaccepted, part of the price if accepted.
    Deposit,
}

/// The market's currency, as its ledger describes itself.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Currency {
    pub ledger: Principal,
    /// `None` until the ledger first answered (a task asks it after install and upgrade).
    pub symbol: Option<String>,
    pub decimals: Option<u8>,
    /// The ledger's transfer fee, in its base units.
    pub fee: Option<u64>,
}

/// `provider_payout_set`: where a provider's payouts go from now on. Only the provider's
/// current key may name it: the call comes from that key's own (self-authenticating)
/// principal, so the ingress message is signed by the key.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PayoutSetArg {
    pub provider: crate::catalog::provider::ProviderKeyInput,
    /// Absent: back to the key's own principal.
    pub account: Option<Account>,
}

/// Where a provider's payouts go.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ProviderPayout {
    /// The provider's current key.
    pub provider_pem: String,
    pub account: Account,
    /// Whether the provider named it (`provider_payout_set`); otherwise its key's principal.
    pub named: bool,
}

/// `payments_list`: the payments of the caller's executions (`Consumer`), or of a provider's as
/// its delegate (`Provider`, naming it), a page at a time in execution order.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PaymentsListArg {
    pub role: super::Role,
    /// Required with `Provider`.
    pub provider: Option<crate::catalog::provider::ProviderKeyInput>,
    pub after: Option<u64>,
    /// At most 100 (default 100).
    pub limit: Option<u32>,
}

/// An execution's payment, as a statement lists it.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct ExecutionPayment {
    pub execution_id: u64,
    pub payment: Payment,
}

/// A page of a statement; `next`: go on after this execution id.
#[derive(CandidType, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct PaymentPage {
    pub payments: Vec<ExecutionPayment>,
    pub next: Option<u64>,
}
