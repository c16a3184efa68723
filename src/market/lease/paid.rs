//! The consumer's requests that cost money, when the market has a ledger: the price (less a
//! hold's deposit already paid, or the extension's extra) is pulled into the execution's escrow
//! first, then the request runs as in a free market.
//!
//! Each asks the ledger first, writing nothing, whether the consumer can pay
//! (`payments::afford`), so a consumer without allowance or money is refused with the state
//! exactly as it was. The world may move during the ledger's awaits, so each checks everything
//! again once paid; if it cannot go on, the pull goes back (`refund_last_pull`).

use super::requests::{accept_checks, extend_checks, extended_price, hold_by_sku, match_by_sku};
use super::{accept, extend};
use crate::market::payments;
use crate::market::types::*;
use crate::market::{execution, policy, MarketError};
use crate::queue::{self, Task};
use crate::runtime::Runtime;
use crate::time::SECOND_NS;

/// `execution_accept`: with a ledger, the lease's price is pulled first (the consumer approved
/// the market for it: `icrc2_approve`); without one, [`accept`].
pub async fn accept_paying(rt: &impl Runtime, arg: AcceptArg) -> Result<Execution, MarketError> {
    let Some(ledger) = payments::ledger_for(arg.execution_id) else {
        return accept(rt, arg);
    };
    let (execution, _, _) = accept_checks(rt, &arg)?;
    // A hold's deposit already in the escrow counts toward the price: not while it (or a
    // refund) is on its way, or the price would be asked in full and the deposit besides.
    payments::check_settled_in(execution.id)?;
    let owed = || {
        execution
            .total_price
            .saturating_sub(payments::deposit_held(execution.id))
    };
    if owed() == 0 {
        return accept(rt, arg);
    }
    let fee = payments::afford(rt, ledger, execution.consumer, owed()).await?;
    // Read again after the awaits, with none before the pull.
    let price = owed();
    if price == 0 {
        return accept(rt, arg);
    }
    // Not checked again before the pull: the execution's consumer and price cannot change, a
    // second pull is refused by the payment's own state, and whatever else moved meanwhile is
    // caught by `accept` after the pull, which then gives the money back.
    let id = execution.id;
    payments::pull(rt, ledger, &execution, Purpose::Price, price, fee).await?;
    accept(rt, arg).inspect_err(|_| payments::refund_last_pull(rt, id))
}

/// `lease_by_sku`: with a ledger, the cheapest fitting offer is held, its price pulled, then
/// accepted; a refused pull releases the hold at once. Without one, [`super::lease_by_sku`].
pub async fn lease_by_sku_paying(
    rt: &impl Runtime,
    arg: LeaseBySkuArg,
) -> Result<Execution, MarketError> {
    let Some(ledger) = payments::ledger() else {
        return super::lease_by_sku(rt, arg);
    };
    let (chosen, _) = match_by_sku(rt, &arg)?;
    let fee = payments::afford(rt, ledger, rt.caller(), chosen.price()).await?;
    // Held as long as an offerset's hold, so it outlives the ledger's answer; should this
    // message trap after the await, the queue's end task lets the hold go at that time.
    let now = rt.time();
    let ttl = policy::get().offer_ttl_seconds.saturating_mul(SECOND_NS);
    let expires_at_ns = now.saturating_add(ttl);
    let (execution, key) = hold_by_sku(rt, arg, expires_at_ns)?;
    let id = execution.id;
    queue::schedule(rt, expires_at_ns, Task::EndLease { execution_id: id });
    if execution.total_price > 0 {
        let price = execution.total_price;
        let paid = payments::pull(rt, ledger, &execution, Purpose::Price, price, fee).await;
        if let Err(refused) = paid {
            let mut held = execution::get(id)?;
            if held.phase == Phase::Offered {
                let actor = Actor::Consumer(held.consumer);
                let why = "the payment was refused";
                execution::transition(rt.time(), &actor, &mut held, Phase::Rejected, why)?;
            }
            return Err(refused);
        }
    }
    let arg = AcceptArg {
        execution_id: id,
        lessee_key: Some(key),
        lessee_key_hex: None,
    };
    accept(rt, arg).inspect_err(|_| payments::refund_last_pull(rt, id))
}

/// `lease_extend`: with a ledger, the extension's extra price is pulled first; without one,
/// [`extend`].
pub async fn extend_paying(rt: &impl Runtime, arg: ExtendArg) -> Result<Execution, MarketError> {
    // A lease paid before payments were switched off pays its extensions the same way.
    let Some(ledger) = payments::ledger_for(arg.execution_id) else {
        return extend(rt, arg);
    };
    let extra = |execution: &Execution, new_end| {
        extended_price(execution, new_end).saturating_sub(execution.total_price)
    };
    let (execution, new_end) = extend_checks(rt, &arg)?;
    if extra(&execution, new_end) == 0 {
        return extend(rt, arg);
    }
    let fee = payments::afford(rt, ledger, execution.consumer, extra(&execution, new_end)).await?;
    let (execution, new_end) = extend_checks(rt, &arg)?;
    let id = execution.id;
    let price = extra(&execution, new_end);
    payments::pull(rt, ledger, &execution, Purpose::Extension, price, fee).await?;
    extend(rt, arg).inspect_err(|_| payments::refund_last_pull(rt, id))
}
