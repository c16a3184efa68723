//! Pulls: the consumer's money into an execution's escrow, before `accept` or `lease_extend`
//! changes anything.

use super::*;
use crate::ledger::{self, CallFailure};
use crate::market::MarketError;
use crate::runtime::Runtime;
use candid::Nat;
use icrc_ledger_types::icrc2::transfer_from::{TransferFromArgs, TransferFromError};

/// Pulls `price` from the consumer's default account (who pays `fee`, the ledger's, on top) into execution
/// `execution_id`'s escrow through `icrc2_transfer_from`; the consumer pays the ledger's fee.
/// Returns once the ledger answered: `Ok` when the money is in the escrow. A refusal (no
/// allowance, no balance, the ledger down) is a typed error and leaves the payment as it was;
/// the caller asks [`afford`] first, so the first two are usually found before anything is
/// written. A second pull of the same execution while this one waits is `PaymentInProgress`.
///
/// The caller has checked everything else first, with no await since, and checks again after
/// (the execution may have moved during the await); if it then cannot go on,
/// [`refund_last_pull`] gives the money back.
pub async fn pull(
    rt: &impl Runtime,
    ledger_id: Principal,
    execution: &Execution,
    purpose: Purpose,
    price: u64,
    fee: u64,
) -> Result<(), MarketError> {
    let now = rt.time();
    let execution_id = execution.id;
    let canister = rt.canister_id();
    let mut payment = store::payment(execution_id)
        .unwrap_or_else(|| new_payment(ledger_id, canister, execution_id));
    // Settled: an earlier attempt's money went back; this is a new one.
    if !matches!(payment.state, PaymentState::Funded | PaymentState::Settled) {
        return Err(MarketError::PaymentInProgress { execution_id });
    }
    if payment.pulls.len() >= MAX_PULLS {
        return Err(MarketError::TooMany {
            what: "payments of one execution".into(),
            max: MAX_PULLS as u32,
        });
    }
    let from = Account {
        owner: execution.consumer,
        subaccount: None,
    };
    let index = payment.pulls.len();
    let arg = TransferFromArgs {
        spender_subaccount: None,
        from,
        to: payment.escrow,
        amount: Nat::from(price),
        fee: None,
        memo: Some(memo(execution_id, purpose, index)),
        created_at_time: Some(now),
    };
    let ledger_id = payment.ledger;
    payment.pulls.push(LedgerTransfer {
        purpose,
        account: from,
        amount: price,
        fee,
        created_at_time: now,
        block: None,
        done: false,
    });
    payment.state = PaymentState::Pulling;
    save(execution_id, &payment);
    // Should the rest of this message trap after the await, the queue finds the pull
    // unanswered and asks the escrow's balance what happened.
    let reconcile_at = now.saturating_add(RECONCILE_AFTER_NS);
    let backstop = queue::schedule_cancellable(rt, reconcile_at, Task::Settle { execution_id });
    let _guard = InFlight::take(execution_id);

    let answer = ledger::transfer_from(rt, ledger_id, &arg).await;

    // Retention keeps an execution whose payment is not settled, so the record is there.
    let Some(mut payment) = store::payment(execution_id) else {
        return Err(MarketError::UnknownExecution { id: execution_id });
    };
    let result = match answer {
        Ok(Ok(block)) => {
            let pull = &mut payment.pulls[index];
            pull.block = Some(block);
            pull.done = true;
            Ok(())
        }
        Ok(Err(refusal)) => {
            payment.pulls.truncate(index);
            Err(refused(refusal, price))
        }
        // An unbounded-wait call's reject means the ledger did not take it.
        Err(CallFailure::Rejected(reject)) => {
            payment.pulls.truncate(index);
            Err(MarketError::PaymentFailed {
                message: format!("the ledger did not take it: {}", reject.message),
            })
        }
        // Taken or not, nobody knows: the pull stays unanswered and the queue's backstop asks
        // the escrow's balance (and gives back whatever was taken).
        Err(unreadable @ CallFailure::Unreadable(_)) => {
            return Err(MarketError::PaymentFailed {
                message: format!(
                    "{unreadable}; the market checks its escrow and returns anything taken"
                ),
            });
        }
    };
    // Answered: what follows is recorded in this message (a trap undoes this cancel too).
    queue::cancel(rt, backstop);
    payment.state = PaymentState::Funded;
    if payment.pulls.is_empty() && payment.transfers.is_empty() {
        store::remove_payment(execution_id);
    } else {
        save(execution_id, &payment);
    }
    result
}

/// Asks the ledger, writing nothing, whether `consumer` can pay `price` plus the fee (which it
/// returns): its allowance for the market and its balance. So the common refusals leave the canister's
/// state exactly as it was (the ledger may still refuse the pull itself; see [`pull`]).
pub async fn afford(
    rt: &impl Runtime,
    ledger_id: Principal,
    consumer: Principal,
    price: u64,
) -> Result<u64, MarketError> {
    afford_each(rt, ledger_id, consumer, price, 1).await
}

/// [`afford`] for `count` pulls of `each` (an offerset's deposits), each with its fee.
pub async fn afford_each(
    rt: &impl Runtime,
    ledger_id: Principal,
    consumer: Principal,
    each: u64,
    count: u64,
) -> Result<u64, MarketError> {
    let unavailable = |e: CallFailure| MarketError::PaymentFailed {
        message: e.to_string(),
    };
    let fee = match currency().and_then(|c| c.fee) {
        Some(fee) => u128::from(fee),
        None => ledger::fee(rt, ledger_id).await.map_err(unavailable)?,
    };
    let needed = (u128::from(each) + fee) * u128::from(count);
    let owner = Account {
        owner: consumer,
        subaccount: None,
    };
    let spender = Account {
        owner: rt.canister_id(),
        subaccount: None,
    };
    let allowance = ledger::allowance(rt, ledger_id, owner, spender)
        .await
        .map_err(unavailable)?;
    if allowance < needed {
        return Err(MarketError::InsufficientAllowance {
            allowance: clamp(allowance),
            needed: clamp(needed),
        });
    }
    let balance = ledger::balance_of(rt, ledger_id, &owner)
        .await
        .map_err(unavailable)?;
    if balance < needed {
        return Err(MarketError::InsufficientFunds {
            balance: clamp(balance),
            needed: clamp(needed),
        });
    }
    Ok(clamp(fee))
}

/// The last pull went through but what it paid for cannot happen (the execution moved during
/// the await): its amount goes back to the consumer, through the queue, at once.
pub fn refund_last_pull(rt: &impl Runtime, execution_id: u64) {
    let Some(mut payment) = store::payment(execution_id) else {
        return;
    };
    if payment.pulls.last().is_none_or(|pull| !pull.done) {
        return;
    }
    payment.state = PaymentState::Refunding;
    save(execution_id, &payment);
    queue::schedule(rt, rt.time(), Task::Settle { execution_id });
}

/// The ledger's refusal as the caller's typed error (the allowance or balance moved between
/// [`afford`] and the pull).
fn refused(refusal: TransferFromError, price: u64) -> MarketError {
    let needed = price.saturating_add(currency().and_then(|c| c.fee).unwrap_or(0));
    match refusal {
        TransferFromError::InsufficientFunds { balance } => MarketError::InsufficientFunds {
            balance: ledger::saturating_u64(&balance),
            needed,
        },
        TransferFromError::InsufficientAllowance { allowance } => {
            MarketError::InsufficientAllowance {
                allowance: ledger::saturating_u64(&allowance),
                needed,
            }
        }
        other => MarketError::PaymentFailed {
            message: format!("the ledger refused the payment: {other:?}"),
        },
    }
}
