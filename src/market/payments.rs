//! Payments through the market's ICRC-2 ledger (on when the init argument names one; see
//! `docs/payments.md`).
//!
//! Each execution has its own escrow: a subaccount of the canister that only this execution's
//! transfers touch, so its ledger balance alone says what happened to its money.
//!
//! - **Pull** ([`pull`]): `icrc2_transfer_from` moves the price from the consumer into the
//!   escrow before `accept` (or `lease_extend`) changes anything. The pull is written down
//!   (state `Pulling`) before the await, which refuses a second accept or extend meanwhile.
//! - **Settle** ([`settle`], the queue's `Settle` task): once the execution is final, the
//!   escrow pays the consumer back for time not used, the provider for the time used less the
//!   market's fee, and the treasury the fee. Each transfer is planned once, with its
//!   `created_at_time` and memo, and resent unchanged until the ledger answers, so a repeat is
//!   a `Duplicate`, never a second payment; past the ledger's deduplication window the escrow's
//!   balance says whether it happened.
//! - **Statements** ([`list`]): the payments of a consumer's or a provider's executions.
//! - **Conservation** ([`expected_escrow`]): an escrow holds exactly its pulls less its
//!   transfers out and their fees (the rule `invariants` and the tests check against the
//!   ledger).

mod currency;
mod pull;
mod settle;
mod statement;

pub use currency::{currency, refresh_currency};
pub use pull::{afford, afford_each, pull, refund_last_pull};
pub use settle::settle;
pub use statement::{list, MAX_SCANNED};

use super::store;
use super::types::*;
use crate::ledger::{Account, Memo, Subaccount};
use crate::queue::{self, Task};
use candid::Principal;
use std::cell::RefCell;
use std::collections::BTreeSet;

use Phase::*;

/// Most pulls one execution makes (its price, then its extensions): its record stays small.
pub const MAX_PULLS: usize = 16;

/// When the queue looks at a pull whose answer never arrived (the message that awaited it
/// trapped): long after any ledger answers.
const RECONCILE_AFTER_NS: u64 = 10 * crate::time::MINUTE_NS;

/// The ledger new payments go through; `None`: the market runs free.
pub fn ledger() -> Option<Principal> {
    crate::config::get().ledger
}

/// The ledger execution `id` pays through: the one it already paid with (a later change of
/// the market's ledger, or payments switched off, does not move it), else the market's.
pub fn ledger_for(execution_id: u64) -> Option<Principal> {
    store::payment(execution_id)
        .map(|p| p.ledger)
        .or_else(ledger)
}

/// The escrow account of execution `id`: the canister's subaccount `b"escrow"`, then zeros,
/// then the id (8 bytes, big-endian).
pub fn escrow(canister: Principal, id: u64) -> Account {
    let mut subaccount: Subaccount = [0; 32];
    subaccount[..6].copy_from_slice(b"escrow");
    subaccount[24..].copy_from_slice(&id.to_be_bytes());
    Account {
        owner: canister,
        subaccount: Some(subaccount),
    }
}

/// A transfer's memo: `mkt`, its purpose, the execution and its place in the execution's list
/// of pulls or transfers out; so every transfer of the market is unique and says what it is.
fn memo(execution_id: u64, purpose: Purpose, index: usize) -> Memo {
    let mut bytes = b"mkt".to_vec();
    bytes.push(purpose as u8);
    bytes.extend(execution_id.to_be_bytes());
    bytes.extend((index as u32).to_be_bytes());
    Memo::from(bytes)
}

/// What the escrow holds by the payment's record: pulls done, less transfers out done and
/// their fees. The ledger's balance of the escrow always equals it when no transfer is on its
/// way (the conservation rule).
pub fn expected_escrow(payment: &Payment) -> u128 {
    let paid: u128 = payment
        .pulls
        .iter()
        .filter(|pull| pull.done)
        .map(|pull| u128::from(pull.amount))
        .sum();
    let spent: u128 = payment
        .transfers
        .iter()
        .filter(|transfer| transfer.done)
        .map(|transfer| u128::from(transfer.amount) + u128::from(transfer.fee))
        .sum();
    paid.saturating_sub(spent)
}

/// What the escrow holds of deposits: the done pulls of a hold's deposit.
pub fn deposits(payment: &Payment) -> u128 {
    payment
        .pulls
        .iter()
        .filter(|pull| pull.done && pull.purpose == Purpose::Deposit)
        .map(|pull| u128::from(pull.amount))
        .sum()
}

/// `PaymentInProgress` while a pull or refund of execution `id` is on its way to the ledger.
pub fn check_settled_in(execution_id: u64) -> Result<(), super::MarketError> {
    match store::payment(execution_id).map(|p| p.state) {
        None | Some(PaymentState::Funded | PaymentState::Settled) => Ok(()),
        Some(_) => Err(super::MarketError::PaymentInProgress { execution_id }),
    }
}

/// The deposit execution `id`'s escrow holds for it (0 without one): what `accept` need not
/// pull again. Only while funded: a pull or refund on its way counts nothing yet.
pub fn deposit_held(execution_id: u64) -> u64 {
    store::payment(execution_id)
        .filter(|p| p.state == PaymentState::Funded)
        .map_or(0, |p| clamp(deposits(&p).min(expected_escrow(&p))))
}

/// `n` as a u64, `u64::MAX` past it.
fn clamp(n: u128) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// The rule `escrow_covers_its_transfers`: a payment's record is coherent: only the last pull
/// can be unanswered, and only while `Pulling`; the transfers out planned never add up to more
/// than the pulls brought in; a settled payment has nothing left to send.
pub fn check_record(execution_id: u64, payment: &Payment) -> Result<(), String> {
    let unanswered = payment.pulls.iter().filter(|pull| !pull.done).count();
    let last_open = payment.pulls.last().is_some_and(|pull| !pull.done);
    if (payment.state == PaymentState::Pulling) != (unanswered == 1 && last_open) || unanswered > 1
    {
        return Err(format!(
            "execution {execution_id}: {unanswered} unanswered pulls in state {:?}",
            payment.state
        ));
    }
    let paid: u128 = payment
        .pulls
        .iter()
        .filter(|p| p.done)
        .map(|p| u128::from(p.amount))
        .sum();
    let planned: u128 = payment
        .transfers
        .iter()
        .map(|t| u128::from(t.amount) + u128::from(t.fee))
        .sum();
    if planned > paid {
        return Err(format!(
            "execution {execution_id}: transfers out of {planned} from an escrow paid {paid}"
        ));
    }
    if payment.state == PaymentState::Settled && payment.transfers.iter().any(|t| !t.done) {
        return Err(format!(
            "execution {execution_id}: settled with a transfer not done"
        ));
    }
    Ok(())
}

/// Conservation, against the ledger: the escrow's `balance` is what its record says it holds.
/// Only when no transfer of it is on its way (a test between steps, a drill once idle).
pub fn conserved(payment: &Payment, balance: u128) -> bool {
    balance == expected_escrow(payment)
}

/// A new payment of execution `id`: the market's fee and treasury as they are now, so a
/// later policy change does not reach leases already paid.
fn new_payment(ledger: Principal, canister: Principal, execution_id: u64) -> Payment {
    // As stored: these two need no defaults, nor the currency `policy::get` adds.
    let policies = store::policies();
    Payment {
        ledger,
        escrow: escrow(canister, execution_id),
        state: PaymentState::Funded,
        pulls: vec![],
        transfers: vec![],
        waived: false,
        market_fee_basis_points: policies.market_fee_basis_points.unwrap_or(0),
        treasury: policies.treasury,
    }
}

/// What the consumer pays the provider (and the market) for a final execution: the price of
/// the time until the lease's end (`total_price`, kept by early ends and reclaims) when it
/// completed or the consumer cancelled it while it ran; nothing when it never ran, failed,
/// or a controller cancelled it (`waived`), and never more than the escrow holds.
pub fn charge(execution: &Execution, payment: &Payment) -> u64 {
    if payment.waived || !matches!(execution.phase, Completed | Cancelled) {
        return 0;
    }
    let held = clamp(expected_escrow(payment));
    execution.total_price.min(held)
}

/// Called by every phase change (`execution::transition`): a lease that ends before it ran,
/// or fails, owes nothing; a final one settles. Schedules without a runtime: the batch or
/// message that made the change re-arms the timer (`queue::rearm`).
pub fn on_transition(now: u64, execution: &Execution, from: Phase, to: Phase) {
    let Some(mut payment) = store::payment(execution.id) else {
        return;
    };
    // A lease that failed while it ran owes nothing; one whose server was not cleaned after it
    // ran to its end (RELEASING → FAILED) was used, and pays.
    let never_used = to == Cancelled && matches!(from, Accepted | Waiting);
    let broke = to == Failed && from != Releasing;
    if !payment.waived && (never_used || broke) {
        payment.waived = true;
        store::put_payment(execution.id, &payment);
    }
    if to.is_final() {
        queue::schedule_later(
            now,
            Task::Settle {
                execution_id: execution.id,
            },
        );
    }
}

/// A controller's cancel: the lease owes nothing.
pub fn waive(execution_id: u64) {
    if let Some(mut payment) = store::payment(execution_id) {
        payment.waived = true;
        store::put_payment(execution_id, &payment);
    }
}

/// Whether execution `id` has money still to move (its record must stay until it has).
pub fn unsettled(execution_id: u64) -> bool {
    store::payment(execution_id).is_some_and(|p| p.state != PaymentState::Settled)
}

/// The payment of execution `id`, or `None` (a free execution, or one taken out), for its
/// consumer, its provider's delegates and controllers (as `execution_get`).
pub fn get(
    rt: &impl crate::runtime::Runtime,
    execution_id: u64,
) -> Result<Option<Payment>, super::MarketError> {
    super::lease::get(rt, execution_id)?;
    Ok(store::payment(execution_id))
}

/// Where the provider's share goes: the account its key named, else that key's principal.
fn payout_account(execution: &Execution) -> Option<Account> {
    super::payouts::account_for(&execution.provider_pem)
}

fn save(execution_id: u64, payment: &Payment) {
    store::put_payment(execution_id, payment);
}

thread_local! {
    /// Executions whose pull this wasm instance is awaiting. Heap only: an upgrade waits for
    /// every call to come back, and a trap after the await drops the guard in its cleanup.
    static PULLS_IN_FLIGHT: RefCell<BTreeSet<u64>> = const { RefCell::new(BTreeSet::new()) };
}

/// Held while a pull's answer is awaited.
struct InFlight(u64);

impl InFlight {
    fn take(execution_id: u64) -> Self {
        PULLS_IN_FLIGHT.with_borrow_mut(|set| set.insert(execution_id));
        Self(execution_id)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        PULLS_IN_FLIGHT.with_borrow_mut(|set| set.remove(&self.0));
    }
}

fn in_flight(execution_id: u64) -> bool {
    PULLS_IN_FLIGHT.with_borrow(|set| set.contains(&execution_id))
}

#[cfg(test)]
pub(crate) mod native_ledger;
#[cfg(test)]
mod tests;
