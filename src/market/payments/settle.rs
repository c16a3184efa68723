//! Settlement: the queue's `Settle` task moves an execution's escrow out once nothing more can
//! be owed (refund, payout, the market's fee), and answers for pulls whose message trapped.

use super::*;
use crate::ledger;
use crate::runtime::Runtime;
use crate::time::MINUTE_NS;
use candid::Nat;
use icrc_ledger_types::icrc1::transfer::{TransferArg, TransferError};

/// How long before a settlement the ledger could not finish is tried again.
const RETRY_NS: u64 = 5 * MINUTE_NS;

/// Sends of one run at most: a plan has three transfers; a new fee replans once.
const MAX_SENDS_PER_RUN: usize = 8;

thread_local! {
    /// Executions a settlement future of this instance is working on: another `Settle` task
    /// for one of them leaves it alone (the running one has queued its own follow-up).
    static SETTLING: RefCell<BTreeSet<u64>> = const { RefCell::new(BTreeSet::new()) };
}

struct Running(u64);

impl Drop for Running {
    fn drop(&mut self) {
        SETTLING.with_borrow_mut(|set| set.remove(&self.0));
    }
}

/// The queue's `Settle` task (run in its own future): brings the payment of `execution_id` as
/// far as the ledger lets it. Before its first await it queues a follow-up, so a run cut short
/// (a trap, the ledger down) is picked up later; a follow-up with nothing left to do costs a
/// read.
pub async fn settle(rt: &impl Runtime, execution_id: u64) {
    let Some(payment) = store::payment(execution_id) else {
        return;
    };
    if !work_due(execution_id, &payment) {
        return;
    }
    if in_flight(execution_id) || !SETTLING.with_borrow_mut(|set| set.insert(execution_id)) {
        // A pull's answer, or another run, is on its way; the backstop comes back later.
        queue::schedule(
            rt,
            rt.time().saturating_add(RETRY_NS),
            Task::Settle { execution_id },
        );
        return;
    }
    let _running = Running(execution_id);
    let follow_up = rt.time().saturating_add(RETRY_NS);
    queue::schedule(rt, follow_up, Task::Settle { execution_id });
    let mut sends = 0;
    while sends < MAX_SENDS_PER_RUN {
        match step(rt, execution_id).await {
            Step::Sent => sends += 1,
            Step::Again => {}
            Step::Done | Step::Wait => return,
        }
    }
}

/// Whether the payment has something for the ledger to do: a pull to answer for, a refund, a
/// settlement under way, or money in the escrow of an execution no lease will use (a final
/// one, or an offer whose accept could not go on after its pull; an open hold with a deposit
/// keeps its escrow until it ends).
/// Reads the execution only for a funded payment.
fn work_due(execution_id: u64, payment: &Payment) -> bool {
    match payment.state {
        PaymentState::Pulling | PaymentState::Refunding | PaymentState::Settling => true,
        PaymentState::Funded => store::execution(execution_id).is_none_or(|e| {
            // An open hold keeps its escrow, deposit and all, until it ends.
            e.phase.is_final() || (e.phase == Phase::Offered && deposits(payment) == 0)
        }),
        PaymentState::Settled => false,
    }
}

enum Step {
    /// A transfer went to the ledger (whatever it answered).
    Sent,
    /// The state moved on without the ledger: look again.
    Again,
    /// Nothing left to do now.
    Done,
    /// The ledger cannot finish it now: the follow-up tries again.
    Wait,
}

async fn step(rt: &impl Runtime, execution_id: u64) -> Step {
    let Some(mut payment) = store::payment(execution_id) else {
        return Step::Done;
    };
    match payment.state {
        PaymentState::Settled => Step::Done,
        PaymentState::Pulling => reconcile_pull(rt, execution_id, payment).await,
        PaymentState::Funded => {
            if !work_due(execution_id, &payment) {
                return Step::Done;
            }
            plan(rt, execution_id, payment, None).await
        }
        PaymentState::Refunding => {
            let last = payment.pulls.last().map_or(0, |pull| pull.amount);
            if payment.transfers.iter().all(|t| t.done) {
                return plan(rt, execution_id, payment, Some(last)).await;
            }
            send_next(rt, execution_id, payment).await
        }
        PaymentState::Settling => {
            if payment.transfers.iter().all(|t| t.done) {
                payment.state = PaymentState::Settled;
                save(execution_id, &payment);
                return Step::Done;
            }
            send_next(rt, execution_id, payment).await
        }
    }
}

/// Plans the transfers out: of `refund` only (a refused attempt's pull, state `Refunding`), or
/// of everything the escrow holds (`None`: the execution is over). The ledger's fee is asked
/// first; each transfer pays it out of its share.
async fn plan(rt: &impl Runtime, execution_id: u64, payment: Payment, refund: Option<u64>) -> Step {
    let fee = match ledger::fee(rt, payment.ledger).await {
        Ok(fee) => clamp(fee),
        Err(_) => return Step::Wait,
    };
    // Re-read after the await: a pull, even an accept, may have landed meanwhile.
    let Some(mut payment) = store::payment(execution_id) else {
        return Step::Done;
    };
    let expected = if refund.is_some() {
        PaymentState::Refunding
    } else {
        PaymentState::Funded
    };
    if payment.state != expected || !work_due(execution_id, &payment) {
        return Step::Again;
    }
    let now = rt.time();
    let shares = match (refund, store::execution(execution_id)) {
        (Some(amount), _) => vec![(Purpose::Refund, consumer_account(&payment), amount)],
        (None, Some(execution)) => final_shares(&execution, &payment),
        // Taken out by retention, which keeps unsettled payments: never here.
        (None, None) => return Step::Done,
    };
    for (purpose, account, share) in with_dust_folded(shares, fee) {
        payment
            .transfers
            .push(planned(purpose, account, share, fee, now));
    }
    if refund.is_some() {
        // Refunding stays until its transfer is done; then Funded again (see `send_next`).
        if payment.transfers.iter().all(|t| t.done) {
            payment.state = PaymentState::Funded;
        }
    } else {
        payment.state = PaymentState::Settling;
    }
    save(execution_id, &payment);
    Step::Again
}

/// A transfer out of `share` (more than `fee`, which it pays), not sent yet.
fn planned(purpose: Purpose, account: Account, share: u64, fee: u64, now: u64) -> LedgerTransfer {
    LedgerTransfer {
        purpose,
        account,
        amount: share - fee,
        fee,
        created_at_time: now,
        block: None,
        done: false,
    }
}

/// The shares worth a transfer: one too small to pay the ledger's fee goes with the largest
/// share instead (all of it stays in the escrow when no share is large enough).
fn with_dust_folded(
    shares: Vec<(Purpose, Account, u64)>,
    fee: u64,
) -> Vec<(Purpose, Account, u64)> {
    let (small, mut sendable): (Vec<_>, Vec<_>) =
        shares.into_iter().partition(|(_, _, share)| *share <= fee);
    let dust: u64 = small.iter().map(|(_, _, share)| share).sum();
    if let Some(largest) = sendable.iter_mut().max_by_key(|(_, _, share)| *share) {
        largest.2 += dust;
    }
    sendable
}

/// The consumer's, provider's and market's shares of what the escrow holds, at the market's
/// fee when the lease was first paid.
fn final_shares(execution: &Execution, payment: &Payment) -> Vec<(Purpose, Account, u64)> {
    let held = clamp(expected_escrow(payment));
    let charged = charge(execution, payment);
    let basis_points = u128::from(payment.market_fee_basis_points);
    let market_fee = match payment.treasury {
        Some(_) => (u128::from(charged) * basis_points / 10_000) as u64,
        None => 0,
    };
    let mut shares = vec![(Purpose::Refund, consumer_account(payment), held - charged)];
    if let Some(provider) = payout_account(execution) {
        shares.push((Purpose::Payout, provider, charged - market_fee));
    }
    if let Some(treasury) = payment.treasury {
        shares.push((Purpose::MarketFee, treasury, market_fee));
    }
    shares
}

/// Refunds go back to the account the first pull came from.
fn consumer_account(payment: &Payment) -> Account {
    payment
        .pulls
        .first()
        .map(|pull| pull.account)
        .unwrap_or(Account {
            owner: Principal::anonymous(),
            subaccount: None,
        })
}

/// Sends the first transfer not done yet, unchanged from its plan, and records the answer.
async fn send_next(rt: &impl Runtime, execution_id: u64, payment: Payment) -> Step {
    let Some(index) = payment.transfers.iter().position(|t| !t.done) else {
        return Step::Again;
    };
    let transfer = payment.transfers[index].clone();
    let arg = TransferArg {
        from_subaccount: payment.escrow.subaccount,
        to: transfer.account,
        fee: Some(Nat::from(transfer.fee)),
        created_at_time: Some(transfer.created_at_time),
        memo: Some(memo(execution_id, transfer.purpose, index)),
        amount: Nat::from(transfer.amount),
    };
    let answer = ledger::transfer(rt, payment.ledger, &arg).await;
    let outcome = match answer {
        Ok(Ok(block)) => Outcome::Done(Some(block)),
        Ok(Err(TransferError::Duplicate { duplicate_of })) => {
            Outcome::Done(Some(ledger::saturating_u64(&duplicate_of)))
        }
        // The ledger checks the fee before it looks for a duplicate, as it checks the window:
        // a repeat of a transfer whose answer was lost gets `BadFee` once the fee changed, or
        // `TooOld` a day later. The escrow's balance says whether this transfer happened.
        Ok(Err(
            refusal @ (TransferError::BadFee { .. }
            | TransferError::InsufficientFunds { .. }
            | TransferError::TooOld),
        )) => match ledger::balance_of(rt, payment.ledger, &payment.escrow).await {
            Ok(balance) => match (reconciled(&payment, balance), refusal) {
                (Outcome::Resend, TransferError::BadFee { expected_fee }) => {
                    Outcome::Replan(ledger::saturating_u64(&expected_fee))
                }
                (outcome, _) => outcome,
            },
            Err(_) => Outcome::Wait,
        },
        Ok(Err(_)) | Err(_) => Outcome::Wait,
    };
    // Re-read after the awaits: another run may have recorded this transfer meanwhile.
    let mut payment = match store::payment(execution_id) {
        Some(read) if read.transfers.get(index) == Some(&transfer) => read,
        Some(_) => return Step::Again,
        None => return Step::Done,
    };
    let now = rt.time();
    match outcome {
        Outcome::Done(block) => {
            let recorded = &mut payment.transfers[index];
            recorded.done = true;
            recorded.block = block;
            if payment.state == PaymentState::Refunding && payment.transfers.iter().all(|t| t.done)
            {
                payment.state = PaymentState::Funded;
            }
        }
        Outcome::Resend => payment.transfers[index].created_at_time = now,
        Outcome::Replan(fee) => {
            // The ledger's fee changed: every transfer not done is planned again with it (a
            // share now too small goes with the largest, as in `plan`).
            let (done, open): (Vec<_>, Vec<_>) = payment.transfers.drain(..).partition(|t| t.done);
            let shares = open
                .iter()
                .map(|t| (t.purpose, t.account, t.amount.saturating_add(t.fee)))
                .collect();
            payment.transfers = done;
            for (purpose, account, share) in with_dust_folded(shares, fee) {
                payment
                    .transfers
                    .push(planned(purpose, account, share, fee, now));
            }
        }
        Outcome::Wait => return Step::Wait,
    }
    save(execution_id, &payment);
    Step::Sent
}

enum Outcome {
    Done(Option<u64>),
    /// Not done, and its old `created_at_time` is too old to send again.
    Resend,
    Replan(u64),
    Wait,
}

/// What the escrow's `balance` says of `transfer`. Only this execution's transfers take from
/// its escrow, one at a time, so a balance below what the record holds before it means it
/// happened. Anyone may send money to the escrow, so a balance at or above means it did not,
/// or someone's deposit covers it: sending it again takes nothing the record counts on.
fn reconciled(payment: &Payment, balance: u128) -> Outcome {
    if balance < expected_escrow(payment) {
        Outcome::Done(None)
    } else {
        Outcome::Resend
    }
}

/// A pull whose message trapped after the ledger answered (or before it did): the escrow's
/// balance says whether it went through.
async fn reconcile_pull(rt: &impl Runtime, execution_id: u64, payment: Payment) -> Step {
    let Some(pull) = payment.pulls.last().cloned() else {
        return Step::Done;
    };
    let balance = match ledger::balance_of(rt, payment.ledger, &payment.escrow).await {
        Ok(balance) => balance,
        Err(_) => return Step::Wait,
    };
    // Re-read: the same unanswered pull, still nobody awaiting it.
    let Some(mut payment) = store::payment(execution_id) else {
        return Step::Done;
    };
    if payment.state != PaymentState::Pulling
        || in_flight(execution_id)
        || payment.pulls.last() != Some(&pull)
    {
        return Step::Again;
    }
    let index = payment.pulls.len() - 1;
    // Only the consumer's pulls add to the escrow, but anyone may send to it: at least the
    // pull's amount more than the record holds means it went through.
    if balance >= expected_escrow(&payment) + u128::from(pull.amount) {
        payment.pulls[index].done = true;
        payment.state = if pull.purpose == Purpose::Deposit {
            // Nothing follows a hold's deposit: kept while the hold stands, refunded after.
            PaymentState::Funded
        } else {
            // Whatever was to follow it did not happen: it goes back.
            PaymentState::Refunding
        };
    } else {
        payment.pulls.truncate(index);
        payment.state = PaymentState::Funded;
    }
    save(execution_id, &payment);
    Step::Again
}
